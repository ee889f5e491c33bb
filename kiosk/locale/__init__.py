"""The kiosk's gettext catalogues: ``<code>/LC_MESSAGES/kiosk.po`` and the compiled ``kiosk.mo``.

``python -m kiosk.locale.catalogues update`` extracts the words from ``kiosk/ui`` and brings every
``.po`` up to date; ``... compile`` writes the ``.mo`` files; ``... check`` lists any problem.
"""
