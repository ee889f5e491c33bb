"""The kiosk's screens: the door (tap, welcome, messages) and volunteer mode.

One ``.py`` (properties and verbs) with one ``.kv`` (layout) per group of screens.
"""
