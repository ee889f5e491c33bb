"""What the screens call: the app's behaviour, one controller per job.

``KioskApp`` (``kiosk.ui.kioskapp``) is the composition root: it builds the screens, makes one of
each controller below and ticks them. Screens and ``.kv`` rules call a controller through the app
(``app.door.leave()``, ``app.cards.give(family)``); a controller holds its own state, reads and
writes through ``DoorDesk``, the store and the volunteer book on the app's worker thread, and
shows what happened on the screens.

- ``door``: a card tapped at the door, and the welcome and message screens that answer it;
- ``languages``: the language on screen (the kiosk's, a family's, a volunteer's);
- ``volunteer_mode``: the PIN, its lock, the idle lock, and going between volunteer screens;
- ``search``: the family picker's search;
- ``signin``: signing a family in by hand;
- ``cards``: giving a new card to a family, with an undo;
- ``registration``: a new family, one question per screen, kept as a draft;
- ``today``: today's register, signing families out and taking them off;
- ``sessions``: starting a session at the door;
- ``status``: the session, reader and connection lines.
"""
