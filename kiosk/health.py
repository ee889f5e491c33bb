"""Is all well with this kiosk's records? One answer for every place that says so.

The volunteer's status dot, ``kiosk-admin status`` (its ``health`` line), ``kiosk-admin
doctor`` and the report the sync daemon sends to the server's kiosk health panel are all made
from :func:`assess` over the same :class:`Facts`, so none of them can be green while another
says an attendance is refused, stuck or waiting too long (DESIGN.md, The seams: Status).

    >>> health = assess(read_facts(store), datetime.now(UTC))      # doctest: +SKIP
    >>> health.level, health.problems[0].what                      # doctest: +SKIP
    ('fail', '3 event(s) were refused by the server and are not counted')

Nothing here draws or translates: the app turns :class:`Problem` codes into the volunteer's
words (``kiosk.ui.status``); ``what`` and ``todo`` are the admin's words.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

Level = Literal["ok", "warn", "fail"]
_ORDER: dict[str, int] = {"ok": 0, "warn": 1, "fail": 2}

#: A last successful send older than this means the kiosk is offline.
ONLINE_WITHIN = timedelta(minutes=15)
#: While online, an event still waiting after this long is stuck, not on its way.
STUCK_AFTER = timedelta(hours=1)
#: Offline with events waiting longer than this: the records are safe here, but late.
LATE_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class Facts:
    """What the store and the sync daemon's notes say (``None`` where not known)."""

    waiting: int | None = None
    oldest_waiting_at: datetime | None = None
    rejected: int = 0
    reasons: Mapping[str, int] | None = None
    last_success: datetime | None = None
    last_error: str | None = None
    auth_refused: str | None = None
    #: Why the token is not this kiosk's name (not enrolled, or enrolled as another).
    identity_problem: str | None = None
    clock_synced: bool | None = None
    timetable_conflicts: tuple[str, ...] = ()
    #: Events set aside because the server holds another copy of them .
    conflicts: int = 0


@dataclass(frozen=True)
class Problem:
    """One thing that is not well: a code the screens translate, and the admin's words."""

    code: str
    level: Level
    what: str
    todo: str
    count: int = 0
    since: datetime | None = None


@dataclass(frozen=True)
class Health:
    """The worst level among the problems, whether the kiosk is in contact, and why."""

    level: Level
    online: bool
    problems: tuple[Problem, ...]
    facts: Facts

    @property
    def ok(self) -> bool:
        return self.level == "ok"

    @property
    def worst(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    def line(self) -> str:
        """``ok: ...`` / ``fail: ... — what to do``: the ``health`` line of ``kiosk-admin
        status``, in the doctor's form."""
        worst = self.worst
        if worst is None:
            return "ok: every event recorded here is with the server"
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        return f"{self.level}: {worst.what}{more} — {worst.todo}"


def parse_when(value: Any) -> datetime | None:
    """A datetime from what the sync state holds (datetime, ISO text, epoch seconds), or None."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, datetime):
            when = value
        elif isinstance(value, int | float):
            when = datetime.fromtimestamp(value, UTC)
        else:
            when = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _call(obj: object, name: str, default: Any) -> Any:
    method: Callable[[], Any] | None = getattr(obj, name, None)
    if method is None:
        return default
    try:
        return method()
    except Exception:  # noqa: BLE001 - a status must never take the screen down
        return default


def read_facts(store: object, clock_synced: bool | None = None) -> Facts:
    """The facts from a store (any method may be missing or fail: that fact is unknown)."""
    waiting = _call(store, "waiting_count", None)
    try:
        waiting = int(waiting) if waiting is not None else None
    except (TypeError, ValueError):
        waiting = None
    oldest = _call(store, "oldest_waiting", None) if waiting else None
    state = _call(store, "sync_state", None)
    state = state if isinstance(state, Mapping) else {}
    rejected = _call(store, "rejected", None) or []
    reasons: dict[str, int] = {}
    differing = 0
    for entry in rejected if isinstance(rejected, list) else []:
        if isinstance(entry, Mapping) and entry.get("kind") == "conflict":
            differing += 1
            continue
        reason = str(entry.get("reason", "")) if isinstance(entry, Mapping) else ""
        reasons[reason] = reasons.get(reason, 0) + 1
    conflicts = state.get("timetable_conflicts") or ()
    return Facts(
        waiting=waiting,
        oldest_waiting_at=getattr(oldest, "at", None),
        rejected=sum(reasons.values()),
        reasons=reasons,
        last_success=parse_when(state.get("last_success")),
        last_error=state.get("last_error") or None,
        auth_refused=state.get("auth_refused") or None,
        identity_problem=state.get("identity_problem") or None,
        clock_synced=clock_synced,
        timetable_conflicts=tuple(str(c) for c in conflicts if isinstance(c, str)),
        conflicts=differing,
    )


def assess(facts: Facts, now: datetime) -> Health:
    """The kiosk's health from ``facts`` at ``now``: worst problem first."""
    online = facts.last_success is not None and now - facts.last_success <= ONLINE_WITHIN
    problems: list[Problem] = []
    if facts.rejected:
        problems.append(
            Problem(
                "refused",
                "fail",
                f"{facts.rejected} event(s) were refused by the server and are not counted",
                "kiosk-admin status lists why; fix the cause, then kiosk-admin rejected retry",
                facts.rejected,
            )
        )
    if facts.conflicts:
        problems.append(
            Problem(
                "conflict",
                "fail",
                f"{facts.conflicts} event(s) differ from the copy the server already holds "
                "(the server keeps its own)",
                "kiosk-admin rejected list shows them; compare with the server's copy, then "
                "kiosk-admin rejected keep-server EVENT_ID",
                facts.conflicts,
            )
        )
    if facts.auth_refused:
        problems.append(
            Problem(
                "token",
                "fail",
                f"the server refused this kiosk's token (since {facts.auth_refused}): "
                "nothing is being sent",
                "put this kiosk's own token in the token file (kiosk-central device add), or "
                "enrol it under the token's name (kiosk-admin enrol)",
            )
        )
    if facts.identity_problem:
        problems.append(
            Problem(
                "identity",
                "fail",
                facts.identity_problem,  # kiosk-sync's words: which name is wrong, what to run
                "do as it says; every event recorded here is then sent as this kiosk's own",
            )
        )
    waiting, oldest = facts.waiting or 0, facts.oldest_waiting_at
    age = now - oldest if oldest is not None else timedelta(0)
    if waiting and online and age > STUCK_AFTER:
        problems.append(
            Problem(
                "stuck",
                "fail",
                f"{waiting} event(s) are not getting through although the server answers, "
                f"the oldest from {_utc(oldest)}",
                "journalctl -u doorstep-sync says why; kiosk-admin status",
                waiting,
                oldest,
            )
        )
    elif waiting and not online:
        never = facts.last_success is None
        problems.append(
            Problem(
                "not_connected" if never else "offline",
                "fail" if age > LATE_AFTER else "warn",
                (
                    f"{waiting} event(s) saved here, never sent: not connected to a server yet"
                    if never
                    else f"{waiting} event(s) saved here, offline since {_utc(facts.last_success)}"
                )
                + (f" (the oldest from {_utc(oldest)})" if oldest else ""),
                "they are safe here; check the network and the server "
                "(kiosk-admin doctor), or enrol this kiosk (kiosk-admin enrol)"
                if never
                else "they are safe here and go when the server is back; check the network",
                waiting,
                oldest,
            )
        )
    if facts.timetable_conflicts:
        problems.append(
            Problem(
                "timetable",
                "warn",
                facts.timetable_conflicts[0],
                "change or remove one of the two sessions (kiosk-admin session list)",
                len(facts.timetable_conflicts),
            )
        )
    if facts.clock_synced is False:
        problems.append(
            Problem(
                "clock",
                "warn",
                "the clock is not synchronised: check-ins are marked for review",
                "check the network and timedatectl",
            )
        )
    problems.sort(key=lambda p: -_ORDER[p.level])
    level: Level = problems[0].level if problems else "ok"
    return Health(level, online, tuple(problems), facts)


def _utc(when: datetime | None) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if when else "?"
