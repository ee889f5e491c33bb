"""Where everything lives in the kiosk's data folder, and the store's tunable numbers.

::

    data/
      .lock                      the file lock shared by the app, the sync daemon and kiosk-admin
      seq.json                   high-water mark of ``seq``, which day holds which seq range, and
                                 the intent of a write that spans several files
      sync.json                  outbox acknowledgements (counters) and the sync daemon's notes
      rejected.json              events the server rejected, with reasons; never deleted
      history.json               seq ranges and sessions of pruned days, and seqs given out
                                 before this store (kiosk.store.history): a gap the server
                                 lacks can be named even when its events are gone
      events/2026-11-23.json     that day's events (TinyDB, table "events", document id = seq);
      events/2026-11-23.1.json   a busy day continues in parts of at most EVENTS_PER_PART events,
                                 so a tap rewrites one small file whatever the day's size
      state/families.json        projections of member.* and card.* events, each carrying the
      state/cards.json           highest local seq applied
      state/timetable.json       the sessions
      risk/v1.json, v2.json ...  every imported risk list, kept
      risk/current.json          which version is in force
      quarantine/                unreadable files moved aside, each with a ``.reason.txt``

Attendance events are filed under their session's date, everything else under the kiosk-local
date of ``at``, so ``attendances_in("2026-11-23/stay-and-play")`` reads one day and the same event
always lands in the same file (which is what makes re-recording it a no-op).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

#: The kiosk's local time zone: days and sessions are Europe/London days.
DEFAULT_TZ = ZoneInfo("Europe/London")
#: Acknowledged events are kept this many days, so a server restored from a backup can be sent
#: what it lost (FIELD-NOTES: offline capture and sync).
DEFAULT_RETENTION_DAYS = 90
#: The longest window an admin may set (``[store] retention_days``, ``kiosk-sync
#: --retention-days``): ten years, so a typo such as 36500 is refused.
MAX_RETENTION_DAYS = 3650
#: A day's events are split into files of this many events (one record never splits): a tap
#: rewrites at most this many events, however busy the day.
EVENTS_PER_PART = 50
#: How long a store call waits for another process (app, daemon, kiosk-admin) to let go.
LOCK_TIMEOUT_SECONDS = 30.0
#: How often a waiting process retries the lock.
LOCK_POLL_SECONDS = 0.001

EVENTS_DIR = "events"
STATE_DIR = "state"
RISK_DIR = "risk"
QUARANTINE_DIR = "quarantine"
LOCK_FILE = ".lock"
SEQ_FILE = "seq.json"
SYNC_FILE = "sync.json"
REJECTED_FILE = "rejected.json"
HISTORY_FILE = "history.json"
FAMILIES_FILE = "state/families.json"
CARDS_FILE = "state/cards.json"
TIMETABLE_FILE = "state/timetable.json"
RISK_CURRENT_FILE = "risk/current.json"
REASON_SUFFIX = ".reason.txt"

_PART = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:\.([1-9]\d*))?\.json$")
_RISK = re.compile(r"^v([1-9]\d*)\.json$")


def part_name(day: date, part: int) -> str:
    """``2026-11-23.json`` for a day's first part, ``2026-11-23.1.json`` for the next."""
    return f"{day.isoformat()}.json" if part == 0 else f"{day.isoformat()}.{part}.json"


def parse_part_name(name: str) -> tuple[date, int] | None:
    """The day and part number a file name in ``events/`` stands for, or None."""
    m = _PART.match(name)
    if not m:
        return None
    try:
        day = date.fromisoformat(m.group(1))
    except ValueError:
        return None
    return day, int(m.group(2) or 0)


def risk_name(number: int) -> str:
    return f"v{number}.json"


def parse_risk_name(name: str) -> int | None:
    m = _RISK.match(name)
    return int(m.group(1)) if m else None


class Layout:
    """The paths of one data folder."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.events = self.root / EVENTS_DIR
        self.state = self.root / STATE_DIR
        self.risk = self.root / RISK_DIR
        self.quarantine = self.root / QUARANTINE_DIR
        self.lock = self.root / LOCK_FILE
        self.seq = self.root / SEQ_FILE
        self.sync = self.root / SYNC_FILE
        self.rejected = self.root / REJECTED_FILE
        self.history = self.root / HISTORY_FILE
        self.families = self.root / FAMILIES_FILE
        self.cards = self.root / CARDS_FILE
        self.timetable = self.root / TIMETABLE_FILE
        self.risk_current = self.root / RISK_CURRENT_FILE

    def folders(self) -> tuple[Path, ...]:
        return (self.root, self.events, self.state, self.risk, self.quarantine)

    def part(self, day: date, part: int) -> Path:
        return self.events / part_name(day, part)

    def risk_version(self, number: int) -> Path:
        return self.risk / risk_name(number)

    def relative(self, path: str | Path) -> str:
        """``events/2026-11-23.json``: how problems name a file."""
        try:
            return Path(path).relative_to(self.root).as_posix()
        except ValueError:
            return str(path)
