"""The kiosk app: screens over ``DoorDesk``, with the reader and the store kept off the UI thread.

Threads, and who may touch what:

- the **reader loop** (``kiosk.hardware.taps.ReaderLoop``) polls the card reader in its own
  thread and hands each tap to ``card_read_in_background``, which only schedules
  ``card_tapped`` on the UI thread (``Clock.schedule_once``);
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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk.domain.desk import DoorDesk, Outcome, Register
from kiosk.domain.errors import KioskError, ValidationError
from kiosk.domain.families import Family
from kiosk.domain.uids import normalise_uid
from kiosk.domain.volunteers import LockedOut
from kiosk.ui import words
from kiosk.ui.draft import RegistrationDraft
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
from kiosk.ui.status import Light, reader_light, store_connection_light
from kiosk.ui.timers import Countdown
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
    #: The session, reader and connection status is refreshed this often.
    status_refresh: float = 20.0
    #: A tap not answered after this long shows "Just a moment" (a slow or busy SD card).
    tap_patience: float = 1.5


@dataclass(frozen=True)
class DemoCard:
    """A sample card and the keyboard key that taps it (demo mode)."""

    key: str
    uid: str
    greeting_name: str


@dataclass(frozen=True)
class StatusSnapshot:
    session_text: str
    session_on: bool
    connection: Light
    last_unknown_card: str


class KioskApp(App):
    """The touchscreen app. ``card_tapped(uid)`` is the door; volunteer mode is behind a PIN."""

    title = "Doorstep"
    use_kivy_settings = False

    # -- what the screens show (kv binds these) ------------------------------------------------
    volunteer_name = StringProperty("")
    session_text = StringProperty("")
    session_on = BooleanProperty(False)
    reader_text = StringProperty("Card reader working")
    reader_ok = BooleanProperty(True)
    connection_text = StringProperty("")
    connection_ok = BooleanProperty(True)
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
        self.demo_cards = {c.key: DemoCard(c.key, c.uid, c.greeting_name) for c in demo_cards}
        self.reader_loop_factory = reader_loop_factory
        self.reader_loop: Any = None
        self.worker: Worker | None = None
        self.draft = RegistrationDraft()
        self.sm: ScreenManager | None = None
        #: Where the door screens go back to: the tap screen, or the volunteer screen a
        #: family's tap interrupted (volunteer mode stays as it was).
        self.door_return = "tap"
        self._last_touch = monotonic()
        self._taps_pending = 0
        self._tap_waiting_since: float | None = None
        self._finger: Any = None
        self._finger_at = 0.0
        self._events: list[Any] = []
        self._status_countdown = Countdown(self.timings.status_refresh, monotonic)
        if self.demo_cards:
            names = ", ".join(f"{c.key} {c.greeting_name}" for c in self.demo_cards.values())
            self.demo_hint = f"Demo: press keys {names} to tap a card. Volunteer PIN 1234."

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
            RegTextScreen(
                name="reg_name",
                field="greeting_name",
                layout="name",
                placeholder="Name to greet them by, like Sarah",
                question="What name should the screen greet them by?",
            ),
            RegTextScreen(
                name="reg_postcode",
                field="postcode",
                layout="postcode",
                placeholder="Postcode, like WS7 1AA",
                question="What is their postcode?",
            ),
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
        self._update_door_notice()
        self.refresh_status()
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
        Clock.schedule_once(lambda _dt: self.card_tapped(uid), 0)

    def health_in_background(self, health: Any) -> None:
        Clock.schedule_once(lambda _dt: self.show_reader_health(health), 0)

    def show_reader_health(self, health: Any) -> None:
        light = reader_light(health)
        self.reader_text, self.reader_ok = light.text, light.ok
        self._update_door_notice()

    def _update_door_notice(self) -> None:
        self.door_notice = words.READER_DOWN if not self.reader_ok else self.demo_hint

    # -- the door ----------------------------------------------------------------------------
    def card_tapped(self, uid: str) -> None:
        """A card was tapped (UI thread). Volunteer screens that want a card get it instead."""
        current = self.current
        if self.volunteer_name and current.captures_cards:
            try:
                current.card_captured(normalise_uid(uid))
            except ValidationError as exc:
                log.warning("ignored an unreadable card %r: %s", uid, exc)
            self._last_touch = self.monotonic()
            return
        if current.name == "welcome":
            self._confirm_children()  # the next family is here: keep what the last one chose
        elif not current.door_screen:
            self.door_return = current.name if self.volunteer_name else "tap"
        at = self.now()
        if self._taps_pending == 0:
            self._tap_waiting_since = self.monotonic()
        self._taps_pending += 1
        self._submit(
            lambda: self.desk.tap(uid, at),
            on_done=self.show_outcome,
            on_error=self._tap_failed,
        )

    def _tap_answered(self) -> None:
        self._taps_pending = max(self._taps_pending - 1, 0)
        self._tap_waiting_since = None if self._taps_pending == 0 else self.monotonic()
        self.taps_answered += 1

    def _check_tap_patience(self) -> None:
        since = self._tap_waiting_since
        if since is None or self.monotonic() - since < self.timings.tap_patience:
            return
        screen: DoorMessageScreen = self.screen("door_message")
        if self.current is screen and screen.kind == "waiting":
            return
        if not self.current.door_screen:
            self.door_return = self.current.name if self.volunteer_name else "tap"
        self._door_message("waiting", words.WAITING_TITLE, words.WAITING_BODY, False)

    def show_outcome(self, outcome: Outcome) -> None:
        """Show what a tap (or a sign-in) means to the family at the door."""
        self.last_unknown_card = self.desk.last_unknown_card or ""
        self.signal(outcome.kind)
        if outcome.kind in ("welcome", "already_in"):
            self.screen("welcome").show(outcome, Countdown(self.timings.welcome, self.monotonic))
            self._go("welcome")
        elif outcome.kind == "unknown_card":
            self._door_message(
                "unknown_card", words.UNKNOWN_CARD_TITLE, words.UNKNOWN_CARD_BODY, True
            )
        else:
            self._door_message(
                "no_session",
                words.no_session_title(outcome.greeting_name),
                words.NO_SESSION_BODY,
                False,
            )
        self._tap_answered()

    def _tap_failed(self, exc: BaseException) -> None:
        self.signal("error")
        body = words.ERROR_BODY
        if isinstance(exc, ValidationError):  # e.g. a card number the desk refuses
            body = "That card could not be read properly. " + body
        self._door_message("error", words.ERROR_TITLE, body, False)
        self._tap_answered()

    def _door_message(self, kind: str, title: str, body: str, volunteer_button: bool) -> None:
        screen: DoorMessageScreen = self.screen("door_message")
        countdown = Countdown(self.timings.door_message, self.monotonic)
        screen.show(kind, title, body, countdown, volunteer_button)
        self._go("door_message")

    def signal(self, kind: str) -> None:
        """Sound and light: the same for every family (the stigma rule)."""
        if self.feedback is None:
            return
        try:
            self.feedback.signal(kind)
        except Exception:  # noqa: BLE001 - a broken buzzer must not stop a check-in
            log.exception("feedback.signal(%r) failed", kind)

    def finish_welcome(self) -> None:
        """Done pressed or time up on the welcome screen: keep the choice and go back."""
        self._confirm_children()
        self.leave_door_screen()

    def _confirm_children(self) -> None:
        screen: WelcomeScreen = self.screen("welcome")
        outcome = screen.outcome
        if screen.countdown is not None:
            screen.countdown.stop()
        if outcome is None or not screen.changed():
            screen.outcome = None
            return
        chosen, at = screen.chosen_ids(), self.now()
        screen.outcome = None
        self._submit(
            lambda: self.desk.set_children(outcome.family_id, chosen, at),
            on_error=lambda exc: self._door_message(
                "error",
                "Sorry, we couldn't save who came",
                f"{outcome.greeting_name}, please tell a volunteer which children are here today.",
                False,
            ),
        )

    def leave_door_screen(self) -> None:
        target = self.door_return if self.volunteer_name else "tap"
        self.door_return = "tap"
        self._go(target)

    # -- volunteer mode: unlocking -----------------------------------------------------------
    def open_volunteer_mode(self, then: str = "volunteer_home") -> None:
        if self.volunteer_name:
            self._after_unlock(then)
            return
        self.screen("pin").prepare(then)
        self._go("pin")

    def check_pin(self, pin: str, then: str) -> None:
        at = self.now()
        self._submit(
            lambda: self.volunteers.check(pin, at),
            on_done=lambda name: self._pin_checked(name, then),
            on_error=self._pin_failed,
        )

    def _pin_checked(self, name: str | None, then: str) -> None:
        pin_screen: PinScreen = self.screen("pin")
        if not name:
            pin_screen.result("That PIN isn't right. Please try again.", error=True)
            return
        pin_screen.result("", error=False)
        self.volunteer_name = name
        self._last_touch = self.monotonic()
        self._after_unlock(then)

    def _pin_failed(self, exc: BaseException) -> None:
        pin_screen: PinScreen = self.screen("pin")
        if isinstance(exc, LockedOut):
            message = (
                "Too many wrong PINs, so volunteer mode is locked for a while. "
                f"Please try again {exc.plain_wait(self.now())}."
            )
        else:
            message = "The PIN could not be checked. Please try again, or restart the kiosk."
        pin_screen.result(message, error=True)

    def _after_unlock(self, then: str) -> None:
        if then == "assign_card" and self.last_unknown_card:
            self.open_family_picker("assign_card")
        else:
            self.volunteer_go("volunteer_home")

    def leave_volunteer_mode(self) -> None:
        """Cancel on the PIN screen: back to the door."""
        self.screen("pin").reset()
        self._go("tap")

    def lock_volunteer_mode(self) -> None:
        self.volunteer_name = ""
        self.door_return = "tap"
        self.draft = RegistrationDraft()
        assert self.sm is not None
        for screen in self.sm.screens:
            if not screen.door_screen:
                screen.reset()
        if not self.current.door_screen:
            self._go("tap")

    def volunteer_go(self, name: str) -> None:
        """Go to a volunteer screen; without volunteer mode unlocked, to the PIN first."""
        if not self.volunteer_name:
            self.open_volunteer_mode(then=name)
            return
        self._go(name)

    # -- volunteer mode: the work ------------------------------------------------------------
    def find_families(self, text: str, show: Callable[[list[Family]], None]) -> None:
        def find() -> list[Family]:
            if text.strip():
                return self.desk.find_families(text, limit=60)
            return sorted(self.store.families(), key=lambda f: f.greeting_name.casefold())

        self._submit(find, on_done=show, on_error=self._volunteer_error)

    def open_family_picker(self, purpose: str) -> None:
        self.screen("family_picker").prepare(purpose)
        self.volunteer_go("family_picker")

    def choose_children(self, family: Family) -> None:
        self.screen("choose_children").prepare(family)
        self.volunteer_go("choose_children")

    def sign_in(self, family: Family, children: Sequence[str]) -> None:
        volunteer, at = self.volunteer_name, self.now()
        self._submit(
            lambda: self.desk.sign_in(family.family_id, list(children), volunteer, at),
            on_done=self._signed_in,
            on_error=self._volunteer_error,
        )

    def _signed_in(self, outcome: Outcome) -> None:
        name = outcome.greeting_name or ""
        kids = words.join_names([c.first_name for c in outcome.children_present])
        with_kids = f" with {kids}" if kids else ""
        if outcome.kind == "welcome":
            self.volunteer_message(
                f"{name} is signed in",
                f"{name}{with_kids} is on today's register for {outcome.session.name}."
                if outcome.session
                else f"{name} is signed in.",
            )
        elif outcome.kind == "already_in":
            self.volunteer_message(
                f"{name} was already signed in",
                f"{name}{with_kids} is already on today's register. Nothing was changed.",
            )
        else:
            self.volunteer_message(
                "No session is on right now",
                f"{name} was not signed in. Start a session first, then sign them in.",
                error=True,
                action_text="Start a session",
                action=lambda: self.volunteer_go("start_session"),
            )

    def assign_card(self, family: Family) -> None:
        uid = self.last_unknown_card
        if not uid:
            self.volunteer_message(
                "No card to give",
                "Ask the family to tap their new card on the reader first.",
                error=True,
            )
            return
        volunteer, at = self.volunteer_name, self.now()

        def done(_card: Any) -> None:
            self.last_unknown_card = self.desk.last_unknown_card or ""
            self.volunteer_message(
                f"The card is now {family.greeting_name}'s",
                f"{family.greeting_name} can tap it on the reader now to sign in.",
            )

        self._submit(
            lambda: self.desk.assign_card(uid, family.family_id, at, volunteer),
            on_done=done,
            on_error=self._volunteer_error,
        )

    def start_registration(self) -> None:
        self.draft = RegistrationDraft()
        for name in ("reg_name", "reg_postcode"):
            self.screen(name).reset()
        self.volunteer_go("reg_name")

    def check_card_is_new(self, uid: str, show: Callable[[str, bool], None]) -> None:
        """Whether a card tapped for a new family belongs to nobody yet."""

        def is_new() -> bool:
            card = self.store.card(uid)
            return card is None or not card.active

        self._submit(is_new, on_done=lambda new: show(uid, new), on_error=self._volunteer_error)

    def register_draft(self) -> None:
        d = self.draft
        volunteer, at = self.volunteer_name, self.now()

        def register() -> Family:
            return self.desk.register_family(
                d.greeting_name,
                d.postcode,
                [(name, None) for name in d.children],
                at,
                criteria=sorted(d.criteria),
                consent=d.consent,
                heard_from=d.heard_from,
                adults=d.adults,
                card_uid=d.card_uid,
                volunteer=volunteer,
            )

        def failed(exc: BaseException) -> None:
            message = (
                words.sentence(str(exc))
                if isinstance(exc, KioskError)
                else "The family could not be saved. Please try again."
            )
            self.screen("reg_card").failed(message)

        self._submit(register, on_done=self._registered, on_error=failed)

    def _registered(self, family: Family) -> None:
        card = self.draft.card_uid
        self.draft = RegistrationDraft()
        kids = words.join_names([c.first_name for c in family.children])
        body = f"{family.greeting_name}'s family is saved" + (f" with {kids}." if kids else ".")
        if card:
            body += f" Their card is ready: {family.greeting_name} can tap it from now on."
        self.volunteer_message(
            f"Welcome to the family, {family.greeting_name}!"
            if len(family.greeting_name) < 16
            else "Family registered",
            body,
            action_text="Sign them in now",
            action=lambda: self.choose_children(family),
        )

    def load_register(self, show: Callable[[Register | None], None]) -> None:
        at = self.now()
        self._submit(lambda: self.desk.register(at), on_done=show, on_error=self._volunteer_error)

    def open_today(self) -> None:
        self.volunteer_go("today")

    def start_session(self, name: str, hours: int) -> None:
        at = self.now()

        def started(session: Any) -> None:
            self.refresh_status()
            self.volunteer_message(
                f"{session.name} has started",
                f"Families can tap in now. It ends at {words.clock(session.end)}.",
            )

        def failed(exc: BaseException) -> None:
            message = (
                words.sentence(str(exc))
                if isinstance(exc, KioskError)
                else "The session could not be started. Please try again."
            )
            self.screen("start_session").failed(message)

        self._submit(
            lambda: self.desk.start_one_off_session(name, at, timedelta(hours=hours)),
            on_done=started,
            on_error=failed,
        )

    def volunteer_message(self, title: str, body: str, **kwargs: Any) -> None:
        self.screen("volunteer_message").prepare(title, body, **kwargs)
        self.volunteer_go("volunteer_message")

    def _volunteer_error(self, exc: BaseException) -> None:
        if isinstance(exc, KioskError):
            body = words.sentence(str(exc))
        else:
            body = "Something went wrong saving that. Please try again in a moment."
        self.volunteer_message("That didn't work", body, error=True)

    # -- status ------------------------------------------------------------------------------
    def refresh_status(self) -> None:
        at = self.now()
        self.clock_text = words.clock(self.desk.local(at))

        def read() -> StatusSnapshot:
            session = self.desk.session_now(at)
            return StatusSnapshot(
                words.session_words(session),
                session is not None,
                store_connection_light(self.store, at),
                self.desk.last_unknown_card or "",
            )

        def show(snapshot: StatusSnapshot) -> None:
            self.session_text, self.session_on = snapshot.session_text, snapshot.session_on
            self.connection_text = snapshot.connection.text
            self.connection_ok = snapshot.connection.ok
            self.last_unknown_card = snapshot.last_unknown_card

        self._status_countdown.restart()
        self._submit(read, on_done=show, on_error=lambda exc: None)

    # -- plumbing ----------------------------------------------------------------------------
    def _submit(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        assert self.worker is not None, "the app has not started"
        self.worker.submit(fn, on_done, on_error)

    def _go(self, name: str) -> None:
        assert self.sm is not None
        if self.sm.current != name:
            self.sm.current = name

    def _tick(self) -> None:
        if self.volunteer_name and (
            self.monotonic() - self._last_touch > self.timings.volunteer_idle
        ):
            log.info("volunteer mode locked after %.0f s idle", self.timings.volunteer_idle)
            self.lock_volunteer_mode()
        if self._status_countdown.expired():
            self.refresh_status()
        self._check_tap_patience()
        self.current.tick()

    def _touched(self, _window: Any, touch: Any) -> bool:
        """One finger at a time: a second touch while one is down is ignored.

        A kiosk needs no multitouch, and on the Pi the same touch can arrive twice (from SDL
        and from the kernel's input devices, kivy/kivy#3801), which would tick and untick a
        child at once.
        """
        self._last_touch = self.monotonic()
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
        tap = getattr(self.reader, "tap", None)
        if callable(tap):
            tap(card.uid)  # through the fake reader and the reader loop, like a real card
        else:
            self.card_read_in_background(card.uid)
        return True
