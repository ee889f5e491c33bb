"""One sync pass: send the kiosk's pending events, then pull the roster.

The rules (DESIGN.md, Sync; FIELD-NOTES.md, Offline capture and sync):

- Pending events go oldest first, in batches of at most ``batch_size``. An event is marked
  sent only after the server's answer names it ``accepted`` or ``duplicate``; an event the
  server ``rejected`` is set aside on the kiosk with the server's reason (never deleted, never
  re-sent blindly). An event the answer does not mention stays pending.
- 413 halves the batch (down to one event; an event the server refuses even alone is set
  aside with that reason, so one oversized event cannot block the queue for ever).
- The store is only touched between HTTP requests, one short call at a time, so a tap at the
  door never waits for the network.
- Before the first batch the daemon asks the server whom the token belongs to: a token issued
  to another kiosk is treated like a refused token, so a mix-up cannot get every event
  rejected and set aside.

Failures are exceptions from :mod:`sync.client`; :meth:`Syncer.run_pass` catches them into a
:class:`PassReport` and records what happened in the store's sync state for ``kiosk-admin``.

With the real store (``kiosk.store.LocalStore``) a pass also recovers (:mod:`sync.recovery`):
it continues above seqs the server already knows when the store is new or restored, re-sends
what a server restored from a backup lacks (and writes off, by number and session, what this
kiosk no longer keeps), pulls the roster again when the server's database was restored, and
pulls the site's timetable and risk list from the server now and then.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from kiosk.domain.events import DeviceIdentity, Event
from sync import recovery
from sync.client import (
    AuthRefused,
    BatchTooLarge,
    IdentityMismatch,
    ProtocolMismatch,
    ServerUnreachable,
    SyncClient,
    SyncError,
)
from sync.protocol import MAX_BATCH_EVENTS, BatchResponse, DeviceInfo

log = logging.getLogger("sync")

DEFAULT_BATCH_SIZE = 200
#: Roster pages pulled in one pass at most (500 events each); the rest comes next pass.
MAX_ROSTER_PAGES = 50
#: How often a pass also drops acknowledged days past the store's retention window, so the
#: store stays small.
PRUNE_EVERY = timedelta(hours=1)

Outcome = Literal["ok", "unreachable", "auth", "protocol"]


class SyncStore(Protocol):
    """What the sync daemon needs from ``kiosk.store.LocalStore``."""

    def pending(self, limit: int) -> list[Event]: ...
    def mark_sent(self, event_ids: Any, at: datetime | None = None) -> None: ...
    def mark_rejected(self, event_id: str, reason: str, kind: str = "refused") -> None: ...
    def rejected(self) -> list[dict]: ...
    def waiting_count(self) -> int: ...
    def oldest_waiting(self) -> Event | None: ...
    def sync_state(self) -> dict: ...
    def update_sync_state(self, **changes: Any) -> None: ...
    def apply_remote(self, events: Sequence[Event]) -> int: ...
    def apply_erasures(self, notices: Sequence[Mapping[str, Any]]) -> int: ...


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class PassReport:
    """What one pass did, and the error that ended it early (if any)."""

    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    #: Events the server holds another copy of (same id, other content), set aside.
    conflicts: int = 0
    batches: int = 0
    roster_applied: int = 0
    #: Families erased on the server and now removed from this kiosk.
    erased: int = 0
    #: Acknowledged events past the retention window dropped from this kiosk.
    pruned: int = 0
    waiting: int = 0
    holds_up_to: int | None = None
    error: SyncError | None = None
    #: Recovery: events re-queued because the server lacked them, seqs written off.
    requeued: int = 0
    written_off: int = 0
    setup_changes: list[str] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return self.accepted + self.duplicate

    @property
    def outcome(self) -> Outcome:
        match self.error:
            case None:
                return "ok"
            case AuthRefused():
                return "auth"
            case ServerUnreachable():
                return "unreachable"
            case _:
                return "protocol"

    def summary(self) -> str:
        text = (
            f"sent {self.sent} event(s) ({self.accepted} accepted, {self.duplicate} already "
            f"held), {self.rejected} rejected, {self.waiting} waiting"
        )
        if self.roster_applied:
            text += f"; {self.roster_applied} roster change(s) from other kiosks"
        if self.erased:
            text += f"; {self.erased} erased family(ies) removed from this kiosk"
        if self.requeued:
            text += f"; {self.requeued} event(s) sent again (the server lacked them)"
        if self.written_off:
            text += f"; {self.written_off} seq(s) no longer on this kiosk written off"
        if self.pruned:
            text += f"; {self.pruned} acknowledged event(s) past the retention window dropped"
        if self.setup_changes:
            text += "; " + "; ".join(self.setup_changes)
        return text


class Syncer:
    """Sends a store's pending events with a client; one :meth:`run_pass` at a time."""

    def __init__(
        self,
        store: SyncStore,
        client: SyncClient,
        batch_size: int = DEFAULT_BATCH_SIZE,
        clock: Callable[[], datetime] = utcnow,
        should_stop: Callable[[], bool] = lambda: False,
        pull_roster: bool = True,
        heartbeat: Callable[[], None] = lambda: None,
        pull_setup: bool = True,
        device_id: str | None = None,
        prune_every: timedelta | None = None,
        site_id: str | None = None,
        enrolment: Callable[[], DeviceIdentity | None] | None = None,
    ) -> None:
        if not 1 <= batch_size <= MAX_BATCH_EVENTS:
            raise ValueError(f"batch size must be between 1 and {MAX_BATCH_EVENTS}")
        self.store = store
        self.client = client
        self.batch_size = batch_size
        self.clock = clock
        self.should_stop = should_stop
        self.pull_roster_enabled = pull_roster
        self.heartbeat = heartbeat  # called after every request (systemd's watchdog)
        self.identity: DeviceInfo | None = None
        #: This kiosk's enrolled device and site (``device.json``), when known: checked
        #: against the token, and every waiting event is re-homed to them before it is sent.
        self.device_id = device_id
        self.site_id = site_id
        #: Reads the enrolment again at every pass (the daemon: an enrol while it runs).
        self.enrolment = enrolment
        # Recovery needs the real store's seq bookkeeping (a test double may not have it).
        self.recovery = isinstance(store, recovery.RecoveryStore)
        self.pull_setup_enabled = pull_setup and self.recovery and hasattr(client, "setup")
        #: Seconds between two pulls of the timetable and risk list (0: every pass).
        self.setup_interval = recovery.SETUP_INTERVAL
        #: How often to drop acknowledged days past the retention window (``prune``); None
        #: never (the daemon sets ``PRUNE_EVERY``; a test double may have no ``prune``).
        self.prune_every = prune_every if hasattr(store, "prune") else None
        self._pruned_at: datetime | None = None

    # -- a pass ----------------------------------------------------------------------------------
    def run_pass(self) -> PassReport:
        """Push, then pull the roster; never raises a :class:`SyncError` (see the report)."""
        report = PassReport()
        try:
            if self.recovery:
                self.ask_server(report)
                self.reconcile(report)  # before sending: re-send only what the server lacks
            self.push(report)
            if self.recovery and not self.should_stop():
                self.reconcile(report)
            if self.pull_setup_enabled and not self.should_stop():
                self.pull_setup(report)
            if self.pull_roster_enabled and not self.should_stop():
                self.pull_roster(report)
            if not self.should_stop():
                self.prune(report)
        except SyncError as exc:
            report.error = exc
            if isinstance(exc, AuthRefused):
                self.identity = None  # ask again once the token is fixed
        report.waiting = self.store.waiting_count()
        self._record(report)
        self.report_status(report)
        return report

    def report_status(self, report: PassReport) -> None:
        """After the pass, tell the server how this kiosk is (waiting, rejected and why, clock,
        software) for the organisation's kiosk health panel (DESIGN.md, The seams: Status).

        It comes after the sending and is never part of the pass's outcome: a server that is
        unreachable or refused the token is not asked, and any failure (an older server
        without the endpoint answers 404) is logged once and otherwise forgotten, so no event
        is lost or waits on it.
        """
        send = getattr(self.client, "report_status", None)
        if send is None or report.outcome in ("unreachable", "auth") or self.should_stop():
            return
        from kiosk.clock import clock_is_synchronised
        from kiosk.health import read_facts
        from sync.client import software_version
        from sync.protocol import status_report

        try:
            # The same facts the kiosk's own status dot and kiosk-admin status are made from.
            facts = read_facts(self.store, clock_is_synchronised())
            status = status_report(
                sent_at=self.clock(),
                waiting=facts.waiting if facts.waiting is not None else report.waiting,
                oldest_waiting_at=facts.oldest_waiting_at,
                rejected_reasons=[
                    reason for reason, n in (facts.reasons or {}).items() for _ in range(n)
                ],
                conflicts=facts.conflicts,
                clock_synced=bool(facts.clock_synced),
                software_version=software_version(),
            )
            send(status)
        except Exception as exc:  # the health report must never cost the kiosk its sync
            if not getattr(self, "_status_warned", False):
                log.warning("could not tell the server how this kiosk is (kiosk health): %s", exc)
            self._status_warned = True
            return
        self._status_warned = False
        self.heartbeat()

    def prune(self, report: PassReport) -> None:
        """Now and then, drop acknowledged days older than the store's retention window, so
        the kiosk keeps only what recovery needs (SECURITY.md, "How long it is kept").

        Only after a pass with no error, and only when the server has just said it holds every
        seq this kiosk delivered: a server restored from a backup may still need them re-sent
        (FIELD-NOTES.md: keep acknowledged events until the server says what it holds).
        """
        if self.prune_every is None:
            return
        now = self.clock()
        if self._pruned_at is not None and now - self._pruned_at < self.prune_every:
            return
        if self.recovery:
            holds = report.holds_up_to
            if holds is None or holds < self.store.delivered_through():
                return
        report.pruned = self.store.prune(now)
        self._pruned_at = now
        self.store.update_sync_state(last_prune=iso(now), last_pruned=report.pruned)

    def check_identity(self) -> DeviceInfo:
        """Whom the token belongs to (asked once, then remembered)."""
        if self.identity is None:
            self.identity = self.client.whoami()
            log.info(
                "token belongs to device %s at %s/%s",
                self.identity.device_id,
                self.identity.org_id,
                self.identity.site_id,
            )
        return self.identity

    # -- recovery (sync.recovery) ----------------------------------------------------------------
    def ask_server(self, report: PassReport) -> None:
        """Every pass: whom the token belongs to, how far the server holds this kiosk's events,
        and the highest seq it knows of it (a new or restored store continues above it)."""
        first = self.identity is None
        info = self.identity = self.client.whoami()
        self.heartbeat()
        if first:
            log.info(
                "token belongs to device %s at %s/%s", info.device_id, info.org_id, info.site_id
            )
        self.check_enrolment(info)
        report.holds_up_to = info.holds_up_to
        recovery.adopt_server_floor(self.store, info, self.clock())

    def check_enrolment(self, info: DeviceInfo) -> None:
        """The token must be this kiosk's: say which name is wrong, and what to run.

        An enrolled kiosk (``device.json``) is checked by its device and site; one that was
        never enrolled is checked by the name its waiting events carry, and told to enrol
        (its events are then re-homed, none refused).
        """
        if self.enrolment is not None:
            enrolled = self.enrolment()
            self.device_id = enrolled.device_id if enrolled else None
            self.site_id = enrolled.site_id if enrolled else None
        enrol = (
            f"kiosk-admin enrol --device {info.device_id} --site {info.site_id} "
            "--endpoint URL --token-file FILE"
        )
        if self.device_id is None:
            oldest = self.store.oldest_waiting()
            named = oldest.device_id if oldest is not None else info.device_id
            if named != info.device_id:
                raise IdentityMismatch(
                    f"this kiosk is not enrolled yet: its events carry the name {named!r} "
                    f"(the demo's or the host's), and the token is device {info.device_id!r} "
                    f"at site {info.site_id!r}. Nothing was sent. If this kiosk is "
                    f"{info.device_id}, enrol it: {enrol} (every event recorded so far then "
                    "counts as its own)"
                )
            return
        if self.device_id != info.device_id:
            raise IdentityMismatch(
                f"this kiosk is enrolled as device {self.device_id!r} but the token is device "
                f"{info.device_id!r}'s; nothing was sent. Put {self.device_id}'s own token in "
                f"the token file, or, if this kiosk is {info.device_id}: {enrol}"
            )
        if self.site_id is not None and self.site_id != info.site_id:
            raise IdentityMismatch(
                f"this kiosk is enrolled at site {self.site_id!r} but the server has device "
                f"{info.device_id!r} at site {info.site_id!r}; nothing was sent (its events "
                f"would be refused). Enrol it again where it stands: {enrol}"
            )

    def rehome_waiting(self, batch: list[Event], identity: DeviceInfo) -> list[Event]:
        """Events of this enrolled kiosk that still carry another name (recorded before the
        enrolment, or by an app that had not noticed it yet) take the enrolled one first."""
        if self.device_id is None or all(
            (e.device_id, e.site_id) == (identity.device_id, identity.site_id) for e in batch
        ):
            return batch
        rehome = getattr(self.store, "rehome", None)
        if rehome is None:
            return batch
        done = rehome(DeviceIdentity(identity.device_id, identity.site_id), self.clock())
        log.warning("re-homed before sending: %s", done.describe())
        return self.store.pending(len(batch))

    def reconcile(self, report: PassReport) -> None:
        """The server (restored from a backup) holds less than was delivered: re-send what is
        kept, write off what is not. Twice a pass at most; a gap that does not move after
        that is left for an hour (``resend_stuck``), so a confused server cannot make every
        pass re-send the whole retention window."""
        store = self.store
        holds = report.holds_up_to
        for attempt in range(3):
            delivered = store.delivered_through()
            if delivered == 0:
                return
            if holds is None:
                self.identity = self.client.whoami()
                self.heartbeat()
                holds = report.holds_up_to = self.identity.holds_up_to
            if holds >= delivered:
                if store.sync_state().get("resend_stuck"):
                    store.update_sync_state(resend_stuck=None)
                return
            now = self.clock()
            if recovery.gap_is_stuck(store.sync_state(), holds, now):
                return
            if attempt == 2:
                break
            device_id = self.check_identity().device_id
            try:
                outcome = recovery.handle_gap(store, self.client, device_id, holds, delivered, now)
            except ProtocolMismatch as exc:  # a server without /gaps: re-send what we can
                log.warning("the server cannot take write-offs: %s", exc)
                outcome = recovery.GapOutcome(holds, delivered, requeued=0)
            report.requeued += outcome.requeued
            report.written_off += sum(s.count for s in outcome.lost) + len(outcome.set_aside)
            batches = report.batches
            if outcome.requeued:
                self.push(report)
            # The freshest word from the server: the last batch's answer, else the write-off's.
            holds = report.holds_up_to if report.batches > batches else outcome.holds_after
            if holds is not None:
                report.holds_up_to = holds
        store.update_sync_state(
            resend_stuck={"server_held": holds, "at": recovery.iso(self.clock())}
        )
        log.error(
            "the server still holds this kiosk's events only up to seq %s after re-sending; "
            "trying again in an hour",
            holds,
        )

    def pull_setup(self, report: PassReport) -> None:
        """The site's timetable and the organisation's risk list, every few minutes."""
        now = self.clock()
        if not recovery.setup_due(self.store.sync_state(), now, self.setup_interval):
            return
        try:
            report.setup_changes += recovery.pull_setup(self.store, self.client, now)
        except ProtocolMismatch as exc:  # an older server without /setup: not a sync failure
            log.warning("the server gives no timetable or risk list: %s", exc)
            self.store.update_sync_state(last_setup_pull=recovery.iso(now))
        self.heartbeat()

    # -- sending ---------------------------------------------------------------------------------
    def push(self, report: PassReport) -> None:
        size = self.batch_size
        while not self.should_stop():
            batch = self.store.pending(size)
            if not batch:
                return
            identity = self.check_identity()
            batch = self.rehome_waiting(batch, identity)
            if not batch:
                return
            if batch[0].device_id != identity.device_id:
                raise AuthRefused(
                    f"the token belongs to device {identity.device_id!r} but this kiosk's events "
                    f"are from device {batch[0].device_id!r}; nothing was sent. Put this kiosk's "
                    "own token in the token file."
                )
            try:
                answer = self.client.send_events([e.to_dict() for e in batch])
            except BatchTooLarge as exc:
                if size > 1:
                    size = max(1, size // 2)
                    log.warning("%s; trying %d event(s) per batch", exc, size)
                    continue
                reason = f"the server refused this event even on its own as too large ({exc})"
                self.store.mark_rejected(batch[0].event_id, reason)
                report.rejected += 1
                log.error("event %s set aside: %s", batch[0].event_id, reason)
                continue
            self._apply_answer(batch, answer, report)
            report.batches += 1
            self.heartbeat()

    def _apply_answer(self, batch: list[Event], answer: BatchResponse, report: PassReport) -> None:
        sent_ids = {e.event_id for e in batch}
        done: list[str] = []
        refused: list[tuple[str, str]] = []
        conflicting: list[tuple[str, str]] = []
        answered: set[str] = set()
        for result in answer.results:
            if result.event_id not in sent_ids:
                log.warning("the server answered for an event not sent: %s", result.event_id)
                continue
            answered.add(result.event_id)
            if result.status == "accepted":
                report.accepted += 1
                done.append(result.event_id)
            elif result.status == "duplicate":
                report.duplicate += 1
                done.append(result.event_id)
            elif result.status == "conflict":
                conflicting.append((result.event_id, result.reason or "conflict"))
            else:
                refused.append((result.event_id, result.reason or "rejected (no reason given)"))
        # Only now, with the server's answer naming them, are events marked sent.
        if done:
            self.store.mark_sent(done, at=self.clock())
        for event_id, reason in refused:
            self.store.mark_rejected(event_id, reason)
            report.rejected += 1
            log.error("event %s rejected by the server and set aside: %s", event_id, reason)
        for event_id, reason in conflicting:
            # The server holds another copy under this id and keeps it: set aside here for
            # someone to compare, never sent again on its own.
            self.store.mark_rejected(event_id, reason, kind="conflict")
            report.conflicts += 1
            log.error("event %s differs from the server's copy, set aside: %s", event_id, reason)
        holds = answer.server_holds_up_to.get(batch[0].device_id)
        if holds is not None:
            report.holds_up_to = holds
        missing = sent_ids - answered
        if missing:
            raise ProtocolMismatch(
                f"the server did not answer for {len(missing)} of {len(batch)} event(s); "
                "they stay pending"
            )

    # -- the roster ------------------------------------------------------------------------------
    def pull_roster(self, report: PassReport) -> None:
        """Families and cards registered at the organisation's other kiosks."""
        state = self.store.sync_state()
        cursor = int(state.get("roster_cursor") or 0)
        # Families erased on the server since the last pull come with the pages,
        # for a store that can forget them (a test double may not).
        can_erase = hasattr(self.store, "apply_erasures")
        erased_after = int(state.get("erasure_cursor") or 0)
        # A new or restored store also pulls back its own device's older families and cards.
        own = self.store.seq_floor() if self.recovery else 0
        restarted = False
        for _ in range(MAX_ROSTER_PAGES):
            ask: dict[str, int] = {"erasures_after": erased_after} if can_erase else {}
            if own:
                ask["own_through"] = own
            page = self.client.roster(cursor, **ask)
            why = None if restarted else recovery.roster_restart(state, page, cursor)
            if why is not None:
                log.warning("pulling the roster again from the start: %s", why)
                restarted = True
                self.store.update_sync_state(
                    roster_cursor=0,
                    erasure_cursor=0,
                    roster_epoch=page.epoch,
                    roster_reset={"why": why, "at": iso(self.clock())},
                )
                cursor = erased_after = 0
                continue
            if page.epoch and state.get("roster_epoch") != page.epoch:
                self.store.update_sync_state(roster_epoch=page.epoch)
                state = {**state, "roster_epoch": page.epoch}
            events = []
            for raw in page.events:
                try:
                    events.append(Event.from_dict(raw))
                except (KeyError, TypeError, ValueError) as exc:
                    log.warning("roster event %r skipped: %s", raw.get("event_id"), exc)
            self.heartbeat()
            if events:
                report.roster_applied += self.store.apply_remote(events)
            # The cursor is saved after the events are applied: a crash in between applies them
            # again next time, which changes nothing (events are idempotent).
            self.store.update_sync_state(
                roster_cursor=page.cursor, last_roster_pull=iso(self.clock())
            )
            # Erasures after the events: a family erased meanwhile is not left behind. The
            # cursor is saved after they are applied (applying one again changes nothing).
            more_erasures = False
            if can_erase and page.erasures is not None:
                if page.erasures:
                    report.erased += self.store.apply_erasures(
                        [notice.model_dump() for notice in page.erasures]
                    )
                if page.erasure_cursor is not None and page.erasure_cursor > erased_after:
                    erased_after = page.erasure_cursor
                    self.store.update_sync_state(erasure_cursor=erased_after)
                    more_erasures = page.erasures_more
            if (not page.more or page.cursor <= cursor) and not more_erasures:
                return
            cursor = max(cursor, page.cursor)

    # -- state for kiosk-admin -------------------------------------------------------------------
    def _record(self, report: PassReport) -> None:
        now = iso(self.clock())
        changes: dict[str, Any] = {
            "last_attempt": now,
            "backlog": report.waiting,
            "last_sent": report.sent,
        }
        if report.holds_up_to is not None:
            changes["server_holds_up_to"] = report.holds_up_to
        if report.error is None:
            changes.update(
                last_success=now,
                last_error=None,
                last_error_at=None,
                auth_refused=None,
                identity_problem=None,
            )
        else:
            changes.update(last_error=f"{report.outcome}: {report.error}", last_error_at=now)
            if report.outcome == "auth":
                if isinstance(report.error, IdentityMismatch):
                    changes.update(identity_problem=str(report.error), auth_refused=None)
                else:
                    changes.update(auth_refused=now, identity_problem=None)
        self.store.update_sync_state(**changes)
