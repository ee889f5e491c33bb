"""Drives the real kiosk app in tests: taps from a reader thread, touches on the actual widgets.

``Kiosk`` is what a test holds: ``tap(uid)`` hands a card to the app exactly as the reader loop
does (from another thread); ``press(widget)`` puts a finger down and up at the widget's centre
through the window, so a button that is hidden, covered or too small to hit fails the test;
``texts()`` is what the current screen shows; ``shot(name)`` saves its pixels.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.base import EventLoop
from kivy.clock import Clock
from kivy.input.motionevent import MotionEvent
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from kiosk.demo import seed_demo
from kiosk.domain.desk import KIOSK_TZ, DoorDesk
from kiosk.domain.events import DeviceIdentity
from kiosk.hardware.feedback import NullFeedback
from kiosk.store import LocalStore
from kiosk.store.volunteers import VolunteerBook
from kiosk.ui.fit import overflow
from kiosk.ui.keyboard import SPACE, DigitPad, OnScreenKeyboard
from kiosk.ui.kioskapp import KioskApp, UiTimings
from kiosk.ui.letters import base_letter
from kiosk.ui.snapshot import save_png

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "artifacts" / "screenshots"
SCREENSHOTS.mkdir(parents=True, exist_ok=True)
#: A Monday morning; the demo seed puts "Stay and Play" on from 09:00 to 12:00.
MONDAY_MORNING = datetime(2026, 11, 23, 10, 15, tzinfo=KIOSK_TZ)
TOUCH_MIN_PX = 64
#: The smallest type on screen, secondary text included: read at arm's length.
TEXT_MIN_PX = 20
_MARKUP_SIZE = re.compile(r"\[size=(\d+(?:\.\d+)?)\]")


def make_store(folder: Path) -> LocalStore:
    """The real ``LocalStore`` in ``folder``: the UI tests drive the app over the real store
    (a test that wants a store that stalls or fails passes ``tests.fakes.store.MemoryStore``
    itself)."""
    folder.mkdir(parents=True, exist_ok=True)
    return LocalStore(folder)


#: The least Kivy's clock jumps when a test moves time: more than every interval the app keeps
#: (its 0.1 s tick, the keyboard's 0.05 s long-press poll), so each is due at the next frame.
KIVY_STEP = 0.25


class _KivyTime:
    """Kivy's clock as the tests drive it: real time plus every jump a test made. It never goes
    back (events Kivy scheduled would wait out the difference), so it stays for the run."""

    def __init__(self, real: Any) -> None:
        self.real, self.jumped = real, 0.0

    def __call__(self) -> float:
        return self.real() + self.jumped


def _kivy_time() -> _KivyTime:
    if not isinstance(Clock.time, _KivyTime):
        Clock.time = _KivyTime(Clock.time)
    return Clock.time


class FakeClock:
    """Wall time for the desk and monotonic time for the screens' countdowns, both stepped."""

    def __init__(self, now: datetime) -> None:
        self.wall = now
        self.mono = 1000.0

    def now(self) -> datetime:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.wall += timedelta(seconds=seconds)
        self.mono += seconds


class Finger(MotionEvent):
    """One touch at window coordinates (as Kivy's own UnitTestTouch does it)."""

    _ids = count(1000)

    def __init__(self, x: float, y: float) -> None:
        win = EventLoop.window
        super().__init__(
            "finger",
            next(self._ids),
            {"x": x / (win.width - 1.0), "y": y / (win.height - 1.0)},
            is_touch=True,
            type_id="touch",
        )
        self.profile = ["pos"]

    def depack(self, args: dict[str, float]) -> None:
        self.sx, self.sy = args["x"], args["y"]
        self.profile = ["pos"]
        super().depack(args)

    def down(self) -> None:
        EventLoop.post_dispatch_input("begin", self)

    def up(self) -> None:
        EventLoop.post_dispatch_input("end", self)


def walk(widget: Widget) -> Iterator[Widget]:
    yield widget
    for child in widget.children:
        yield from walk(child)


def shown(widget: Widget) -> bool:
    """Visible: it and all its parents are opaque, not disabled-and-hidden, and have size."""
    w: Any = widget
    while w is not None and not isinstance(w, App):
        if getattr(w, "opacity", 1) == 0 or w.width <= 0 or w.height <= 0:
            return False
        w = w.parent
        if w is EventLoop.window:
            break
    return True


class Kiosk:
    def __init__(
        self,
        app: KioskApp,
        store: Any,
        desk: DoorDesk,
        book: VolunteerBook,
        clock: FakeClock,
        feedback: NullFeedback,
        cards: list[Any],
    ) -> None:
        self.app, self.store, self.desk, self.book = app, store, desk, book
        self.clock, self.feedback, self.cards = clock, feedback, cards

    # -- the event loop -----------------------------------------------------------------------
    def pump(self, frames: int = 1) -> None:
        """Run ``frames`` frames of the event loop: what the app scheduled runs, touches land."""
        for _ in range(frames):
            EventLoop.idle()

    def tick(self, seconds: float = 0.0) -> None:
        """Move Kivy's clock on by ``seconds`` (at least ``KIVY_STEP``) and run a few frames:
        every timer the app keeps is then due and looks at the injected clock."""
        _kivy_time().jumped += max(seconds, KIVY_STEP)
        self.pump(3)

    def settle(self, timeout: float = 15.0) -> None:
        """Run the UI until the worker has nothing left and its results are on screen."""
        deadline = time.monotonic() + timeout
        quiet = 0
        while quiet < 3:
            EventLoop.idle()
            quiet = quiet + 1 if self.app.worker is not None and self.app.worker.idle else 0
            if time.monotonic() > deadline:
                raise AssertionError("the app did not settle (a background call never ended)")

    def wait_until(self, condition, timeout: float = 15.0, what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            EventLoop.idle()
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")

    def advance(self, seconds: float, settle: bool = True) -> None:
        """Let ``seconds`` of kiosk time pass, and let the screens notice."""
        self.clock.advance(seconds)
        self.tick(seconds)
        if settle:
            self.settle()

    # -- what is on screen --------------------------------------------------------------------
    @property
    def screen(self) -> str:
        return self.app.sm.current

    def current(self) -> Any:
        return self.app.current

    def texts(self) -> list[str]:
        return [
            w.text for w in walk(self.app.current) if isinstance(w, Label) and w.text and shown(w)
        ]

    def text(self) -> str:
        return "\n".join(self.texts())

    def labels(self) -> list[Label]:
        """Every label showing on the current screen (buttons are labels too)."""
        return [w for w in walk(self.app.current) if isinstance(w, Label) and w.text and shown(w)]

    def clipped(self) -> list[str]:
        """Each label on screen whose text does not fit its box, and why (none: all fit)."""
        found = []
        for label in self.labels():
            reason = overflow(label)
            if reason is not None:
                found.append(f"{self.screen}: {label.text!r}: {reason}")
        return found

    def small_text(self) -> list[str]:
        """Each label on screen drawn smaller than ``TEXT_MIN_PX`` (its own size, or a
        ``[size=]`` in its markup), and how small (none: everything can be read)."""
        found = []
        for label in self.labels():
            sizes = [label.font_size]
            if label.markup:
                sizes += [float(size) for size in _MARKUP_SIZE.findall(label.text)]
            if min(sizes) < TEXT_MIN_PX - 0.01:
                found.append(f"{self.screen}: {label.text!r} is {min(sizes):.1f}px")
        return found

    def buttons(self) -> list[Any]:
        return [
            w
            for w in walk(self.app.current)
            if isinstance(w, ButtonBehavior) and shown(w) and not w.disabled
        ]

    def button(self, text: str) -> Any:
        matches = [b for b in self.buttons() if text in getattr(b, "text", "")]
        if not matches:
            raise AssertionError(
                f"no button {text!r} on {self.screen}; buttons: "
                f"{[getattr(b, 'text', '?') for b in self.buttons()]}"
            )
        return matches[0]

    # -- a finger -----------------------------------------------------------------------------
    def press(self, widget: Widget, settle: bool = True) -> None:
        assert shown(widget), f"{widget!r} ({getattr(widget, 'text', '')!r}) is not visible"
        assert not widget.disabled, f"{getattr(widget, 'text', widget)!r} is disabled"
        assert min(widget.width, widget.height) >= TOUCH_MIN_PX, (
            f"{getattr(widget, 'text', widget)!r} is {widget.width:.0f}x{widget.height:.0f} px: "
            f"too small to touch (at least {TOUCH_MIN_PX} px)"
        )
        x, y = widget.to_window(*widget.center)
        win = EventLoop.window
        assert 0 <= x < win.width and 0 <= y < win.height, f"{widget!r} is off screen at {x, y}"
        released: list[bool] = []

        def note(*_args: Any) -> None:
            released.append(True)

        is_button = isinstance(widget, ButtonBehavior)
        if is_button:
            widget.fbind("on_release", note)
        finger = Finger(x, y)
        finger.down()
        finger.up()
        try:
            if is_button:  # a ScrollView hands the touch on a moment later
                self.wait_until(
                    lambda: bool(released),
                    timeout=3,
                    what=f"the touch at {x:.0f},{y:.0f} to reach "
                    f"{getattr(widget, 'text', widget)!r}",
                )
        finally:
            if is_button:
                widget.funbind("on_release", note)
        if settle:
            self.settle()

    def hold(self, widget: Widget, seconds: float) -> None:
        """A finger on ``widget`` for ``seconds`` of kiosk time (the fake clock), then lifted."""
        assert shown(widget), f"{widget!r} ({getattr(widget, 'text', '')!r}) is not visible"
        x, y = widget.to_window(*widget.center)
        finger = Finger(x, y)
        finger.down()
        self.pump()  # the touch lands before the time passes
        self.advance(seconds)
        finger.up()
        self.settle()

    def press_text(self, text: str) -> None:
        self.press(self.button(text))

    def keyboard(self) -> OnScreenKeyboard:
        boards = [w for w in walk(self.app.current) if isinstance(w, OnScreenKeyboard)]
        boards = [b for b in boards if shown(b) and not b.disabled]
        assert boards, f"no on-screen keyboard showing on {self.screen}"
        return boards[0]

    def type(self, text: str) -> None:
        """Type on the on-screen keyboard, key by key, as a finger would: an accented letter by
        holding its plain letter down and tapping it in the row that opens."""
        board = self.keyboard()
        for ch in text:
            base = base_letter(ch)
            if base is not None:
                self.type_accented(ch, base)
                continue
            key = SPACE if ch == " " else ch.upper()
            self.press(board.key_button(key), settle=False)
        self.settle()

    def type_accented(self, letter: str, base: str) -> None:
        board = self.keyboard()
        self.hold(board.key_button(base), self.app.timings.long_press)
        assert board.picker is not None, f"holding {base} did not open its accents"
        self.press(board.picker.key_button(letter), settle=False)
        assert board.picker is None, "the accents stayed open after a letter was chosen"

    def press_key(self, key: str) -> None:
        self.press(self.keyboard().key_button(key))

    def enter_pin(self, pin: str) -> None:
        pads = [w for w in walk(self.app.current) if isinstance(w, DigitPad)]
        assert pads, f"no digit pad on {self.screen}"
        pad = pads[0]
        for digit in pin:
            self.press(next(b for b in pad.children if b.text == digit), settle=False)
        self.press(pad.ids.ok)

    def unlock(self, pin: str = "1234") -> None:
        if self.screen != "pin":
            self.press(self.current().ids.volunteer)
        assert self.screen == "pin", self.screen
        self.enter_pin(pin)

    # -- a card -------------------------------------------------------------------------------
    def tap(self, uid: str, answered: bool = True) -> None:
        """A card on the reader: handed over from another thread, as the reader loop does."""
        before = self.app.taps_answered
        reader = threading.Thread(target=self.app.card_read_in_background, args=(uid,))
        reader.start()
        reader.join()
        if answered:
            self.wait_until(lambda: self.app.taps_answered > before, what=f"an answer to {uid}")
            self.settle()
        else:
            self.pump(3)

    def card_of(self, name: str) -> str:
        return next(c.uid for c in self.cards if c.greeting_name == name)

    # -- pictures -----------------------------------------------------------------------------
    def shot(self, name: str, settle: bool = True) -> Path:
        """Save the screen as ``artifacts/screenshots/<name>.png`` (``name`` may hold a folder)."""
        if settle:
            self.settle()
        else:
            self.pump(3)
        return save_png(SCREENSHOTS / f"{name}.png")

    # -- the end ------------------------------------------------------------------------------
    def close(self) -> None:
        app = self.app
        window = EventLoop.window
        app.dispatch("on_stop")
        window.unbind(on_keyboard=app._on_keyboard_settings)
        if app.root is not None and app.root.parent is window:
            window.remove_widget(app.root)
        App._running_app = None


_TEMPLATE: dict[str, Any] = {}


def seeded_folder(folder: Path) -> tuple[Any, list[Any]]:
    """A store in ``folder`` holding the demo's families, session and volunteers.

    Seeding writes (and fsyncs) a few dozen files and hashes two PINs, so it is done once per
    run in a template folder that each test copies.
    """
    if "folder" not in _TEMPLATE:
        template = Path(tempfile.mkdtemp(prefix="kiosk-ui-template-")) / "data"
        store = make_store(template)
        _TEMPLATE["cards"] = _seed(store)
        if hasattr(store, "close"):
            store.close()
        _TEMPLATE["folder"] = template
    shutil.copytree(_TEMPLATE["folder"], folder, dirs_exist_ok=True)
    return make_store(folder), list(_TEMPLATE["cards"])


def _seed(store: Any) -> list[Any]:
    desk = DoorDesk(store, DeviceIdentity("test-kiosk", "test-site"))
    cards = seed_demo(store, desk, MONDAY_MORNING)
    book = VolunteerBook(store.data_dir)
    if "Demo" not in book.names():
        book.add("Demo", "1234")
    book.add("Jo", "2468")
    return cards


def make_kiosk(
    tmp_path: Path,
    *,
    timings: UiTimings | None = None,
    reader: Any = None,
    reader_loop_factory: Any = None,
    store: Any = None,
    demo: bool = False,
    language: str = "en",
) -> Kiosk:
    """The app on a store seeded with the demo's families; volunteers Demo (1234), Jo (2468).

    ``language`` is the kiosk's own language (``kiosk --language``).
    """
    if store is None:
        store, cards = seeded_folder(tmp_path / "data")
    else:
        cards = _seed(store)
    desk = DoorDesk(store, DeviceIdentity("test-kiosk", "test-site"))
    clock = FakeClock(MONDAY_MORNING)
    book = VolunteerBook(store.data_dir)
    feedback = NullFeedback()
    app = KioskApp(
        desk,
        store,
        book,
        feedback=feedback,
        now=clock.now,
        monotonic=clock.monotonic,
        timings=timings,
        reader=reader,
        reader_loop_factory=reader_loop_factory,
        demo_cards=cards if demo else (),
        language=language,
    )
    app._run_prepare()
    kiosk = Kiosk(app, store, desk, book, clock, feedback, cards)
    kiosk.settle()
    return kiosk
