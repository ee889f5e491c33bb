"""The touchscreen app: thin Kivy screens over ``DoorDesk``.

Importing this package does not import Kivy: ``kiosk.ui.status``, ``kiosk.ui.timers``,
``kiosk.ui.worker``, ``kiosk.ui.words`` and ``kiosk.ui.bidi`` are plain Python (and tested
without a window). The app itself is ``kiosk.ui.kioskapp.KioskApp``; ``kiosk.app.main`` wires it
to a store, a reader and feedback. What the screens call is in ``kiosk.ui.controllers``, one
controller per job (the door, languages, volunteer mode, registration, ...).

Languages: every word on screen comes from ``kiosk.i18n`` (gettext catalogues in
``kiosk/locale``); ``kiosk.ui.lang`` makes the .kv files follow a change of language and mirror
for Urdu, and ``kiosk.ui.shaping`` draws Urdu (joined, right to left) with Kivy's SDL2 text.
"""
