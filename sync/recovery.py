"""Recovery without loss: the sync daemon's part.

Three moments lose data in comparable systems; each ends here with every attendance counted
exactly once:

**The server was restored from a backup.** On every exchange the server says up to which seq
it holds every event of this kiosk (``holds_up_to``). When that is below what this kiosk knows
was delivered (``LocalStore.delivered_through``), :func:`handle_gap` re-queues the events it
still keeps (``LocalStore.requeue_from``; the server answers ``duplicate`` for any it has) and
writes off, on the server, the seqs it no longer has (pruned after the retention window, set
aside as rejected, recorded on a store that was replaced), naming their sessions from the
store's ``history.json``. ``kiosk-admin status`` then says ``last_resend: seq 41-97 (57
events) at ...`` and, for what could not be sent, ``missing: seq 1-40 (sessions
2026-09-07/stay-play, ...) — no longer on this kiosk``. Written-off seqs count as held on the
server, so ``holds_up_to`` moves on and later gaps are still seen.

The roster cursor the kiosk keeps may then be ahead of the restored server: the roster answer
carries the database's ``epoch`` (renewed by ``kiosk-central restore``) and its highest cursor;
either tells the kiosk to pull the roster again from 0 (:func:`roster_restart`).

**The kiosk's store is new or restored** (a new SD card; a backup put back). The server knows
the highest seq it has seen from this device (``DeviceInfo.highest_seq``); a store behind it
continues above it (:func:`adopt_server_floor`, a durable *seq floor* in the store), so no seq
is ever used twice, and pulls its own old families and cards back with the roster
(``own_through``). ``kiosk-admin enrol ... --endpoint URL --token-file F`` does this at once
and pulls the timetable and risk list (:func:`pull_setup`), so the kiosk is ready for the door.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from kiosk.domain.desk import KIOSK_TZ
from kiosk.domain.risk import RiskList
from kiosk.domain.timetable import Timetable, merge_timetable
from sync.protocol import MAX_BATCH_EVENTS, DeviceInfo, Gap, RosterResponse, SetupResponse

log = logging.getLogger("sync")

#: Seconds between two pulls of the timetable and risk list (also pulled after a restart).
SETUP_INTERVAL = 600.0
#: The furthest a kiosk follows the server's highest seq above its own (a write-off may reach
#: ``central.claims.WRITE_OFF_ALLOWANCE`` past what the server saw; this is ten times that).
FLOOR_JUMP_MAX = 1_000_000
#: A gap the server still shows right after it was handled is not handled again for this long.
STUCK_RETRY = 3600.0
#: Missing ranges remembered for ``kiosk-admin status``.
MISSING_KEPT = 20


@runtime_checkable
class RecoveryStore(Protocol):
    """What recovery needs from ``kiosk.store.LocalStore`` beyond ``sync.syncer.SyncStore``."""

    def delivered_through(self) -> int: ...
    def highest_seq(self) -> int: ...
    def requeue_from(self, seq: int) -> int: ...
    def seq_inventory(self, low: int, high: int) -> Any: ...
    def raise_seq_floor(self, seq: int, why: str, at: datetime | None = None) -> int: ...
    def seq_floor(self) -> int: ...


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _parse(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None


def seq_text(first: int, last: int) -> str:
    return f"seq {first}" if first == last else f"seq {first}-{last}"


# -- a store behind the server: continue above what the server knows ---------------------------
def adopt_server_floor(store: Any, info: DeviceInfo, now: datetime) -> int | None:
    """If the server knows seqs of this device above the store's highest (a new or restored
    store), number new events above them. Returns the new floor, or None."""
    highest = store.highest_seq()
    if info.highest_seq <= highest:
        return None
    if info.highest_seq - highest > FLOOR_JUMP_MAX:
        # No kiosk issues that many events: a write-off gone wrong on the server.
        # Numbering above it would waste the seq space (and memory); the admin undoes it.
        log.error(
            "the server says it knows seq up to %d of device %s, %d past this store's %d: "
            "too far to be this kiosk's; not continuing above it (on the server: "
            "kiosk-central device gaps %s, then device undo-gap)",
            info.highest_seq,
            info.device_id,
            info.highest_seq - highest,
            highest,
            info.device_id,
        )
        store.update_sync_state(
            seq_floor_refused={"seq": info.highest_seq, "was": highest, "at": iso(now)}
        )
        return None
    clash = [e for e in store.pending(MAX_BATCH_EVENTS) if (e.seq or 0) <= info.highest_seq]
    why = (
        f"the server already knew seq up to {info.highest_seq} of device {info.device_id} "
        f"(this store had given up to {highest})"
    )
    store.raise_seq_floor(info.highest_seq, why, now)
    notes: dict[str, Any] = {
        "seq_floor": {"seq": info.highest_seq, "was": highest, "at": iso(now)},
        # Families and cards this device registered before are pulled back with the roster.
        "roster_cursor": 0,
    }
    log.warning(
        "this kiosk's store gave seqs up to %d but the server already knows up to %d for %s: "
        "new events continue from %d",
        highest,
        info.highest_seq,
        info.device_id,
        info.highest_seq + 1,
    )
    if clash:
        log.warning(
            "%d event(s) waiting here (%s) use seqs the server already knows: those it holds "
            "are answered 'duplicate'; any other is set aside as 'seq already used' and stays "
            "on this kiosk (kiosk-admin status)",
            len(clash),
            seq_text(clash[0].seq or 0, clash[-1].seq or 0),
        )
    store.update_sync_state(**notes)
    return info.highest_seq


# -- the server holds less than was delivered: re-send, or name what is gone -------------------
@dataclass
class GapOutcome:
    """What :func:`handle_gap` did."""

    holds_before: int
    delivered: int
    requeued: int = 0
    resent_from: int | None = None
    resent_to: int | None = None
    lost: list[Any] = field(default_factory=list)  # kiosk.store.history.LostSpan
    set_aside: dict[int, str] = field(default_factory=dict)
    holds_after: int | None = None
    #: Families told to the server again because their registration was among the lost seqs.
    reannounced: int = 0


def _session_of(store: Any, seq: int) -> list[str]:
    for entry in store.rejected():
        event = entry.get("event", {})
        if event.get("seq") == seq:
            data = event.get("data") or {}
            key = (data.get("session") or {}).get("key") or data.get("session_key")
            return [str(key)] if key else []
    return []


def gaps_for(store: Any, lost: Iterable[Any], set_aside: dict[int, str]) -> list[Gap]:
    """The write-offs to tell the server: lost spans, and seqs kept aside as rejected."""
    out = [
        Gap(
            from_seq=span.first,
            to_seq=span.last,
            kind="lost",
            detail=span.describe()[:500],
            sessions=list(span.sessions)[:500],
            events=span.count,
        )
        for span in lost
    ]
    out.extend(
        Gap(
            from_seq=seq,
            to_seq=seq,
            kind="set_aside",
            detail=f"kept aside on the kiosk: {reason}"[:500],
            sessions=_session_of(store, seq),
            events=1,
        )
        for seq, reason in sorted(set_aside.items())
    )
    return out


def reannounce_families(store: Any, kept: Iterable[int], now: datetime) -> int:
    """The server lost seqs this kiosk no longer has (pruned): if they held the registration
    of families that kept events name, the server would refuse those events (it counts only
    families it holds). Tell it the families again, as this kiosk holds them now
    (``member.updated``), right behind the events sent again, so they go in the same batch
    where the batch is big enough (a refusal says why otherwise, and ``rejected retry``
    sends them once the families are in). Returns how many families were told."""
    from kiosk.domain.events import Event

    wanted = set(kept)
    named: dict[str, Any] = {}
    for event in store.events():
        if event.seq in wanted and isinstance(event.data, Mapping):
            family_id = event.data.get("family_id")
            if isinstance(family_id, str) and family_id not in named:
                named[family_id] = event
    fresh = []
    for family_id, event in named.items():
        family = store.family(family_id)
        if family is None:
            continue
        fresh.append(
            Event(
                type="member.updated",
                at=now,
                data={"family": family.to_dict(), "volunteer": None},
                device_id=event.device_id,
                site_id=event.site_id,
            )
        )
    if fresh:
        store.record(fresh)
        log.warning(
            "told the server again of %d famil%s whose registration it lost with those seqs",
            len(fresh),
            "y" if len(fresh) == 1 else "ies",
        )
    return len(fresh)


def handle_gap(
    store: Any, client: Any, device_id: str, holds: int, delivered: int, now: datetime
) -> GapOutcome:
    """The server holds this kiosk's events only up to ``holds`` though ``delivered`` were
    acknowledged: re-queue what is kept, write off on the server what is not, and note both
    for ``kiosk-admin status``. The re-queued events go with the next push."""
    outcome = GapOutcome(holds, delivered)
    inventory = store.seq_inventory(holds + 1, delivered)
    outcome.requeued = store.requeue_from(holds + 1)
    if inventory.kept:
        outcome.resent_from, outcome.resent_to = inventory.kept[0], inventory.kept[-1]
    outcome.lost = list(inventory.lost)
    outcome.set_aside = dict(inventory.rejected)
    notes: dict[str, Any] = {}
    if outcome.requeued or inventory.kept:
        notes["last_resend"] = {
            "from": outcome.resent_from,
            "to": outcome.resent_to,
            "events": outcome.requeued,
            "server_held": holds,
            "at": iso(now),
        }
        log.warning(
            "the server holds this kiosk's events only up to seq %d, but up to %d were "
            "delivered (was it restored from a backup?): sending again %d event(s) kept here "
            "(%s)",
            holds,
            delivered,
            outcome.requeued,
            seq_text(outcome.resent_from or holds + 1, outcome.resent_to or delivered),
        )
    if outcome.lost:
        previous = [
            m
            for m in store.sync_state().get("missing") or []
            if isinstance(m, dict)
            and not any(m.get("from") == s.first and m.get("to") == s.last for s in outcome.lost)
        ]
        fresh = [
            {
                "from": s.first,
                "to": s.last,
                "reason": s.reason,
                "sessions": list(s.sessions),
                "text": s.describe(),
                "at": iso(now),
            }
            for s in outcome.lost
        ]
        notes["missing"] = (previous + fresh)[-MISSING_KEPT:]
        for span in outcome.lost:
            log.error("the server lacks %s; it was told so", span.describe())
    if outcome.lost and inventory.kept:
        outcome.reannounced = reannounce_families(store, inventory.kept, now)
    gaps = gaps_for(store, outcome.lost, outcome.set_aside)
    for start in range(0, len(gaps), MAX_BATCH_EVENTS):
        answer = client.report_gaps(gaps[start : start + MAX_BATCH_EVENTS])
        outcome.holds_after = answer.server_holds_up_to.get(device_id, outcome.holds_after)
    if notes:
        store.update_sync_state(**notes)
    return outcome


def gap_is_stuck(state: dict[str, Any], holds: int, now: datetime) -> bool:
    """The same gap was handled less than ``STUCK_RETRY`` ago and the server did not move."""
    stuck = state.get("resend_stuck")
    if not isinstance(stuck, dict) or stuck.get("server_held") != holds:
        return False
    at = _parse(stuck.get("at"))
    return at is not None and (now - at).total_seconds() < STUCK_RETRY


# -- the roster after a server restore ---------------------------------------------------------
def roster_restart(state: dict[str, Any], page: RosterResponse, cursor: int) -> str | None:
    """Why the roster must be pulled again from 0, or None."""
    known = state.get("roster_epoch")
    if page.epoch and known and page.epoch != known:
        return f"the server's database was restored (epoch {known} is now {page.epoch})"
    if page.max_cursor is not None and cursor > page.max_cursor:
        return (
            f"this kiosk's roster cursor {cursor} is ahead of the server's {page.max_cursor} "
            "(the server was restored from a backup)"
        )
    return None


# -- timetable and risk list from the server ---------------------------------------------------
def setup_due(state: dict[str, Any], now: datetime, interval: float = SETUP_INTERVAL) -> bool:
    last = _parse(state.get("last_setup_pull")) if state.get("last_setup_pull") else None
    return last is None or (now - last).total_seconds() >= interval


def _slots(timetable: Timetable) -> list[dict[str, Any]]:
    return sorted(timetable.to_list(), key=lambda s: str(s["slot_id"]))


def merge_server_timetable(store: Any, server: Timetable, now: datetime) -> list[str]:
    """Merge the server's timetable with this kiosk's own sessions
    (``kiosk.domain.timetable.merge_timetable``); what changed, in words."""
    local = store.timetable()
    now_local = now.astimezone(KIOSK_TZ)
    today = now_local.date()
    attended = {
        slot.slot_id
        for slot in local.slots
        if slot.origin == "server"
        and slot.runs_on(today)
        and store.attendances_in(slot.occurrence(today).key)
    }
    merged = merge_timetable(local, server, now_local, attended)
    changes: list[str] = []
    if _slots(merged.timetable) != _slots(local):
        store.save_timetable(merged.timetable)
        own = sum(1 for s in merged.timetable.slots if s.origin != "server")
        changes.append(
            f"timetable: {len(server.slots)} session(s) from the server, {own} made here kept"
        )
    changes += [f"kept until the day is over: {text}" for text in merged.kept]
    for note in merged.left_out:
        log.warning("%s", note)
    changes += merged.left_out
    if merged.left_out:
        store.update_sync_state(timetable_conflicts=list(merged.left_out))
    elif store.sync_state().get("timetable_conflicts"):
        store.update_sync_state(timetable_conflicts=None)
    return changes


def apply_setup(store: Any, setup: SetupResponse, now: datetime) -> list[str]:
    """Put the server's timetable and risk list in force where they differ; what changed."""
    changes: list[str] = []
    if setup.timetable is not None:
        changes += merge_server_timetable(
            store, Timetable.from_list(setup.timetable, "server"), now
        )
    if setup.risk is not None:
        server = RiskList.from_dict(setup.risk)
        if store.risk_list().version != server.version:
            saved = store.save_risk_list(
                server.areas,
                server.source or "central server",
                server.created_at or now,
                rule=server.rule,
                sources=server.sources,
                number=server.number,
            )
            changes.append(
                f"risk list {saved.version} from the server ({len(server.areas)} entries)"
            )
    notes: dict[str, Any] = {"last_setup_pull": iso(now)}
    if setup.risk_version:
        notes["setup_risk_version"] = setup.risk_version
    if changes:
        notes["last_setup_change"] = {"what": changes, "at": iso(now)}
    store.update_sync_state(**notes)
    for change in changes:
        log.info("%s", change)
    return changes


def pull_setup(store: Any, client: Any, now: datetime) -> list[str]:
    """Ask the server for the timetable and risk list (the list only if it is new here)."""
    state = store.sync_state()
    have = state.get("setup_risk_version") or store.risk_list().version
    return apply_setup(store, client.setup(have_risk=have), now)


# -- kiosk-admin enrol -------------------------------------------------------------------------
def enrol_with_server(
    store: Any,
    client: Any,
    device_id: str,
    site_id: str,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    info: DeviceInfo | None = None,
) -> list[tuple[str, str]]:
    """Check the token is this kiosk's, continue above the seqs the server knows, then one
    full sync pass (send, re-send gaps, timetable and risk list, roster). ``key: value`` lines.
    ``info`` is the server's answer to whoami when the caller already asked."""
    from sync.client import AuthRefused
    from sync.syncer import Syncer

    info = info or client.whoami()
    if info.device_id != device_id or info.site_id != site_id:
        raise AuthRefused(
            f"the token belongs to device {info.device_id!r} at site {info.site_id!r}, not "
            f"{device_id!r} at {site_id!r}: use this kiosk's own token (kiosk-central device add)"
        )
    lines = [
        (
            "server",
            f"{client.endpoint} knows {info.device_id} at {info.org_id}/{info.site_id}, "
            f"holds seq up to {info.holds_up_to}",
        )
    ]
    floor = adopt_server_floor(store, info, clock())
    if floor is not None:
        lines.append(("seq_floor", f"{floor} (new events continue from {floor + 1})"))
    syncer = Syncer(store, client, clock=clock, device_id=device_id, site_id=site_id)
    store.update_sync_state(last_setup_pull=None)
    report = syncer.run_pass()
    if report.error is not None:
        lines.append(("sync", f"failed: {report.error}"))
    else:
        lines.append(("sync", report.summary()))
    timetable = store.timetable()
    lines.append(("sessions", str(len(timetable.slots))))
    lines.append(("risk_version", store.risk_list().version))
    lines.append(("families", str(len(store.families()))))
    ready = report.error is None and bool(timetable.slots)
    lines.append(
        (
            "ready",
            "yes"
            if ready
            else "no: "
            + (
                "the sync failed"
                if report.error is not None
                else "no sessions (add them with 'kiosk-central session add' or kiosk-admin)"
            ),
        )
    )
    return lines


def describe_resend(note: dict[str, Any]) -> str:
    """``seq 41-97 (57 events) at 2026-...Z (the server held up to 40)``."""
    first, last = note.get("from"), note.get("to")
    seqs = seq_text(int(first), int(last)) if first and last else "seqs"
    return (
        f"{seqs} ({note.get('events', 0)} events) at {note.get('at', '?')} "
        f"(the server held up to {note.get('server_held', '?')})"
    )
