"""Kiosk health: is each kiosk working, and if not, what should someone do?

The dashboard's "Kiosk health" panel and ``kiosk-central device health`` both call
:func:`device_health` on the same facts (DESIGN.md, The seams: Status), so neither can say
"all is well" while the other says otherwise. The facts are what the kiosk last reported
(``POST /api/v1/status``: waiting, refused and why, clock, software) and what the server knows
itself: last contact, refused events it stored after that report, and write-offs.

A kiosk is never OK while any of its events is refused or in conflict, events wait longer
than :data:`STUCK_AFTER` although it is in contact, it has not been in contact for
:data:`NO_CONTACT_WARN`, its clock is not synchronised, or it has never said how it is (the
server cannot vouch for what it has not been told). Refused, conflicting and stuck events are
``fail`` (they are not counted), as the kiosk's own ``kiosk.health`` says; the rest ``warn``.

    >>> from datetime import UTC, datetime
    >>> now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    >>> health = device_health(DeviceFacts("kiosk-1", "lichfield", "library"), now)
    >>> health.level, health.label
    ('warn', 'Needs attention')

This module is pure (no database, no clock of its own); :func:`kiosk_health` fetches the
facts through :meth:`central.db.CentralDB.device_health_facts`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from central.db import CentralDB

Level = Literal["ok", "warn", "fail"]
#: The word shown with each level, so the state is never told by colour alone.
LABELS: dict[str, str] = {"ok": "OK", "warn": "Needs attention", "fail": "Not working"}
_RANK = {"ok": 0, "warn": 1, "fail": 2}

#: Events still waiting this long after a pass that reached the server are stuck.
STUCK_AFTER = timedelta(hours=1)
#: No contact for this long needs attention (a kiosk may be switched off between sessions)...
NO_CONTACT_WARN = timedelta(days=1)
#: ...and for this long it is not working.
NO_CONTACT_FAIL = timedelta(days=7)
#: The kiosk's clock this far from the server's, when the report was taken, is wrong.
CLOCK_OFF_WARN = timedelta(minutes=10)
#: A status report this much older than the last contact means reporting has stopped.
REPORT_STALE = timedelta(days=1)
#: Write-offs reported within this long are shown as a problem; older ones only counted.
RECENT_WRITE_OFF = timedelta(days=7)

#: What to do about refused events (the kiosk keeps them aside, never deletes them).
RETRY_TODO = "fix the cause, then on the kiosk run `kiosk-admin rejected retry`"
DOCTOR_TODO = "on the kiosk, `kiosk-admin doctor` says what is wrong"


# -- the facts -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReportedStatus:
    """The kiosk's latest status report, as stored (``received_at`` is the server's clock,
    ``sent_at`` and ``oldest_waiting_at`` the kiosk's)."""

    received_at: datetime
    sent_at: datetime
    waiting: int
    oldest_waiting_at: datetime | None
    rejected: int
    reasons: tuple[tuple[str, int], ...]
    clock_synced: bool
    software_version: str
    conflicts: int = 0


@dataclass(frozen=True)
class WriteOff:
    """Seqs the kiosk told the server it can never send (``POST /api/v1/gaps``)."""

    kind: str
    seqs: int
    reported_at: datetime


@dataclass(frozen=True)
class DeviceFacts:
    """Everything the server knows about one enrolled kiosk's health."""

    device_id: str
    org_id: str
    site_id: str
    #: The latest authenticated request of the device (a batch, whoami, a status report).
    last_contact: datetime | None = None
    report: ReportedStatus | None = None
    #: Refused events the server stored after the report (all of them without a report),
    #: not since accepted: (reason, count).
    server_rejected: tuple[tuple[str, int], ...] = ()
    write_offs: tuple[WriteOff, ...] = ()
    #: Copies of held events with other content the server was sent after the report (all
    #: of them without a report): the kiosk's own count covers those before.
    conflicts_held: int = 0
    #: Refused events answered but not kept on the server, its quota being full.
    unkept_rejections: int = 0


# -- the verdict -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    """One thing wrong: what, in plain words, and what to do about it."""

    level: Level
    what: str
    todo: str

    def line(self) -> str:
        return f"{self.level}: {self.what} — {self.todo}"


@dataclass(frozen=True)
class RefusedReason:
    """A reason events were refused for: as the server or kiosk gave it (for whoever fixes
    it; it may quote the refused value) and in plain words (for everyone)."""

    reason: str
    count: int
    meaning: str


@dataclass(frozen=True)
class DeviceHealth:
    """One kiosk's state (``ok``/``warn``/``fail``), one plain sentence, and its problems."""

    device_id: str
    org_id: str
    site_id: str
    level: Level
    sentence: str
    problems: tuple[Problem, ...]
    last_contact: datetime | None
    last_contact_ago: str
    #: None: the kiosk has never said (no status report).
    waiting: int | None
    oldest_waiting_at: datetime | None
    rejected: int
    reasons: tuple[RefusedReason, ...]
    conflicts: int
    clock_synced: bool | None
    software_version: str | None
    written_off: int
    reported_at: datetime | None

    @property
    def label(self) -> str:
        return LABELS[self.level]

    @property
    def ok(self) -> bool:
        return self.level == "ok"

    def lines(self) -> list[str]:
        """``level: device at org/site: sentence`` (the worst problem), then the other
        problems and the refusal reasons indented (like ``kiosk-admin doctor``)."""
        out = [f"{self.level}: {self.device_id} at {self.org_id}/{self.site_id}: {self.sentence}"]
        out.extend(f"  {p.line()}" for p in self.problems[1:])
        for r in self.reasons:
            out.append(f"  refused {r.count}: {r.meaning} (server said: {r.reason})")
        return out


def worst(levels: Iterable[str]) -> Level:
    """The most serious of ``levels`` (``ok`` when there are none)."""
    found: Level = "ok"
    for level in levels:
        if _RANK[level] > _RANK[found]:
            found = level  # type: ignore[assignment]
    return found


def span(delta: timedelta) -> str:
    """A length of time as people say it: ``5 minutes``, ``3 hours``, ``2 days``."""
    seconds = max(0.0, delta.total_seconds())
    if seconds < 90:
        return "a moment"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} minutes"
    if seconds < 36 * 3600:
        return f"{round(seconds / 3600)} hours"
    return f"{round(seconds / 86400)} days"


def ago(then: datetime | None, now: datetime) -> str:
    """``never``, ``just now``, ``5 minutes ago``..."""
    if then is None:
        return "never"
    if now - then < timedelta(seconds=90):
        return "just now"
    return f"{span(now - then)} ago"


_FIELD = re.compile(r"^([A-Za-z_][\w.]*): ")


def explain_reason(reason: str) -> str:
    """What a refusal means, in words staff can act on (never quoting the refused value)."""
    text = reason.strip()
    if "belongs to another organisation" in text:
        return (
            "It is about a family or attendance of another organisation: check the kiosk is "
            "enrolled with its own organisation's token."
        )
    if text.startswith(("device_id: ", "site_id: ")) and " is not the " in text:
        return (
            "It names another kiosk or site than the one the token is for: enrol the kiosk "
            "again where it stands."
        )
    if text.startswith("seq: ") and "already used" in text:
        return (
            "Its number was already used by another event of this kiosk (a store restored or "
            "replaced by hand): ask whoever looks after the kiosks."
        )
    if "too large" in text:
        return "It is too large for the server to take: ask whoever looks after the kiosks."
    found = _FIELD.match(text)
    if found:
        name = found.group(1)
        if "Field required" in text:
            return (
                f"Something the server needs ({name}) is missing: the kiosk's software may not "
                "match the server's; update it."
            )
        return (
            f"The server could not accept what it says in {name}: the kiosk's software may "
            "not match the server's, or the entry was mistyped."
        )
    return "The server refused it: ask whoever looks after the kiosks."


def _merge(*groups: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for group in groups:
        for reason, count in group:
            counts[reason] = counts.get(reason, 0) + count
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def _latest(*times: datetime | None) -> datetime | None:
    known = [t for t in times if t is not None]
    return max(known) if known else None


def _events(n: int) -> str:
    return f"{n} event{'s' if n != 1 else ''}"


def device_health(facts: DeviceFacts, now: datetime) -> DeviceHealth:
    """The health of one kiosk from its facts at ``now`` (pure: the same facts, the same
    answer, for the dashboard and the command line alike)."""
    problems: list[Problem] = []
    report = facts.report
    contact = _latest(facts.last_contact, report.received_at if report else None)

    if contact is None:
        problems.append(
            Problem(
                "warn",
                "it has never been in contact with the server",
                f"switch it on and connect it to the network; {DOCTOR_TODO}",
            )
        )
    elif now - contact > NO_CONTACT_WARN:
        quiet = now - contact
        problems.append(
            Problem(
                "fail" if quiet > NO_CONTACT_FAIL else "warn",
                f"it has not been in contact for {span(quiet)}",
                "check it is switched on and on the network (its check-ins are kept on it "
                f"meanwhile); {DOCTOR_TODO}",
            )
        )

    refused = _merge(report.reasons if report else (), facts.server_rejected)
    rejected = (report.rejected if report else 0) + sum(n for _r, n in facts.server_rejected)
    rejected = max(rejected, sum(n for _r, n in refused))
    if report is None:
        if contact is not None:
            problems.append(
                Problem(
                    "warn",
                    "it has never said how it is (its software may be older than the server's)",
                    "update the kiosk's software; until then its waiting events and clock "
                    "cannot be seen here",
                )
            )
    else:
        if contact is not None and contact - report.received_at > REPORT_STALE:
            problems.append(
                Problem(
                    "warn",
                    f"it last said how it is {ago(report.received_at, now)}, though still in "
                    "contact",
                    f"update the kiosk's software or look at its sync log; {DOCTOR_TODO}",
                )
            )
        oldest = report.oldest_waiting_at if report.waiting else None
        fresh = now - report.received_at <= NO_CONTACT_WARN  # else "not in contact" says it
        if oldest is not None and fresh and report.sent_at - oldest > STUCK_AFTER:
            problems.append(
                Problem(
                    "fail",
                    f"{_events(report.waiting)} waiting to be sent, the oldest for "
                    f"{span(report.sent_at - oldest)}, although it reached the server "
                    f"{ago(report.received_at, now)}",
                    f"they are safe on the kiosk but not reaching the server; {DOCTOR_TODO} "
                    "(and `kiosk-admin status` shows the last error)",
                )
            )
        if not report.clock_synced:
            problems.append(
                Problem(
                    "warn",
                    "its clock is not synchronised, so its check-ins are marked for review",
                    "check the kiosk's network and run `timedatectl` on it",
                )
            )
        elif abs(report.received_at - report.sent_at) > CLOCK_OFF_WARN:
            problems.append(
                Problem(
                    "warn",
                    f"its clock is {span(abs(report.received_at - report.sent_at))} off the "
                    "server's although it says it is synchronised",
                    "check its time server settings (`timedatectl timesync-status`)",
                )
            )
    if rejected:
        problems.append(
            Problem(
                "fail",
                f"{_events(rejected)} refused by the server and kept aside on the kiosk, so "
                "not yet in the registers or the invoice",
                RETRY_TODO,
            )
        )
    conflicts = (report.conflicts if report else 0) + facts.conflicts_held
    if conflicts:
        problems.append(
            Problem(
                "fail",
                f"{_events(conflicts)} differ from the copy the server already holds",
                "ask whoever looks after the kiosks to compare the two copies "
                "(`kiosk-central conflicts`); the server keeps its own copy and nothing is "
                "counted twice meanwhile",
            )
        )
    if facts.unkept_rejections:
        problems.append(
            Problem(
                "fail",
                f"{_events(facts.unkept_rejections)} more were refused than the server keeps "
                "for one kiosk, so only counted",
                "something is sending the server junk with this kiosk's token: revoke it "
                "(`kiosk-central device revoke`) and enrol the kiosk again",
            )
        )
    recent = [w for w in facts.write_offs if now - w.reported_at <= RECENT_WRITE_OFF]
    if recent:
        count = sum(w.seqs for w in recent)
        problems.append(
            Problem(
                "warn",
                f"{_events(count)} it could no longer send {'was' if count == 1 else 'were'} "
                f"written off {ago(max(w.reported_at for w in recent), now)}; the registers "
                "of their sessions say they are incomplete",
                "nothing to retry: check those sessions' paper registers",
            )
        )

    problems.sort(key=lambda p: -_RANK[p.level])
    level = worst(p.level for p in problems)
    if problems:
        first = problems[0]
        sentence = f"{first.what[0].upper()}{first.what[1:]}: {first.todo}."
        if len(problems) > 1:
            more = len(problems) - 1
            sentence += f" ({more} more problem{'s' if more != 1 else ''} below.)"
    else:
        waiting = report.waiting if report else 0
        sentence = f"Working: in contact {ago(contact, now)}, " + (
            f"{_events(waiting)} waiting to be sent." if waiting else "nothing waiting."
        )
    return DeviceHealth(
        device_id=facts.device_id,
        org_id=facts.org_id,
        site_id=facts.site_id,
        level=level,
        sentence=sentence,
        problems=tuple(problems),
        last_contact=contact,
        last_contact_ago=ago(contact, now),
        waiting=report.waiting if report else None,
        oldest_waiting_at=report.oldest_waiting_at if report and report.waiting else None,
        rejected=rejected,
        reasons=tuple(RefusedReason(r, n, explain_reason(r)) for r, n in refused),
        conflicts=conflicts,
        clock_synced=report.clock_synced if report else None,
        software_version=report.software_version if report else None,
        written_off=sum(w.seqs for w in facts.write_offs),
        reported_at=report.received_at if report else None,
    )


def kiosk_health(db: CentralDB, org_id: str | None, now: datetime) -> list[DeviceHealth]:
    """Every active kiosk of ``org_id`` (every organisation's for None), by site and name."""
    return [device_health(facts, now) for facts in db.device_health_facts(org_id)]


def summary(healths: Sequence[DeviceHealth]) -> str:
    """``3 kiosks: 2 OK, 1 needs attention``: the panel's heading line."""
    counts = {level: sum(1 for h in healths if h.level == level) for level in LABELS}
    parts = [f"{counts['ok']} OK"] if counts["ok"] else []
    if counts["warn"]:
        parts.append(f"{counts['warn']} need{'s' if counts['warn'] == 1 else ''} attention")
    if counts["fail"]:
        parts.append(f"{counts['fail']} not working")
    n = len(healths)
    return f"{n} kiosk{'s' if n != 1 else ''}: " + ", ".join(parts) if n else "No kiosks enrolled"
