"""``kiosk``: start the touchscreen app, for real at the door or as a demo on any computer.

    kiosk --demo                                   # sample families, press 1-6 to tap a card
    kiosk --config /etc/doorstep/kiosk.toml --fullscreen

Demo mode makes a temporary data folder with sample families, their cards, a session on now and
a volunteer "Demo" with PIN 1234, and a fake card reader that the number keys tap (1-6 the
families' cards, 0 a new card no family has: the unknown-card and give-a-card flows). The
temporary folder is removed when the app closes; ``--data DIR`` keeps the demo in ``DIR``. It
runs on a laptop, a desktop, or a machine with no screen at all (SDL falls back to an offscreen
window; under Xvfb it uses the virtual display).

The settings come from the appliance's configuration file (``--config FILE``, else
``$KIOSK_CONFIG``, else ``/etc/doorstep/kiosk.toml`` when it is installed; see
:mod:`kiosk.config`): the data folder, the card reader and its wiring, the LED and buzzer.
``--data``, ``--reader`` and ``--feedback`` override it; with no file the built-in defaults hold.
The reader and feedback come from :func:`kiosk.config.hardware_settings`, as for ``kiosk-admin
reader test`` and ``doctor``, so what they check is what the app opens.

Under systemd (``Type=notify``) the app says ``READY=1`` once its first frame is on screen and
then ``WATCHDOG=1`` from Kivy's clock, so a UI thread that hangs gets the app restarted.

Kivy is imported only after the options are read, because its window settings must be made
before it starts.
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kiosk.config import CONFIG_ENV, DEFAULT_CONFIG, KioskConfig, find_config, hardware_settings
from kiosk.hardware.select import FEEDBACK_SWITCHES, READER_KINDS
from kiosk.i18n import DEFAULT_LANGUAGE, LANGUAGES
from sync.systemd import Notifier

log = logging.getLogger("kiosk.app")

DEFAULT_DATA = "/var/lib/doorstep"
DEFAULT_SIZE = (800, 480)  # the Raspberry Pi 7" touchscreen
#: How often the UI thread tells systemd it is alive (doorstep-kiosk.service: WatchdogSec=30).
WATCHDOG_PING_SECONDS = 10.0


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size like 800x480") from None
    if not (320 <= width <= 7680 and 240 <= height <= 4320):
        raise argparse.ArgumentTypeError(f"{text!r}: width and height look wrong")
    return width, height


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("the number of seconds must be more than 0")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiosk",
        description="The Doorstep check-in kiosk: families tap a card, volunteers help.",
    )
    from kiosk.demo import DEMO_VOLUNTEER, demo_keys_text

    parser.add_argument(
        "--demo",
        action="store_true",
        help=f"try it out: sample families in a temporary folder (removed at the end; --data "
        f"keeps one), {demo_keys_text()}, volunteer PIN {DEMO_VOLUNTEER[1]}",
    )
    parser.add_argument(
        "--config",
        default=None,
        metavar="FILE",
        help="the appliance's configuration: data folder, card reader, LED and buzzer "
        f"(default: ${CONFIG_ENV}, else {DEFAULT_CONFIG} when it exists, else built-in "
        "defaults)",
    )
    parser.add_argument(
        "--data",
        default=None,
        metavar="DIR",
        help="the kiosk's data folder (default: $KIOSK_DATA, else the config's [store] data, "
        f"else {DEFAULT_DATA}; a temporary folder in demo mode)",
    )
    parser.add_argument(
        "--reader",
        choices=READER_KINDS,
        default=None,
        help="the kind of card reader, wired as the config's [reader] says (default: the "
        "config's kind, else rc522; fake in demo mode)",
    )
    parser.add_argument(
        "--feedback",
        choices=FEEDBACK_SWITCHES,
        default=None,
        help="LED and buzzer on the GPIO pins the config's [feedback] names, or none (default: "
        "on or off as the config says, else gpio; none in demo mode)",
    )
    parser.add_argument(
        "--language",
        choices=[lang.code for lang in LANGUAGES],
        default=DEFAULT_LANGUAGE,
        help="the language the door speaks until a family chooses another "
        f"(default: {DEFAULT_LANGUAGE}; "
        + ", ".join(f"{lang.code} {lang.english_name}" for lang in LANGUAGES)
        + ")",
    )
    parser.add_argument("--fullscreen", action="store_true", help="fill the screen, no cursor")
    parser.add_argument(
        "--size",
        type=_size,
        default=DEFAULT_SIZE,
        metavar="WxH",
        help="window size when not full screen (default: 800x480)",
    )
    parser.add_argument(
        "--quit-after",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="close the app after this long (for checking that it starts)",
    )
    parser.add_argument(
        "--screenshot",
        default=None,
        metavar="PNG",
        help="with --quit-after: save a picture of the screen just before closing",
    )
    return parser


def configure_kivy(fullscreen: bool, size: tuple[int, int], demo: bool) -> None:
    """Kivy's settings, made before its window exists (and without it reading our argv)."""
    os.environ["KIVY_NO_ARGS"] = "1"
    os.environ.setdefault("KIVY_LOG_MODE", "MIXED")
    from kivy.config import Config

    Config.set("graphics", "width", str(size[0]))
    Config.set("graphics", "height", str(size[1]))
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("graphics", "show_cursor", "0" if fullscreen else "1")
    # A family leaning on a keyboard must not close the kiosk; in demo mode Escape quits.
    Config.set("kivy", "exit_on_escape", "1" if demo else "0")
    Config.set("input", "mouse", "mouse,disable_multitouch")


def _open_store(data: Path) -> Any:
    from kiosk.store import LocalStore

    store = LocalStore(data)
    if not hasattr(store, "data_dir"):
        store.data_dir = data  # kiosk.demo.seed_demo finds the volunteer book through it
    return store


def _reader_and_feedback(
    args: argparse.Namespace, config: KioskConfig | None
) -> tuple[Any, Any, Any, Any]:
    """(reader or None, its health if it failed to open, feedback, reader loop factory).

    The settings are the config file's with the command line's kind and on/off on top
    (:func:`kiosk.config.hardware_settings`); ``config`` None is the built-in defaults.
    """
    from kiosk.hardware.base import ReaderError, ReaderHealth
    from kiosk.hardware.feedback import NullFeedback
    from kiosk.hardware.select import describe_reader, open_feedback, open_reader
    from kiosk.hardware.taps import ReaderLoop

    reader_config, feedback_config = hardware_settings(
        config, reader=args.reader, feedback=args.feedback, demo=args.demo
    )
    fb = feedback_config
    log.info(
        "settings from %s: card reader %s; LED and buzzer %s",
        config.path if config else "the built-in defaults (no config file)",
        describe_reader(reader_config),
        f"on GPIO{fb.led_pin} and GPIO{fb.buzzer_pin}" if fb.enabled else "off",
    )
    factory = functools.partial(ReaderLoop, **reader_config.loop_options)
    reader, health = None, None
    try:
        reader = open_reader(reader_config)
    except (ImportError, ReaderError, OSError) as exc:
        # Keep the kiosk up: volunteers can still sign families in by hand.
        kind = reader_config.kind
        log.error("card reader %s could not be opened: %s", kind, exc)
        health = ReaderHealth.not_answering(kind, str(exc), time.time())
    try:
        feedback = open_feedback(feedback_config)
    except (ImportError, OSError, ValueError) as exc:
        log.warning("LED and buzzer not available (%s); carrying on without them", exc)
        feedback = NullFeedback()
    return reader, health, feedback, factory


def build_app(args: argparse.Namespace, config: KioskConfig | None = None) -> Any:
    """The app, wired to its data folder, reader and feedback (Kivy already configured).

    ``config`` is the checked configuration file (:func:`kiosk.config.find_config`), or None
    for the built-in defaults; the command line's options override it.
    """
    from kiosk.audit import AuditedStore, KioskAudit
    from kiosk.clock import clock_is_synchronised
    from kiosk.domain.desk import DoorDesk
    from kiosk.domain.events import DeviceIdentity
    from kiosk.identity import IdentityFile
    from kiosk.store.volunteers import VolunteerBook
    from kiosk.ui.kioskapp import KioskApp

    demo_cards: list[Any] = []
    if args.demo:
        from kiosk.demo import DEMO_VOLUNTEER, seed_demo

        data = Path(args.data or tempfile.mkdtemp(prefix="doorstep-demo-"))
        if not args.data:
            args.remove_when_done = data
        store = _open_store(data)
        # The demo's name until the folder is enrolled; an enrolment is picked up at once.
        desk = DoorDesk(store, IdentityFile(data, DeviceIdentity("demo-kiosk", "demo-site")))
        demo_cards = seed_demo(store, desk, datetime.now(UTC))
        kept = "kept" if args.data else "removed when the demo closes; --data DIR keeps one"
        print(f"Demo data folder: {data} ({kept})")
        for card in demo_cards:
            if getattr(card, "new_card", False):
                print(f"  press {card.key} to tap a new card (no family has it yet)")
            else:
                print(f"  press {card.key} to tap {card.greeting_name}'s card")
        print(f"  volunteer PIN: {DEMO_VOLUNTEER[1]} (press Volunteer on the screen)")
    else:
        data = Path(
            args.data
            or os.environ.get("KIOSK_DATA")
            or (config.store.data if config else DEFAULT_DATA)
        )
        store = _open_store(data)
        # What volunteers change goes to the audit log too (kiosk.audit); card taps do not.
        audited = AuditedStore(store, KioskAudit(data))
        # Until device.json exists (the unit writes it from [device]), the file's identity.
        configured = DeviceIdentity(config.device.id, config.device.site) if config else None
        desk = DoorDesk(audited, IdentityFile(data, configured), clock_synced=clock_is_synchronised)
        log.info("this kiosk is %s at site %s", desk.identity.device_id, desk.identity.site_id)
    reader, health, feedback, factory = _reader_and_feedback(args, config)
    app = KioskApp(
        desk,
        store,
        VolunteerBook(data),
        reader=reader,
        feedback=feedback,
        demo_cards=demo_cards,
        reader_loop_factory=factory,
        language=args.language,
    )
    if health is not None:
        app.show_reader_health(health)
    return app


def tell_systemd(app: Any, notifier: Notifier, every: float = WATCHDOG_PING_SECONDS) -> None:
    """``READY=1`` once the app's first frame is on screen, then ``WATCHDOG=1`` every ``every``
    seconds (or a third of systemd's ``WatchdogSec=``, if shorter) and ``STOPPING=1`` at the end.

    The pings are Kivy clock callbacks, so they run on the UI thread: if it hangs they stop,
    and systemd restarts the app. Without ``$NOTIFY_SOCKET`` (run by hand) nothing is sent.
    """
    if not notifier.available:
        return
    from kivy.clock import Clock

    if notifier.watchdog_period:
        every = min(every, notifier.watchdog_period / 3)
    pings: list[Any] = []

    def ready(_dt: float) -> None:
        notifier.ready()
        notifier.watchdog_ping()
        pings.append(Clock.schedule_interval(lambda _dt: notifier.watchdog_ping(), every))

    def first_frame(window: Any, *_: Any) -> None:
        window.unbind(on_flip=first_frame)
        Clock.schedule_once(ready, 0)  # the next tick: this frame has been flipped by then

    def started(*_: Any) -> None:
        from kivy.core.window import Window

        Window.bind(on_flip=first_frame)

    def stopped(*_: Any) -> None:
        for event in pings:
            event.cancel()
        notifier.stopping()
        notifier.close()

    app.bind(on_start=started, on_stop=stopped)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.screenshot and not args.quit_after:
        build_parser().error("--screenshot needs --quit-after")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from kiosk.domain.errors import KioskError

    try:
        # Before Kivy starts: a wrong file stops here with one line naming the file and key.
        config = find_config(args.config)
        hardware_settings(config, reader=args.reader, feedback=args.feedback, demo=args.demo)
    except KioskError as exc:
        print(f"kiosk: cannot start: {exc}", file=sys.stderr)
        return 1
    configure_kivy(args.fullscreen, args.size, args.demo)
    try:
        app = build_app(args, config)
    except (KioskError, OSError) as exc:
        print(f"kiosk: cannot start: {exc}", file=sys.stderr)
        _remove_demo_folder(None, getattr(args, "remove_when_done", None))
        return 1
    tell_systemd(app, Notifier())
    if args.quit_after:
        from kivy.clock import Clock

        frames_after_deadline = 0

        def finish(_dt: float) -> bool:
            # Kivy lays widgets out in the frames after they change; on a slow machine the
            # deadline can fall before the first layout pass. Drawn frames, not seconds, decide
            # when the screen is settled: three after the deadline (else a blank screenshot).
            nonlocal frames_after_deadline
            frames_after_deadline += 1
            if frames_after_deadline < SETTLED_FRAMES:
                return True
            if args.screenshot:
                from kiosk.ui.snapshot import save_png

                print(f"Screenshot: {save_png(args.screenshot)}")
            app.stop()
            return False

        def started(*_: Any) -> None:
            # Counted from the app's start, not from here: building the window and the screens
            # can take seconds on a busy machine. (Returns None: a true value from an event
            # handler would stop Kivy calling the others, tell_systemd's among them.)
            Clock.schedule_once(lambda _dt: Clock.schedule_interval(finish, 0), args.quit_after)

        app.bind(on_start=started)
    try:
        app.run()
    finally:
        _remove_demo_folder(app, getattr(args, "remove_when_done", None))
    return 0


#: Frames drawn after ``--quit-after``'s deadline before the screenshot and the stop.
SETTLED_FRAMES = 3


def _remove_demo_folder(app: Any, folder: Path | None) -> None:
    """The demo's temporary folder, removed once the app has closed (nothing in it is kept)."""
    if folder is None:
        return
    store = getattr(app, "store", None)
    close = getattr(store, "close", None)
    if callable(close):
        close()
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
