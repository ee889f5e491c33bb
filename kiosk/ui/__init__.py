"""The touchscreen app: thin Kivy screens over ``DoorDesk``.

Importing this package does not import Kivy: ``kiosk.ui.status``, ``kiosk.ui.timers``,
``kiosk.ui.worker`` and ``kiosk.ui.words`` are plain Python (and tested without a window). The
app itself is ``kiosk.ui.kioskapp.KioskApp``; ``kiosk.app.main`` wires it to a store, a reader
and feedback.
"""
