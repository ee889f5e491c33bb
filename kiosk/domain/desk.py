"""DoorDesk: what happens when a card is tapped or a volunteer signs a family in.

Every outcome is decided here, in pure Python, and every change becomes events written to the
store *before* the outcome is returned, so "Welcome" is never shown for an attendance that a
power cut could lose. Outcomes carry names, never the incentive decision: the door treats every
family the same (DESIGN.md, the stigma rule).

    >>> desk = DoorDesk(store, DeviceIdentity("kiosk-1", "site-1"))   # doctest: +SKIP
    >>> desk.tap("04A23B1C", at=datetime.now(UTC)).kind                # doctest: +SKIP
    'welcome'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from kiosk.domain.attendance import Attendance, amended, amendment_data, attendance_data
from kiosk.domain.errors import NotFoundError, TimetableError, ValidationError
from kiosk.domain.events import DeviceIdentity, Event
from kiosk.domain.families import Card, Child, Family, clean_name, new_family
from kiosk.domain.ids import new_event_id
from kiosk.domain.ports import DoorStore
from kiosk.domain.timetable import SessionOccurrence, SessionSlot
from kiosk.domain.uids import normalise_uid

KIOSK_TZ = ZoneInfo("Europe/London")

OutcomeKind = Literal["welcome", "already_in", "unknown_card", "no_session"]


def as_aware(at: datetime, tz: ZoneInfo = KIOSK_TZ) -> datetime:
    """Times without a zone are the kiosk's local time (Europe/London)."""
    return at.replace(tzinfo=tz) if at.tzinfo is None else at


@dataclass(frozen=True)
class Outcome:
    """What the door shows after a tap or sign-in. Deliberately holds no risk information."""

    kind: OutcomeKind
    uid: str | None = None
    family_id: str | None = None
    greeting_name: str | None = None
    children_present: tuple[Child, ...] = ()
    all_children: tuple[Child, ...] = ()
    session: SessionOccurrence | None = None
    attendance_id: str | None = None

    def describe(self) -> str:
        """One plain line, as ``kiosk-admin tap`` prints it."""
        names = ", ".join(c.first_name for c in self.children_present)
        session = f" ({self.session.name} {self.session.day})" if self.session else ""
        match self.kind:
            case "welcome":
                return (
                    f"welcome: {self.greeting_name}" + (f" with {names}" if names else "") + session
                )
            case "already_in":
                return f"already signed in: {self.greeting_name}{session}"
            case "unknown_card":
                return f"unknown card: {self.uid} (please see a volunteer)"
            case _:
                who = f"{self.greeting_name}: " if self.greeting_name else ""
                return f"no session on now: {who}nothing recorded"


@dataclass(frozen=True)
class RegisterLine:
    """One family on today's register, for the volunteer screen."""

    family_id: str
    greeting_name: str
    children: tuple[str, ...]
    adults: int
    method: str
    at: datetime
    attendance_id: str = ""
    #: When a volunteer signed them out (they still count: they came).
    signed_out_at: datetime | None = None


@dataclass(frozen=True)
class Register:
    """Who is in at a session, with counts of adults and children.

    ``sessions`` are all of that day's sessions, for the volunteer to choose another; ``live``
    says whether ``session`` is the one on now. Sign-ins undone as mistakes are not lines.
    """

    session: SessionOccurrence
    lines: tuple[RegisterLine, ...]
    sessions: tuple[SessionOccurrence, ...] = ()
    live: bool = True

    @property
    def families(self) -> int:
        return len(self.lines)

    @property
    def adults(self) -> int:
        return sum(line.adults for line in self.lines)

    @property
    def children(self) -> int:
        return sum(len(line.children) for line in self.lines)


@dataclass
class DoorDesk:
    """The door's rules over a store, for one device."""

    store: DoorStore
    #: Who is recording: an identity, or a function asked at every event (the app's
    #: ``kiosk.identity.IdentityFile``, so an enrolment takes effect without a restart).
    device: DeviceIdentity | Callable[[], DeviceIdentity] = field(default_factory=DeviceIdentity)
    clock_synced: Callable[[], bool] = lambda: True
    tz: ZoneInfo = KIOSK_TZ
    last_unknown_card: str | None = None

    @property
    def identity(self) -> DeviceIdentity:
        """The device and site events are recorded under now."""
        return self.device if isinstance(self.device, DeviceIdentity) else self.device()

    # -- events -----------------------------------------------------------------------------
    def _event(self, type_: str, at: datetime, data: dict) -> Event:
        identity = self.identity
        return Event(
            type=type_,
            at=as_aware(at, self.tz).astimezone(UTC),
            data=data,
            device_id=identity.device_id,
            site_id=identity.site_id,
            clock_synced=self.clock_synced(),
            event_id=new_event_id(),
        )

    def local(self, at: datetime) -> datetime:
        return as_aware(at, self.tz).astimezone(self.tz)

    # -- the door ---------------------------------------------------------------------------
    def session_now(self, at: datetime) -> SessionOccurrence | None:
        return self.store.timetable().session_at(self.local(at))

    def tap(self, uid: str, at: datetime) -> Outcome:
        """A card was tapped at ``at``: welcome, already in, unknown card, or no session."""
        uid = normalise_uid(uid)
        card = self.store.card(uid)
        family = self.store.family(card.family_id) if card and card.active else None
        if family is None:
            self.last_unknown_card = uid
            return Outcome("unknown_card", uid=uid)
        return self._check_in(family, None, "card", None, at, uid=uid)

    def sign_in(
        self,
        family_id: str,
        children: Sequence[str] | None,
        volunteer: str,
        at: datetime,
    ) -> Outcome:
        """A volunteer signs a family in by hand, choosing which children came."""
        volunteer = clean_name(volunteer, "volunteer name")
        family = self.require_family(family_id)
        return self._check_in(family, children, "manual", volunteer, at)

    def _check_in(
        self,
        family: Family,
        children: Sequence[str] | None,
        method: str,
        volunteer: str | None,
        at: datetime,
        uid: str | None = None,
    ) -> Outcome:
        session = self.session_now(at)
        base = Outcome(
            "no_session",
            uid=uid,
            family_id=family.family_id,
            greeting_name=family.greeting_name,
            all_children=family.children,
        )
        if session is None:
            return base
        chosen = self.resolve_children(family, children)
        existing = self.attendance_of(family.family_id, session)
        if existing is not None and (existing.undone or existing.signed_out_at is not None):
            # Undone by mistake, or signed out and come back: the same attendance, back in
            # (one attendance per family per session), with the children who are here.
            ids = (
                [c.child_id for c in chosen]
                if existing.undone or children is not None
                else list(existing.children)
            )
            self._amend(existing, at, amendment_data(existing, ids, volunteer, signed_out_at=None))
            return replace(
                base,
                kind="welcome",
                session=session,
                attendance_id=existing.attendance_id,
                children_present=tuple(c for c in family.children if c.child_id in ids),
            )
        if existing is not None:
            return replace(
                base,
                kind="already_in",
                session=session,
                attendance_id=existing.attendance_id,
                children_present=tuple(
                    c for c in family.children if c.child_id in existing.children
                ),
            )
        decision = self.store.risk_list().decide(family)
        data = attendance_data(
            session,
            family.family_id,
            [c.child_id for c in chosen],
            family.adults,
            method,
            volunteer,
            decision,
        )
        [stored] = self.store.record([self._event("attendance.recorded", at, data)])
        return replace(
            base,
            kind="welcome",
            session=session,
            attendance_id=stored.event_id,
            children_present=chosen,
        )

    def set_children(
        self, family_id: str, children: Sequence[str], at: datetime, volunteer: str | None = None
    ) -> Outcome:
        """Change which children are at today's session (unticked at the door, or arrived later).

        Never a second attendance: an ``attendance.amended`` event carries the new list.
        """
        family = self.require_family(family_id)
        session = self.session_now(at)
        if session is None:
            raise TimetableError("no session is on now, so there is no attendance to change")
        existing = self.attendance_of(family_id, session)
        if existing is None:
            raise NotFoundError(f"{family.greeting_name} is not signed in to {session.name}")
        chosen = self.resolve_children(family, children)
        ids = [c.child_id for c in chosen]
        if tuple(ids) != existing.children:
            self.store.record(
                [self._event("attendance.amended", at, amendment_data(existing, ids, volunteer))]
            )
        return Outcome(
            "already_in",
            family_id=family_id,
            greeting_name=family.greeting_name,
            children_present=chosen,
            all_children=family.children,
            session=session,
            attendance_id=existing.attendance_id,
        )

    def attendance_of(self, family_id: str, session: SessionOccurrence) -> Attendance | None:
        return next(
            (a for a in self.store.attendances_in(session.key) if a.family_id == family_id), None
        )

    def todays_sessions(self, at: datetime) -> list[SessionOccurrence]:
        """The sessions of the kiosk's local day at ``at``, earliest first."""
        return self.store.timetable().on_day(self.local(at).date())

    def register_session(
        self, at: datetime, session_key: str | None = None
    ) -> SessionOccurrence | None:
        """The session today's register shows: ``session_key`` if it is one of today's, else
        the one on now, else the latest that has started, else the first still to come."""
        today = self.todays_sessions(at)
        if session_key is not None:
            chosen = next((s for s in today if s.key == session_key), None)
            if chosen is not None:
                return chosen
        now = self.session_now(at)
        if now is not None:
            return now
        clock = self.local(at).time()
        started = [s for s in today if s.start <= clock]
        if started:
            return max(started, key=lambda s: (s.start, s.end))
        return today[0] if today else None

    def register(self, at: datetime, session_key: str | None = None) -> Register | None:
        """The register of a session of today (see ``register_session``); None with none."""
        session = self.register_session(at, session_key)
        if session is None:
            return None
        lines = []
        for att in sorted(self.store.attendances_in(session.key), key=lambda a: a.at):
            if att.undone:
                continue
            family = self.store.family(att.family_id)
            kids = tuple(
                c.first_name
                for c in (family.children if family else ())
                if c.child_id in att.children
            )
            lines.append(
                RegisterLine(
                    att.family_id,
                    family.greeting_name if family else "(unknown family)",
                    kids,
                    att.adults,
                    att.method,
                    att.at,
                    att.attendance_id,
                    att.signed_out_at,
                )
            )
        now = self.session_now(at)
        return Register(
            session,
            tuple(lines),
            tuple(self.todays_sessions(at)),
            live=now is not None and now.key == session.key,
        )

    def _attendance(self, session_key: str, attendance_id: str) -> Attendance:
        found = next(
            (a for a in self.store.attendances_in(session_key) if a.attendance_id == attendance_id),
            None,
        )
        if found is None:
            raise NotFoundError(f"no attendance {attendance_id} at session {session_key}")
        return found

    def _amend(self, att: Attendance, at: datetime, data: dict) -> Attendance:
        self.store.record([self._event("attendance.amended", at, data)])
        return amended(att, data)

    def undo_sign_in(
        self, session_key: str, attendance_id: str, at: datetime, volunteer: str | None = None
    ) -> Attendance:
        """A family signed in by mistake: nobody came. An ``attendance.amended`` with no children
        and ``undone`` (so nothing is counted, here or on the server's invoice)."""
        att = self._attendance(session_key, attendance_id)
        if att.undone:
            return att
        return self._amend(att, at, amendment_data(att, [], volunteer, undone=True))

    def sign_out(
        self, session_key: str, attendance_id: str, at: datetime, volunteer: str | None = None
    ) -> Attendance:
        """The family has left: the time goes on the attendance (``signed_out_at``), never
        after the session's end (signing out the morning's families in the afternoon)."""
        att = self._attendance(session_key, attendance_id)
        if att.undone:
            raise ValidationError("that sign-in was undone: there is nobody to sign out")
        session = att.session
        end = datetime.combine(session.day, session.end, tzinfo=self.tz)
        when = min(self.local(at), end)
        return self._amend(
            att, at, amendment_data(att, att.children, volunteer, signed_out_at=when)
        )

    def undo_sign_out(
        self, session_key: str, attendance_id: str, at: datetime, volunteer: str | None = None
    ) -> Attendance:
        """A family signed out by mistake: back in."""
        att = self._attendance(session_key, attendance_id)
        if att.signed_out_at is None:
            return att
        return self._amend(
            att, at, amendment_data(att, att.children, volunteer, signed_out_at=None)
        )

    # -- families and cards -----------------------------------------------------------------
    def require_family(self, family_id: str) -> Family:
        family = self.store.family(family_id.strip().upper())
        if family is None:
            raise NotFoundError(f"no family with id {family_id!r} on this kiosk")
        return family

    @staticmethod
    def resolve_children(family: Family, children: Iterable[str] | None) -> tuple[Child, ...]:
        """Children by id or first name; None means all of them."""
        if children is None:
            return family.children
        chosen: list[Child] = []
        for ref in children:
            child = family.child(ref) or family.child_by_name(ref)
            if child is None:
                raise NotFoundError(
                    f"{family.greeting_name}'s family has no child called {ref!r} "
                    f"(children: {', '.join(c.first_name for c in family.children) or 'none'})"
                )
            if child not in chosen:
                chosen.append(child)
        return tuple(chosen)

    def find_families(self, text: str, limit: int = 20) -> list[Family]:
        """Families whose greeting name or a child's name contains ``text`` (case-insensitive)."""
        needle = " ".join(text.split()).casefold()
        if not needle:
            return []
        hits = [
            f
            for f in self.store.families()
            if needle in f.greeting_name.casefold()
            or any(needle in c.first_name.casefold() for c in f.children)
        ]
        return sorted(hits, key=lambda f: f.greeting_name.casefold())[:limit]

    def register_family(
        self,
        greeting_name: str,
        postcode: str,
        children: Iterable[tuple[str, str | None]],
        at: datetime,
        criteria: Iterable[str] = (),
        consent: bool = False,
        heard_from: str | None = None,
        adults: int = 1,
        card_uid: str | None = None,
        volunteer: str | None = None,
        language: str | None = None,
    ) -> Family:
        """Register a new family (and optionally give them a card), durably, in one write."""
        local_day = self.local(at).date()
        criteria = tuple(criteria)
        family = new_family(
            greeting_name,
            postcode,
            children,
            criteria,
            consent_date=local_day if consent or criteria else None,
            heard_from=heard_from,
            adults=adults,
            language=language,
            today=local_day,
        )
        if criteria and not consent:
            raise ValidationError(
                "thematic criteria can only be recorded with the family's consent"
            )
        return self.record_registration(family, at, card_uid=card_uid, volunteer=volunteer)

    def record_registration(
        self,
        family: Family,
        at: datetime,
        card_uid: str | None = None,
        volunteer: str | None = None,
    ) -> Family:
        """Save a family record made (and checked) by :func:`~kiosk.domain.families.new_family`,
        with its card if given, in one durable write. ``register_family`` does both; the demo
        calls this for its sample families, whose ids are the same on every demo kiosk."""
        events = [
            self._event(
                "member.registered", at, {"family": family.to_dict(), "volunteer": volunteer}
            )
        ]
        if card_uid is not None:
            events.append(self._card_assigned_event(normalise_uid(card_uid), family, at, volunteer))
        self.store.record(events)
        return family

    def update_family(self, family: Family, at: datetime, volunteer: str | None = None) -> Family:
        """Save a changed family record (a new child, a new postcode, a language choice)."""
        self.require_family(family.family_id)
        self.store.record(
            [
                self._event(
                    "member.updated", at, {"family": family.to_dict(), "volunteer": volunteer}
                )
            ]
        )
        return family

    def _card_assigned_event(
        self, uid: str, family: Family, at: datetime, volunteer: str | None
    ) -> Event:
        current = self.store.card(uid)
        if current and current.active and current.family_id != family.family_id:
            raise ValidationError(
                f"card {uid} already belongs to family {current.family_id}; revoke it first"
            )
        return self._event(
            "card.assigned",
            at,
            {"uid": uid, "family_id": family.family_id, "volunteer": volunteer},
        )

    def assign_card(
        self, uid: str, family_id: str, at: datetime, volunteer: str | None = None
    ) -> Card:
        """Give a family a card (a new member, a lost card, or the last unknown tap)."""
        uid = normalise_uid(uid)
        family = self.require_family(family_id)
        self.store.record([self._card_assigned_event(uid, family, at, volunteer)])
        if self.last_unknown_card == uid:
            self.last_unknown_card = None
        return Card(uid, family.family_id)

    def revoke_card(self, uid: str, at: datetime, volunteer: str | None = None) -> Card:
        """Stop a lost or returned card from working."""
        uid = normalise_uid(uid)
        card = self.store.card(uid)
        if card is None or not card.active:
            raise NotFoundError(f"card {uid} is not assigned to any family")
        self.store.record(
            [
                self._event(
                    "card.revoked",
                    at,
                    {"uid": uid, "family_id": card.family_id, "volunteer": volunteer},
                )
            ]
        )
        return replace(card, active=False)

    def undo_card_assignment(
        self, uid: str, family_id: str, at: datetime, volunteer: str | None = None
    ) -> Card:
        """Take back a card just given to the wrong family (``card.revoked``).

        The card is the last unknown card again, so it can be given to the right family at once.
        Refused if the card is no longer that family's (nothing to undo).
        """
        uid = normalise_uid(uid)
        card = self.store.card(uid)
        if card is None or not card.active or card.family_id != family_id:
            raise NotFoundError(f"card {uid} is not family {family_id}'s: there is nothing to undo")
        revoked = self.revoke_card(uid, at, volunteer)
        self.last_unknown_card = uid
        return revoked

    # -- sessions ---------------------------------------------------------------------------
    def start_one_off_session(
        self, name: str, at: datetime, length: timedelta = timedelta(hours=2)
    ) -> SessionOccurrence:
        """A volunteer starts a session now when none is timetabled (it ends by midnight)."""
        local = self.local(at)
        if self.session_now(at) is not None:
            raise TimetableError("a session is already on now")
        start = time(local.hour, local.minute)
        end_dt = min(
            datetime.combine(local.date(), start) + length,
            datetime.combine(local.date(), time(23, 59)),
        )
        if end_dt.time() <= start:
            raise TimetableError("too late in the day to start a session")
        slot = SessionSlot(
            slot_id="once-" + new_event_id()[:8],
            name=clean_name(name, "session name"),
            start=start,
            end=end_dt.time().replace(second=0, microsecond=0),
            on_date=local.date(),
            origin="door",
        )
        self.store.save_timetable(self.store.timetable().add(slot))
        return slot.occurrence(local.date())
