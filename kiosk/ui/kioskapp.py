"""The kiosk app: the composition root. It builds the screens, makes the controllers the screens
call (``kiosk.ui.controllers``), wires the reader and the worker, and ticks everything.

Threads, and who may touch what:

- the **reader loop** (``kiosk.hardware.taps.ReaderLoop``) polls the card reader in its own
  thread and hands each tap to ``card_read_in_background``, which only schedules
  ``door.card_tapped`` on the UI thread (``Clock.schedule_once``);
- the **worker** (``kiosk.ui.worker.Worker``) runs every call that touches the store or hashes a
  PIN, in order, on one background thread; results come back on the UI thread;
- the **UI thread** (Kivy's) draws, takes touches and decides which screen to show. It never
  calls the store, the desk or the volunteer book directly, so a slow SD card or a stuck lock
  can never freeze the screen.

Everything the app needs is injected (desk, store, volunteer book, reader, feedback, clocks), so
tests run the real app with fakes and a clock they step.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk import i18n
from kiosk.demo import DemoCard, next_new_card
from kiosk.domain.desk import DoorDesk
from kiosk.ui.controllers.cards import Cards
from kiosk.ui.controllers.door import Door
from kiosk.ui.controllers.languages import Languages
from kiosk.ui.controllers.registration import Registration
from kiosk.ui.controllers.search import FamilySearch
from kiosk.ui.controllers.sessions import Sessions
from kiosk.ui.controllers.signin import SignIn
from kiosk.ui.controllers.status import StatusLines
from kiosk.ui.controllers.today import TodayRegister
from kiosk.ui.controllers.volunteer_mode import VolunteerMode
from kiosk.ui.draft import RegistrationDraft
from kiosk.ui.lang import Speaks
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.screens.door import DoorMessageScreen, TapScreen, WelcomeScreen
from kiosk.ui.screens.families import (
    ChooseChildrenScreen,
    FamilyPickerScreen,
    VolunteerMessageScreen,
)
from kiosk.ui.screens.pin import PinScreen
from kiosk.ui.screens.registration import (
    RegAboutScreen,
    RegCardScreen,
    RegChildrenScreen,
    RegConsentScreen,
    RegTextScreen,
)
from kiosk.ui.screens.start_session import StartSessionScreen
from kiosk.ui.screens.today import TodayRegisterScreen
from kiosk.ui.screens.volunteer_home import VolunteerHomeScreen
from kiosk.ui.worker import Worker

log = logging.getLogger(__name__)

#: How often screens are ticked (countdowns, idle lock), in seconds.
TICK_SECONDS = 0.1
#: A touch held longer than this no longer blocks other touches (a lost "up" event).
STUCK_TOUCH_SECONDS = 5.0


@dataclass(frozen=True)
class UiTimings:
    """How long things stay on screen, in seconds."""

    #: The welcome screen confirms the children by itself after this long.
    welcome: float = 8.0
    #: Unknown card, no session, something went wrong: back to the tap screen after this.
    door_message: float = 12.0
    #: Volunteer mode locks itself after this long without a touch.
    volunteer_idle: float = 120.0
    #: The PIN screen forgets the digits typed and goes back to the door after this long
    #: without a touch (a volunteer called away half-way through their PIN).
    pin_idle: float = 30.0
    #: While the PIN pad is locked, the lock is read again this often, so an admin's
    #: ``kiosk-admin volunteer unlock`` (or the lock running out) shows without a touch.
    pin_lock_recheck: float = 2.0
    #: "Undo" stays under "The card is now ...'s" this long (a card given to the wrong family).
    card_undo: float = 15.0
    #: The session, reader and connection status is refreshed this often.
    status_refresh: float = 20.0
    #: A tap not answered after this long shows "Just a moment" (a slow or busy SD card).
    tap_patience: float = 1.5
    #: A language chosen on the tap screen waits this long for the family's card.
    language_choice: float = 60.0
    #: A registration not finished is kept this long after it was last on screen (a card tapped
    #: in the middle, volunteer mode locked by itself, a volunteer called away), then forgotten:
    #: long enough to come back to the family at the door, short enough that a name and postcode
    #: do not linger in memory once they have gone.
    registration_draft: float = 15 * 60.0
    #: A letter held down this long opens its accented letters (Ł under L), as on a phone.
    long_press: float = 0.5


class KioskApp(Speaks, App):
    """The touchscreen app. The door is ``door.card_tapped(uid)``; volunteer mode is behind a PIN.

    The screens call the controllers: ``door`` (taps, welcome and door messages), ``languages``,
    ``volunteer`` (the PIN, locking, its screens), ``search`` (the family picker), ``signin``,
    ``cards``, ``registration``, ``today`` (today's register), ``sessions`` and ``status``. The
    app holds what the screens show (the Kivy properties kv binds) and the plumbing they share.
    """

    title = "Doorstep"
    use_kivy_settings = False

    # -- what the screens show (kv binds these) ------------------------------------------------
    volunteer_name = StringProperty("")
    session_text = StringProperty("")
    session_on = BooleanProperty(False)
    reader_text = StringProperty("")
    reader_ok = BooleanProperty(True)
    connection_text = StringProperty("")
    connection_ok = BooleanProperty(True)
    #: ``ok``, ``warn`` (amber) or ``fail`` (red): from ``kiosk.health`` via ``health_light``.
    connection_level = StringProperty("ok")
    clock_text = StringProperty("")
    door_notice = StringProperty("")
    demo_hint = StringProperty("")
    last_unknown_card = StringProperty("")
    #: How many taps have been answered on screen (tests wait on it).
    taps_answered = NumericProperty(0)

    def __init__(
        self,
        desk: DoorDesk,
        store: Any,
        volunteers: Any,
        *,
        reader: Any = None,
        feedback: Any = None,
        now: Callable[[], datetime] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        timings: UiTimings | None = None,
        demo_cards: Iterable[Any] = (),
        reader_loop_factory: Callable[..., Any] | None = None,
        language: str = i18n.DEFAULT_LANGUAGE,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.desk = desk
        self.store = store
        self.volunteers = volunteers
        self.reader = reader
        self.feedback = feedback
        self.now: Callable[[], datetime] = now or (lambda: datetime.now(UTC))
        self.monotonic = monotonic
        self.timings = timings or UiTimings()
        self.demo_cards = {
            c.key: DemoCard(c.key, c.uid, c.greeting_name, getattr(c, "new_card", False))
            for c in demo_cards
        }
        self.reader_loop_factory = reader_loop_factory
        self.reader_loop: Any = None
        self.worker: Worker | None = None
        self.sm: ScreenManager | None = None
        #: When the screen was last touched (on the app's monotonic clock).
        self.last_touch = monotonic()
        self._finger: Any = None
        self._finger_at = 0.0
        self._events: list[Any] = []
        # -- the controllers the screens call --------------------------------------------------
        self.languages = Languages(self, language)
        self.status = StatusLines(self)
        self.door = Door(self)
        self.volunteer = VolunteerMode(self)
        self.search = FamilySearch(self)
        self.signin = SignIn(self)
        self.cards = Cards(self)
        self.registration = Registration(self)
        self.today = TodayRegister(self)
        self.sessions = Sessions(self)
        self.speak(self.languages.home)
        self.status.say()

    # -- building ----------------------------------------------------------------------------
    def build(self) -> ScreenManager:
        sm = ScreenManager(transition=NoTransition())
        for screen in (
            TapScreen(name="tap"),
            WelcomeScreen(name="welcome"),
            DoorMessageScreen(name="door_message"),
            PinScreen(name="pin"),
            VolunteerHomeScreen(name="volunteer_home"),
            FamilyPickerScreen(name="family_picker"),
            ChooseChildrenScreen(name="choose_children"),
            VolunteerMessageScreen(name="volunteer_message"),
            RegTextScreen(name="reg_name", field="greeting_name", layout="name"),
            RegTextScreen(name="reg_postcode", field="postcode", layout="postcode"),
            RegChildrenScreen(name="reg_children"),
            RegAboutScreen(name="reg_about"),
            RegConsentScreen(name="reg_consent"),
            RegCardScreen(name="reg_card"),
            TodayRegisterScreen(name="today"),
            StartSessionScreen(name="start_session"),
        ):
            sm.add_widget(screen)
        sm.current = "tap"
        self.sm = sm
        return sm

    def open_settings(self, *largs: Any) -> bool:
        """No Kivy settings panel on a kiosk (F1 would open it)."""
        return False

    def screen(self, name: str) -> Any:
        assert self.sm is not None
        return self.sm.get_screen(name)

    @property
    def current(self) -> KioskScreen:
        assert self.sm is not None
        return self.sm.current_screen

    def on_start(self) -> None:
        from kivy.core.window import Window

        self.worker = Worker(post=lambda fn: Clock.schedule_once(lambda _dt: fn(), 0))
        self._events = [Clock.schedule_interval(lambda _dt: self._tick(), TICK_SECONDS)]
        Window.bind(
            on_touch_down=self._touched, on_touch_up=self._released, on_key_down=self._key_down
        )
        self.status.update_door_notice()
        self.status.refresh()
        self._start_reader()

    def on_stop(self) -> None:
        from kivy.core.window import Window

        Window.unbind(
            on_touch_down=self._touched, on_touch_up=self._released, on_key_down=self._key_down
        )
        for event in self._events:
            event.cancel()
        self._events = []
        if self.reader_loop is not None:
            self.reader_loop.stop()
            self.reader_loop = None
        if self.worker is not None:
            self.worker.stop()

    # -- the reader --------------------------------------------------------------------------
    def _start_reader(self) -> None:
        if self.reader is None:
            return
        factory = self.reader_loop_factory
        if factory is None:
            from kiosk.hardware.taps import ReaderLoop

            factory = ReaderLoop
        self.reader_loop = factory(
            self.reader,
            on_tap=self.card_read_in_background,
            on_health=self.health_in_background,
        )
        self.reader_loop.start()

    def card_read_in_background(self, uid: str) -> None:
        """Called from the reader's thread: hand the tap to the UI thread."""
        Clock.schedule_once(lambda _dt: self.door.card_tapped(uid), 0)

    def health_in_background(self, health: Any) -> None:
        Clock.schedule_once(lambda _dt: self.show_reader_health(health), 0)

    def show_reader_health(self, health: Any) -> None:
        """The reader's health on the status line (``kiosk.app`` calls it before the start)."""
        self.status.show_reader_health(health)

    # -- what tests read ---------------------------------------------------------------------
    def refresh_status(self) -> None:
        """Read the status lines again now (``status.refresh``)."""
        self.status.refresh()

    @property
    def draft(self) -> RegistrationDraft:
        """The registration not finished yet (``registration.draft``)."""
        return self.registration.draft

    # -- plumbing the controllers share ------------------------------------------------------
    def submit(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Run ``fn`` on the worker thread; ``on_done`` or ``on_error`` on the UI thread."""
        assert self.worker is not None, "the app has not started"
        self.worker.submit(fn, on_done, on_error)

    def go(self, name: str) -> None:
        """Show the screen ``name`` (volunteer screens: ``volunteer.go_to``, behind the PIN)."""
        assert self.sm is not None
        if self.sm.current != name:
            self.sm.current = name

    def _tick(self) -> None:
        self.registration.forget_if_left()  # first: a step on screen until the lock counts as seen
        self.volunteer.lock_if_idle()
        self.status.refresh_if_due()
        self.door.check_patience()
        self.languages.check_choice()
        self.current.tick()

    def _touched(self, _window: Any, touch: Any) -> bool:
        """One finger at a time: a second touch while one is down is ignored.

        A kiosk needs no multitouch, and on the Pi the same touch can arrive twice (from SDL
        and from the kernel's input devices, kivy/kivy#3801), which would tick and untick a
        child at once.
        """
        self.last_touch = self.monotonic()
        now = time.monotonic()
        if self._finger is not None and now - self._finger_at < STUCK_TOUCH_SECONDS:
            return True
        self._finger, self._finger_at = touch, now
        return False  # let the touch reach the widgets

    def _released(self, _window: Any, touch: Any) -> bool:
        if touch is self._finger:
            self._finger = None
            return False
        return self._finger is not None  # the up of an ignored second touch

    def _key_down(self, _window: Any, _key: int, _scancode: int, codepoint: str | None, *_: Any):
        card = self.demo_cards.get(codepoint or "")
        if card is None:
            return False
        if card.new_card:
            # Which card of the pile is new is the store's to say: asked off the UI thread.
            self.submit(lambda: next_new_card(self.store), on_done=self._demo_tap)
        else:
            self._demo_tap(card.uid)
        return True

    def _demo_tap(self, uid: str) -> None:
        tap = getattr(self.reader, "tap", None)
        if callable(tap):
            tap(uid)  # through the fake reader and the reader loop, like a real card
        else:
            self.card_read_in_background(uid)
