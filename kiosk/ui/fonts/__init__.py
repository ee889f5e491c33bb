"""Fonts the kiosk ships: Doorstep Naskh, for Urdu (SIL Open Font License 1.1: see OFL.txt).

A package only so that the fonts are installed with the kiosk (``*.ttf`` package data).
"""
