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
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk import i18n
from kiosk.demo import next_new_card
from kiosk.domain.desk import DoorDesk, Outcome, Register, RegisterLine
from kiosk.domain.errors import KioskError, ValidationError
from kiosk.domain.families import Family
from kiosk.domain.picker import FamilyChoice, family_choices
from kiosk.domain.timetable import SessionOccurrence
from kiosk.domain.uids import normalise_uid
from kiosk.domain.volunteers import LockedOut
from kiosk.health import Health, assess, read_facts
from kiosk.i18n import _, isolate, ngettext
from kiosk.ui import words
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
    STEPS,
    RegAboutScreen,
    RegCardScreen,
    RegChildrenScreen,
    RegConsentScreen,
    RegTextScreen,
)
from kiosk.ui.screens.start_session import StartSessionScreen
from kiosk.ui.screens.today import TodayRegisterScreen
from kiosk.ui.screens.volunteer_home import VolunteerHomeScreen
from kiosk.ui.status import health_light, reader_light
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


@dataclass(frozen=True)
class DemoCard:
    """A sample card and the keyboard key that taps it (demo mode)."""

    key: str
    uid: str
    greeting_name: str
    #: Taps a new card, one no family has yet (``kiosk.demo.next_new_card``), not ``uid``.
    new_card: bool = False


@dataclass(frozen=True)
class StatusSnapshot:
    """What the status lines are made from, read off the UI thread (words are made on it)."""

    session: SessionOccurrence | None
    health: Health
    last_unknown_card: str


@dataclass(frozen=True)
class PinAnswer:
    """What the volunteer book said to a PIN: whose it is, or how many tries are left, or the
    lock (a refused PIN is an answer, not a failure: no traceback in the log)."""

    name: str | None
    tries_left: int = 0
    locked: LockedOut | None = None


@dataclass(frozen=True)
class TapResult:
    """A tap's outcome and the language to greet the family in (theirs, or just chosen)."""

    outcome: Outcome
    language: str | None


class KioskApp(Speaks, App):
    """The touchscreen app. ``card_tapped(uid)`` is the door; volunteer mode is behind a PIN.

    Languages: the kiosk speaks ``language`` (its default) to whoever comes. A family can choose
    another on the tap screen before tapping; their choice is saved with them
    (``Family.language``), and every later tap greets them in it. A volunteer can switch volunteer
    mode to another language; locking it goes back to the kiosk's language.
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
        #: The kiosk's own language: what the door speaks when nobody has chosen another.
        self.home_language = i18n.language(language).code
        #: Chosen on the tap screen for the next card (a family), or for volunteer mode.
        self._door_choice: str | None = None
        self._volunteer_language: str | None = None
        self._status: StatusSnapshot | None = None
        self._reader_health: Any = None
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
        self.draft = RegistrationDraft()
        self._draft_seen = monotonic()
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
        self._choice_countdown = Countdown(self.timings.language_choice, monotonic)
        self.speak(self.home_language)
        self._say_status()

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

    @property
    def last_touch(self) -> float:
        """When the screen was last touched (on the app's monotonic clock)."""
        return self._last_touch

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
        self._reader_health = health
        light = reader_light(health)
        self.reader_text, self.reader_ok = light.text, light.ok
        self._update_door_notice()

    def _update_door_notice(self) -> None:
        if self.demo_cards:
            cards = [
                (c.key, words.demo_new_card() if c.new_card else c.greeting_name)
                for c in self.demo_cards.values()
            ]
            self.demo_hint = words.demo_hint(cards)
        self.door_notice = words.reader_down() if not self.reader_ok else self.demo_hint

    # -- languages ---------------------------------------------------------------------------
    def choose_language(self, code: str) -> None:
        """A language button: for the next family's card on the tap screen, else for volunteer
        mode (a family's choice is saved with them when their card is read)."""
        code = i18n.language(code).code
        if self.current.door_screen:
            self._door_choice = code
            self._choice_countdown.restart()
        elif self.volunteer_name:
            self._volunteer_language = code
        self._show_language(code)

    def _show_language(self, code: str) -> None:
        if code == self.language and i18n.current_language().code == code:
            return
        self.speak(code)
        self._say_status()
        if self.sm is not None:
            self.current.retranslate()

    def _resting_language(self) -> str:
        """The language of the screens between families: the volunteer's, or the kiosk's."""
        if self.volunteer_name and self._volunteer_language:
            return self._volunteer_language
        return self._door_choice or self.home_language

    def _forget_door_choice(self) -> None:
        self._door_choice = None
        self._choice_countdown.stop()

    def _check_language_choice(self) -> None:
        """A language chosen on the tap screen and no card since: back to the kiosk's own."""
        if self._door_choice and self._choice_countdown.expired():
            self._forget_door_choice()
            if self.current.name == "tap":
                self._show_language(self._resting_language())

    def _family_language(self, outcome: Outcome, chosen: str | None, at: datetime) -> str | None:
        """(Worker thread.) The language to greet a family in; a new choice is saved with them."""
        if outcome.family_id is None:
            return chosen
        family = self.store.family(outcome.family_id)
        if family is None:
            return chosen
        if chosen is None:
            return i18n.known_language(family.language)
        if family.language != chosen:
            try:
                self.desk.update_family(replace(family, language=chosen), at)
            except Exception:  # noqa: BLE001 - the visit is recorded; the language can wait
                log.exception("could not save language %r for %s", chosen, family.family_id)
        return chosen

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
        chosen = self._door_choice
        self._forget_door_choice()
        if self._taps_pending == 0:
            self._tap_waiting_since = self.monotonic()
        self._taps_pending += 1

        def tap() -> TapResult:
            outcome = self.desk.tap(uid, at)
            return TapResult(outcome, self._family_language(outcome, chosen, at))

        self._submit(tap, on_done=self._tap_done, on_error=self._tap_failed)

    def _tap_done(self, result: TapResult) -> None:
        # The family's language (saved, or just chosen), else the kiosk's own: never the
        # volunteer's, who may be working in another at the time.
        self._show_language(result.language or self.home_language)
        self.show_outcome(result.outcome)

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
        self._door_message("waiting", words.waiting_title, words.waiting_body, False)

    def show_outcome(self, outcome: Outcome) -> None:
        """Show what a tap (or a sign-in) means to the family at the door."""
        self.last_unknown_card = self.desk.last_unknown_card or ""
        self.signal(outcome.kind)
        if outcome.kind in ("welcome", "already_in"):
            self.screen("welcome").show(outcome, Countdown(self.timings.welcome, self.monotonic))
            self._go("welcome")
        elif outcome.kind == "unknown_card":
            self._door_message(
                "unknown_card", words.unknown_card_title, words.unknown_card_body, True
            )
        else:
            self._door_message(
                "no_session",
                lambda: words.no_session_title(outcome.greeting_name),
                words.no_session_body,
                False,
            )
        self._tap_answered()

    def _tap_failed(self, exc: BaseException) -> None:
        self.signal("error")
        # e.g. a card number the desk refuses
        body = words.unreadable_card_body if isinstance(exc, ValidationError) else words.error_body
        self._door_message("error", words.error_title, body, False)
        self._tap_answered()

    def _door_message(
        self,
        kind: str,
        title: Callable[[], str],
        body: Callable[[], str],
        volunteer_button: bool,
    ) -> None:
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
                words.children_not_saved_title,
                lambda: words.children_not_saved_body(outcome.greeting_name or ""),
                False,
            ),
        )

    def leave_door_screen(self) -> None:
        target = self.door_return if self.volunteer_name else "tap"
        self.door_return = "tap"
        self._show_language(self._resting_language())
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

        def check() -> PinAnswer:
            try:
                name = self.volunteers.check(pin, at)
            except LockedOut as locked:
                log.warning(
                    "a volunteer PIN was refused: volunteer mode is locked until %s",
                    locked.until.isoformat(timespec="seconds"),
                )
                return PinAnswer(None, locked=locked)
            if name is not None:
                return PinAnswer(name)
            tries = self.volunteers.tries_left()
            log.info("a wrong volunteer PIN was refused (%d tries left before the lock)", tries)
            return PinAnswer(None, tries_left=tries)

        self._submit(
            check,
            on_done=lambda answer: self._pin_checked(answer, then),
            on_error=self._pin_failed,
        )

    def _pin_checked(self, answer: PinAnswer, then: str) -> None:
        pin_screen: PinScreen = self.screen("pin")
        if answer.locked is not None:
            pin_screen.result(self._locked_words(answer.locked), error=True, locked=True)
            return
        name = answer.name
        if not name:
            pin_screen.result(
                ngettext(
                    "That PIN isn't right. {n} try left before volunteer mode locks.",
                    "That PIN isn't right. {n} tries left before volunteer mode locks.",
                    answer.tries_left,
                ).format(n=answer.tries_left),
                error=True,
            )
            return
        pin_screen.result("", error=False)
        self.volunteer_name = name
        # A language chosen on the tap screen before "Volunteer" was the volunteer's choice.
        if self.language != self.home_language:
            self._volunteer_language = self.language
        self._forget_door_choice()
        self._last_touch = self.monotonic()
        self._after_unlock(then)

    def _locked_words(self, exc: LockedOut) -> str:
        minutes = math.ceil(exc.remaining(self.now()).total_seconds() / 60)
        if minutes <= 0:
            message = _(
                "Too many wrong PINs, so volunteer mode is locked for a while. "
                "Please try again in a moment."
            )
        else:
            message = ngettext(
                "Too many wrong PINs, so volunteer mode is locked for a while. "
                "Please try again in {n} minute.",
                "Too many wrong PINs, so volunteer mode is locked for a while. "
                "Please try again in {n} minutes.",
                minutes,
            ).format(n=minutes)
        return _("{locked} The kiosk's admin can unlock it sooner.").format(locked=message)

    def _pin_failed(self, exc: BaseException) -> None:
        pin_screen: PinScreen = self.screen("pin")
        if isinstance(exc, LockedOut):
            pin_screen.result(self._locked_words(exc), error=True, locked=True)
            return
        message = _("The PIN could not be checked. Please try again, or restart the kiosk.")
        pin_screen.result(message, error=True)

    def recheck_pin_lock(self) -> None:
        """(The PIN screen, while locked.) Read the lock again: an admin may have lifted it
        (``kiosk-admin volunteer unlock``) or it may have run out."""
        at = self.now()

        def still_locked() -> bool:
            return self.volunteers.lockout().is_locked(at)

        def show(locked: bool) -> None:
            if not locked:
                log.info("volunteer mode's PIN lock has been lifted")
                self.screen("pin").unlocked()

        self._submit(still_locked, on_done=show, on_error=lambda exc: None)

    def _after_unlock(self, then: str) -> None:
        if then == "assign_card" and self.last_unknown_card:
            self.open_family_picker("assign_card")
        else:
            self.volunteer_go("volunteer_home")

    def leave_volunteer_mode(self) -> None:
        """Cancel on the PIN screen: back to the door."""
        self.screen("pin").reset()
        self._show_language(self._resting_language())
        self._go("tap")

    def lock_volunteer_mode(self) -> None:
        self.volunteer_name = ""
        self._volunteer_language = None
        self._forget_door_choice()
        self._show_language(self.home_language)
        self.door_return = "tap"
        # The registration draft is kept (see ``UiTimings.registration_draft``).
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
    def find_families(self, text: str, show: Callable[[list[FamilyChoice]], None]) -> None:
        """The picker's rows (name, postcode district, children, already in) off the UI thread."""
        at = self.now()
        self._submit(
            lambda: family_choices(self.desk, text, at),
            on_done=show,
            on_error=self._volunteer_error,
        )

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
        name = isolate(outcome.greeting_name or "")
        kids = words.join_names([c.first_name for c in outcome.children_present])
        session = isolate(outcome.session.name) if outcome.session else ""
        if outcome.kind == "welcome":
            if kids and session:
                body = _("{name} with {children} is on today's register for {session}.")
            elif session:
                body = _("{name} is on today's register for {session}.")
            else:
                body = _("{name} is signed in.")
            self.volunteer_message(
                _("{name} is signed in").format(name=name),
                body.format(name=name, children=kids, session=session),
            )
        elif outcome.kind == "already_in":
            if kids:
                body = _(
                    "{name} with {children} is already on today's register. Nothing was changed."
                )
            else:
                body = _("{name} is already on today's register. Nothing was changed.")
            self.volunteer_message(
                _("{name} was already signed in").format(name=name),
                body.format(name=name, children=kids),
            )
        else:
            self.volunteer_message(
                _("No session is on right now"),
                _("{name} was not signed in. Start a session first, then sign them in.").format(
                    name=name
                ),
                error=True,
                action_text=_("Start a session"),
                action=lambda: self.volunteer_go("start_session"),
            )

    def assign_card(self, family: Family) -> None:
        """A family picked for the card just tapped: ask first (one tap is easily the wrong
        family), then give it, with an "Undo" for a few seconds."""
        uid = self.last_unknown_card
        if not uid:
            self.volunteer_message(
                _("No card to give"),
                _("Ask the family to tap their new card on the reader first."),
                error=True,
            )
            return
        name = isolate(family.greeting_name)
        self.volunteer_message(
            _("Give this card to {name}?").format(name=name),
            _("Check with the family that they are {name}. The card will sign them in.").format(
                name=name
            ),
            action_text=_("Yes, give it to {name}").format(name=name),
            action=lambda: self._give_card(uid, family),
            action_is_main=True,
            done_text=_("Cancel"),
            done=lambda: self.open_family_picker("assign_card"),
        )

    def _give_card(self, uid: str, family: Family) -> None:
        volunteer, at = self.volunteer_name, self.now()

        def done(_card: Any) -> None:
            self.last_unknown_card = self.desk.last_unknown_card or ""
            name = isolate(family.greeting_name)
            self.volunteer_message(
                _("The card is now {name}'s").format(name=name),
                _("{name} can tap it on the reader now to sign in.").format(name=name),
                action_text=_("Undo"),
                action=lambda: self._take_card_back(uid, family),
                action_for=self.timings.card_undo,
            )

        self._submit(
            lambda: self.desk.assign_card(uid, family.family_id, at, volunteer),
            on_done=done,
            on_error=self._volunteer_error,
        )

    def _take_card_back(self, uid: str, family: Family) -> None:
        """Undo a card just given: the card belongs to nobody again and can be given at once."""
        volunteer, at = self.volunteer_name, self.now()

        def done(_card: Any) -> None:
            self.last_unknown_card = self.desk.last_unknown_card or ""
            self.volunteer_message(
                _("Undone: the card is not {name}'s").format(name=isolate(family.greeting_name)),
                _("The card belongs to no family again. Give it to the right family now."),
                action_text=_("Give it to a family"),
                action=lambda: self.open_family_picker("assign_card"),
                action_is_main=True,
            )

        self._submit(
            lambda: self.desk.undo_card_assignment(uid, family.family_id, at, volunteer),
            on_done=done,
            on_error=self._volunteer_error,
        )

    def start_registration(self) -> None:
        """ "New family": a fresh draft, or the one not finished yet, from step 1."""
        resuming = not self.draft.is_empty()
        if not resuming:
            self.draft = RegistrationDraft()
        self.volunteer_go("reg_name")
        if resuming and self.current.name == "reg_name":
            self.current.say(_("Carrying on where you left off. Press Cancel to start again."))

    def discard_draft(self) -> None:
        self.draft = RegistrationDraft()

    def check_card_is_new(self, uid: str, show: Callable[[str, bool], None]) -> None:
        """Whether a card tapped for a new family belongs to nobody yet."""

        def is_new() -> bool:
            card = self.store.card(uid)
            return card is None or not card.active

        self._submit(is_new, on_done=lambda new: show(uid, new), on_error=self._volunteer_error)

    def register_draft(self) -> None:
        d = self.draft
        volunteer, at = self.volunteer_name, self.now()

        def register() -> tuple[Family, bool]:
            family = self.desk.register_family(
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
            return family, self.desk.session_now(at) is not None

        def failed(exc: BaseException) -> None:
            otherwise = _("The family could not be saved. Please try again.")
            message = words.problem(exc, otherwise) if isinstance(exc, KioskError) else otherwise
            self.screen("reg_card").failed(message)

        self._submit(register, on_done=lambda done: self._registered(*done), on_error=failed)

    def _registered(self, family: Family, session_on: bool) -> None:
        """The family is saved. With a session on, signing them in is the next thing to do, so
        it is the main button (all the children typed in: they are the ones who came)."""
        card = self.draft.card_uid
        self.draft = RegistrationDraft()
        name = isolate(family.greeting_name)
        kids = words.join_names([c.first_name for c in family.children])
        if kids:
            body = _("{name}'s family is saved with {children}.").format(name=name, children=kids)
        else:
            body = _("{name}'s family is saved.").format(name=name)
        if card:
            ready = _("Their card is ready: {name} can tap it from now on.").format(name=name)
            body = _("{saved} {card_ready}").format(saved=body, card_ready=ready)
        self.volunteer_message(
            _("Welcome to the family, {name}!").format(name=name)
            if len(family.greeting_name) < 16
            else _("Family registered"),
            body,
            action_text=_("Sign them in now"),
            action=lambda: self.sign_in(family, [c.child_id for c in family.children]),
            action_is_main=session_on,
        )

    def load_register(
        self, show: Callable[[Register | None, bool], None], session_key: str | None = None
    ) -> None:
        """Read the register of a session of today (the default one without ``session_key``)
        and whether a session is on now; ``show`` gets both on the UI thread."""
        at = self.now()

        def read() -> tuple[Register | None, bool]:
            return self.desk.register(at, session_key), self.desk.session_now(at) is not None

        self._submit(read, on_done=lambda got: show(*got), on_error=self._volunteer_error)

    def open_today(self) -> None:
        """Today's register, on its default session (the one on now, or the latest)."""
        self.screen("today").reset()
        self.volunteer_go("today")

    def _back_to_register(self, session_key: str, notice: str = "") -> None:
        today = self.screen("today")
        today.session_key = session_key
        today.notice(notice)
        if self.current is today:
            today.reload()
        else:
            self.volunteer_go("today")

    def _amend_register(
        self, register: Register, line: RegisterLine, change: Callable[..., Any], notice: str
    ) -> None:
        volunteer, at, key = self.volunteer_name, self.now(), register.session.key
        self._submit(
            lambda: change(key, line.attendance_id, at, volunteer),
            on_done=lambda _att: self._back_to_register(key, notice),
            on_error=self._volunteer_error,
        )

    def sign_out(self, register: Register, line: RegisterLine) -> None:
        """The family has gone home: the time is recorded on their attendance."""
        name = isolate(line.greeting_name)
        self._amend_register(
            register, line, self.desk.sign_out, _("{name} is signed out.").format(name=name)
        )

    def undo_sign_out(self, register: Register, line: RegisterLine) -> None:
        name = isolate(line.greeting_name)
        self._amend_register(
            register,
            line,
            self.desk.undo_sign_out,
            _("{name} is signed in again.").format(name=name),
        )

    def ask_undo_sign_in(self, register: Register, line: RegisterLine) -> None:
        """Taking a family off the register is asked first: one tap is easily the wrong line."""
        name, session = isolate(line.greeting_name), isolate(register.session.name)
        key = register.session.key
        self.volunteer_message(
            _("Take {name} off the register?").format(name=name),
            _(
                "Only if they were signed in by mistake: nothing is then counted for "
                "{name}'s family at {session}."
            ).format(name=name, session=session),
            action_text=_("Yes, take them off"),
            action=lambda: self._amend_register(
                register,
                line,
                self.desk.undo_sign_in,
                _("{name} is off the register.").format(name=name),
            ),
            action_is_main=True,
            done_text=_("Cancel"),
            done=lambda: self._back_to_register(key),
        )

    def start_session(self, name: str, hours: int) -> None:
        at = self.now()

        def started(session: Any) -> None:
            self.refresh_status()
            self.volunteer_message(
                _("{session} has started").format(session=isolate(session.name)),
                _("Families can tap in now. It ends at {time}.").format(
                    time=words.clock(session.end)
                ),
            )

        def failed(exc: BaseException) -> None:
            otherwise = _("The session could not be started. Please try again.")
            message = words.problem(exc, otherwise) if isinstance(exc, KioskError) else otherwise
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
        otherwise = _("Something went wrong saving that. Please try again in a moment.")
        body = words.problem(exc, otherwise) if isinstance(exc, KioskError) else otherwise
        self.volunteer_message(_("That didn't work"), body, error=True)

    # -- status ------------------------------------------------------------------------------
    def refresh_status(self) -> None:
        at = self.now()
        self.clock_text = words.clock(self.desk.local(at))

        def read() -> StatusSnapshot:
            return StatusSnapshot(
                self.desk.session_now(at),
                assess(read_facts(self.store), at),
                self.desk.last_unknown_card or "",
            )

        def show(snapshot: StatusSnapshot) -> None:
            self._status = snapshot
            self.last_unknown_card = snapshot.last_unknown_card
            self._say_status()

        self._status_countdown.restart()
        self._submit(read, on_done=show, on_error=lambda exc: None)

    def _say_status(self) -> None:
        """The status lines in the language in use, from the last reading (no I/O here)."""
        snapshot = self._status
        if snapshot is not None:
            self.session_text = words.session_words(snapshot.session)
            self.session_on = snapshot.session is not None
            light = health_light(snapshot.health, self.now())
            self.connection_text, self.connection_ok = light.text, light.ok
            self.connection_level = light.level
        self.show_reader_health(self._reader_health)

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
        self._check_draft()  # first: a step on screen until the lock below counts as seen
        if self.volunteer_name and (
            self.monotonic() - self._last_touch > self.timings.volunteer_idle
        ):
            log.info("volunteer mode locked after %.0f s idle", self.timings.volunteer_idle)
            self.lock_volunteer_mode()
        if self._status_countdown.expired():
            self.refresh_status()
        self._check_tap_patience()
        self._check_language_choice()
        self.current.tick()

    def _check_draft(self) -> None:
        """A registration left unfinished for too long is forgotten."""
        now = self.monotonic()
        if self.current.name in STEPS:
            self._draft_seen = now
        elif now - self._draft_seen >= self.timings.registration_draft and not (
            self.draft.is_empty()
        ):
            log.info(
                "an unfinished registration was forgotten after %.0f s", now - self._draft_seen
            )
            self.discard_draft()

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
        if card.new_card:
            # Which card of the pile is new is the store's to say: asked off the UI thread.
            self._submit(lambda: next_new_card(self.store), on_done=self._demo_tap)
        else:
            self._demo_tap(card.uid)
        return True

    def _demo_tap(self, uid: str) -> None:
        tap = getattr(self.reader, "tap", None)
        if callable(tap):
            tap(uid)  # through the fake reader and the reader loop, like a real card
        else:
            self.card_read_in_background(uid)
