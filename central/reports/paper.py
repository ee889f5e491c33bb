"""Paper registers typed in afterwards: ``kiosk-central import register FILE.csv ...``.

A session run with a paper register (the kiosk was broken, or the session was off site) is
entered from a CSV, one row per family::

    family_id,children,adults
    F-7K3M9QX2AB,Mia;Leo,1
    F-2B8N4QR5TT,all,2

- ``family_id``: the family reference on the card or the kiosk (required);
- ``children``: first names or child references separated by ``;``, or ``all``;
- ``adults``: optional (the family's usual number when blank);
- ``time``: optional check-in time (``HH:MM``; the session start when blank);
- ``volunteer``: optional, who signed them in on paper.

Every row is checked first; a file with any bad row imports nothing and lists every problem as
``FILE.csv: line N: ...``. A family already recorded at the same session (same date and session
name, e.g. by a kiosk that was working after all) is reported and not imported, so nobody is
counted twice; importing the same file again therefore changes nothing.

Each row becomes an ``attendance.recorded`` event with method ``paper`` from the site's paper
"device" (``paper-ORG-SITE``, enrolled on first use, its token never shown), ingested through
:meth:`CentralDB.ingest` like a kiosk's batch, with the incentive decision from
:mod:`central.reports.decisions`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from central.claims import DateWindow, ahead_of_server
from central.db import (
    AlreadyExists,
    CentralDB,
    CentralError,
    Device,
    attendances,
    children,
    families,
    require_site,
    utcnow,
)
from central.reports._sql import reading
from central.reports.decisions import PaperDecider, paper_decider
from central.reports.period import EARLIEST, REPORT_TZ, check_in_range
from kiosk.domain.families import Child, Family
from sync.protocol import validate_event

COLUMNS = ("family_id", "children", "adults", "time", "volunteer")
ALIASES = {
    "family": "family_id",
    "family_ref": "family_id",
    "child": "children",
    "child_refs": "children",
    "checked_in": "time",
}
ALL_CHILDREN = {"all", "*"}
#: The namespace of paper attendances' event ids (the same row of the same session: same id).
PAPER_NAMESPACE = uuid.UUID("6f1c2f5e-4d0a-4c55-9d0e-7b1a4a3e2c10")
_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_SLUG = re.compile(r"[^a-z0-9]+")


class PaperRegisterError(CentralError):
    """A register file with problems: every one of them, one a line."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems) + "\nnothing was imported")


@dataclass(frozen=True)
class PaperSession:
    """The session a paper register belongs to."""

    org_id: str
    site_id: str
    day: date
    name: str
    start: time
    end: time
    slot_id: str

    @property
    def key(self) -> str:
        return f"{self.day.isoformat()}/{self.slot_id}"

    @property
    def title(self) -> str:
        return (
            f"{self.name}, {self.site_id}, {self.day.isoformat()} "
            f"{self.start:%H:%M}-{self.end:%H:%M}"
        )

    def to_data(self) -> dict[str, str]:
        return {
            "key": self.key,
            "slot_id": self.slot_id,
            "name": self.name,
            "date": self.day.isoformat(),
            "start": f"{self.start:%H:%M}",
            "end": f"{self.end:%H:%M}",
        }


def _hhmm(text: str, what: str) -> time:
    m = _HHMM.match(text.strip())
    if not m:
        raise CentralError(f"{what} {text!r} must be a 24-hour time like 09:30")
    return time(int(m.group(1)), int(m.group(2)))


def paper_session(
    org_id: str,
    site_id: str,
    day: str | date,
    name: str,
    start: str,
    end: str,
    slot_id: str | None = None,
) -> PaperSession:
    """Check what identifies the session (``--org --site --date --session-name --start --end``)."""
    if isinstance(day, str):
        text = day
        try:
            day = date.fromisoformat(text.strip())
        except ValueError:
            raise CentralError(f"--date {text!r} is not a date like 2016-04-18") from None
        check_in_range(day, "--date", text)
    name = " ".join(name.split())
    if not name or len(name) > 200:
        raise CentralError("--session-name must be 1 to 200 characters")
    begins, ends = _hhmm(start, "--start"), _hhmm(end, "--end")
    if ends <= begins:
        raise CentralError(f"--end {end} is not after --start {start}")
    slot = slot_id or ("paper-" + _SLUG.sub("-", name.lower()).strip("-"))[:48]
    if not re.fullmatch(r"[A-Za-z0-9_.:-]{1,64}", slot):
        raise CentralError(f"--slot {slot!r}: use letters, digits, '-', '_' or '.'")
    return PaperSession(org_id, site_id, day, name, begins, ends, slot)


@dataclass(frozen=True)
class PaperRow:
    line: int
    family: Family
    child_ids: tuple[str, ...]
    adults: int
    at: datetime
    volunteer: str | None


@dataclass(frozen=True)
class AlreadyRecorded:
    """A row whose family is already recorded at the session: reported, not imported."""

    line: int
    family_id: str
    attendance_id: str
    method: str
    device_id: str
    at: datetime

    def describe(self, filename: str) -> str:
        when = self.at.astimezone(REPORT_TZ).strftime("%H:%M")
        how = "on paper" if self.method == "paper" else f"by {self.device_id} ({self.method})"
        return (
            f"{filename}: line {self.line}: family {self.family_id} is already recorded at this "
            f"session {how} at {when} (attendance {self.attendance_id}): not imported, so it "
            "is counted once"
        )


@dataclass
class PaperImport:
    """What an import did (or, with ``dry_run``, would do)."""

    filename: str
    session: PaperSession
    decider: str
    imported: list[PaperRow] = field(default_factory=list)
    qualifying: int = 0
    already_recorded: list[AlreadyRecorded] = field(default_factory=list)
    dry_run: bool = False

    @property
    def children(self) -> int:
        return sum(len(r.child_ids) for r in self.imported)

    def summary_lines(self) -> list[str]:
        verb = "would import" if self.dry_run else "imported"
        out = [
            f"{self.filename}: {verb} {len(self.imported)} families ({self.children} children) "
            f"into {self.session.title} (method paper); {self.qualifying} qualify"
        ]
        out += [d.describe(self.filename) for d in self.already_recorded]
        out.append(f"incentive decisions: {self.decider}")
        return out


def paper_device_id(org_id: str, site_id: str) -> str:
    name = f"paper-{org_id}-{site_id}"
    if len(name) <= 64:
        return name
    return "paper-" + hashlib.sha256(f"{org_id}/{site_id}".encode()).hexdigest()[:24]


def import_paper_register(
    db: CentralDB,
    path: str | Path,
    session: PaperSession,
    entered_by: str | None = None,
    dry_run: bool = False,
    text: str | None = None,
) -> PaperImport:
    """Check every row of the register at ``path``, then import it all, or nothing."""
    path = Path(path)
    filename = path.name
    if text is None:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise CentralError(f"{path}: cannot read it: {exc.strerror}") from None
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise PaperRegisterError(
                [f"{filename}: not UTF-8 text (save it as CSV UTF-8)"]
            ) from None
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    with reading(db) as conn:
        require_site(conn, session.org_id, session.site_id)
        parsed = _read_rows(conn, filename, text, session)
        already = _already_recorded(conn, session, parsed)
    decider = paper_decider(db, session.org_id)
    result = PaperImport(filename, session, decider.description, dry_run=dry_run)
    result.already_recorded = [
        already[r.family.family_id] for r in parsed if r.family.family_id in already
    ]
    rows = [r for r in parsed if r.family.family_id not in already]
    result.imported = rows
    if not rows:
        return result
    events, qualifying = _events(db, session, rows, decider, entered_by, filename, digest)
    result.qualifying = qualifying
    if dry_run:
        return result
    device = _paper_device(db, session)
    first = db.holds_up_to(device.device_id) + 1
    for i, event in enumerate(events):
        event["seq"] = first + i
    bad = [
        f"{filename}: line {row.line}: {checked.reason}"
        for row, event in zip(rows, events, strict=True)
        if not (checked := validate_event(event, device.device_id, device.site_id)).ok
    ]
    if bad:
        raise PaperRegisterError(bad)
    # Typed in by the server's admin: any day the reports cover, up to the server's tomorrow.
    window = DateWindow(EARLIEST, (utcnow() + ahead_of_server()).date())
    outcome = db.ingest(device, events, window=window)
    refused = [
        f"{filename}: line {row.line}: {res.reason}"
        for row, res in zip(rows, outcome.results, strict=True)
        if res.status == "rejected"
    ]
    if refused:
        raise CentralError(
            "the server refused some rows (the others were imported):\n" + "\n".join(refused)
        )
    return result


def _read_rows(conn: Any, filename: str, text: str, session: PaperSession) -> list[PaperRow]:
    problems: list[str] = []

    def problem(line: int, message: str) -> None:
        problems.append(f"{filename}: line {line}: {message}")

    reader = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    raw_rows: list[tuple[int, dict[str, str]]] = []
    for row in reader:
        line = reader.line_num
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        if header is None:
            header = [ALIASES.get(h.strip().lower(), h.strip().lower()) for h in row]
            unknown = [h for h in header if h not in COLUMNS]
            if unknown:
                problem(
                    line,
                    f"unknown column(s) {', '.join(repr(u) for u in unknown)}: the columns are "
                    f"{', '.join(COLUMNS)} (family_id and children are required)",
                )
            for needed in ("family_id", "children"):
                if needed not in header:
                    problem(line, f"no {needed!r} column in the header")
            if problems:
                raise PaperRegisterError(problems)
            continue
        if len(row) > len(header):
            problem(line, f"{len(row)} values but the header has {len(header)} columns")
            continue
        raw_rows.append(
            (line, {h: (row[i].strip() if i < len(row) else "") for i, h in enumerate(header)})
        )
    if header is None:
        raise PaperRegisterError([f"{filename}: the file is empty (expected a header row)"])
    if not raw_rows and not problems:
        raise PaperRegisterError([f"{filename}: no families listed under the header"])

    ids = sorted({r["family_id"].strip().upper() for _line, r in raw_rows if r["family_id"]})
    known = _families(conn, session.org_id, ids)
    seen: dict[str, int] = {}
    out: list[PaperRow] = []
    for line, r in raw_rows:
        fid = r["family_id"].strip().upper()
        if not fid:
            problem(line, "family_id is empty")
            continue
        family = known.get(fid)
        if family is None:
            problem(
                line,
                f"no family {fid} in organisation {session.org_id} (check the reference on the "
                "card; a family registered at a kiosk appears once that kiosk has synced)",
            )
            continue
        if fid in seen:
            problem(line, f"family {fid} is also on line {seen[fid]}")
            continue
        seen[fid] = line
        kids = _children(family, r["children"])
        if isinstance(kids, str):
            problem(line, kids)
            continue
        adults = family.adults
        if r.get("adults"):
            if not r["adults"].isdigit() or not 0 <= int(r["adults"]) <= 20:
                problem(line, f"adults {r['adults']!r} must be a whole number from 0 to 20")
                continue
            adults = int(r["adults"])
        at_time = session.start
        if r.get("time"):
            m = _HHMM.match(r["time"])
            if not m:
                problem(line, f"time {r['time']!r} must be a 24-hour time like 09:40")
                continue
            at_time = time(int(m.group(1)), int(m.group(2)))
        volunteer = " ".join(r.get("volunteer", "").split()) or None
        if volunteer and len(volunteer) > 200:
            problem(line, "volunteer is longer than 200 characters")
            continue
        # Rows one second apart keep the paper's order on the register (times show HH:MM).
        at = datetime.combine(session.day, at_time, REPORT_TZ).astimezone(UTC) + timedelta(
            seconds=len(out)
        )
        out.append(PaperRow(line, family, kids, adults, at, volunteer))
    if problems:
        raise PaperRegisterError(problems)
    return out


def _children(family: Family, cell: str) -> tuple[str, ...] | str:
    """Child ids for a ``children`` cell, or what is wrong with it."""
    parts = [p.strip() for p in re.split(r"[;|]", cell) if p.strip()]
    if not parts:
        return "children is empty: list first names separated by ';', or write 'all'"
    if len(parts) == 1 and parts[0].lower() in ALL_CHILDREN:
        return tuple(c.child_id for c in family.children)
    chosen: list[str] = []
    for ref in parts:
        by_id = family.child(ref.upper())
        named = [c for c in family.children if c.first_name.casefold() == ref.casefold()]
        if by_id is None and len(named) > 1:
            return (
                f"family {family.family_id} has {len(named)} children called {ref!r}: use their "
                f"child references ({', '.join(c.child_id for c in named)})"
            )
        child = by_id or (named[0] if named else None)
        if child is None:
            names = ", ".join(c.first_name for c in family.children) or "none on record"
            return f"family {family.family_id} has no child called {ref!r} (children: {names})"
        if child.child_id not in chosen:
            chosen.append(child.child_id)
    return tuple(chosen)


def _families(conn: Any, org_id: str, ids: Sequence[str]) -> dict[str, Family]:
    out: dict[str, Family] = {}
    kids: dict[str, list[Child]] = {}
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        for r in conn.execute(
            select(children).where(children.c.family_id.in_(chunk)).order_by(children.c.child_id)
        ):
            kids.setdefault(r.family_id, []).append(Child(r.child_id, r.first_name, r.born))
        for r in conn.execute(
            select(families).where(families.c.family_id.in_(chunk), families.c.org_id == org_id)
        ):
            out[r.family_id] = Family(
                family_id=r.family_id,
                greeting_name=r.greeting_name,
                postcode=r.postcode,
                children=tuple(kids.get(r.family_id, ())),
                criteria=frozenset(r.criteria or ()),
                consent_date=r.consent_date,
                heard_from=r.heard_from,
                adults=int(r.adults),
                language=r.language,
            )
    return out


def _already_recorded(
    conn: Any, session: PaperSession, rows: Sequence[PaperRow]
) -> dict[str, AlreadyRecorded]:
    """Rows whose family is already recorded at the same session (date and name, any site)."""
    a = attendances
    line_of = {r.family.family_id: r.line for r in rows}
    out: dict[str, AlreadyRecorded] = {}
    ids = sorted(line_of)
    for start in range(0, len(ids), 500):
        for r in conn.execute(
            select(a.c.family_id, a.c.attendance_id, a.c.method, a.c.device_id, a.c.at)
            .where(
                a.c.org_id == session.org_id,
                a.c.session_date == session.day,
                func.lower(a.c.session_name) == session.name.lower(),
                a.c.family_id.in_(ids[start : start + 500]),
            )
            .order_by(a.c.at)
        ):
            out.setdefault(
                r.family_id,
                AlreadyRecorded(
                    line_of[r.family_id], r.family_id, r.attendance_id, r.method, r.device_id, r.at
                ),
            )
    return out


def _events(
    db: CentralDB,
    session: PaperSession,
    rows: Sequence[PaperRow],
    decider: PaperDecider,
    entered_by: str | None,
    filename: str,
    digest: str,
) -> tuple[list[dict[str, Any]], int]:
    device_id = paper_device_id(session.org_id, session.site_id)
    out, qualifying = [], 0
    for row in rows:
        decision = decider.decide(row.family)
        qualifying += decision.qualifies
        event_id = uuid.uuid5(
            PAPER_NAMESPACE,
            f"{session.org_id}|{session.site_id}|{session.key}|{session.name}|{row.family.family_id}",
        )
        out.append(
            {
                "event_id": str(event_id),
                "seq": None,
                "type": "attendance.recorded",
                "device_id": device_id,
                "site_id": session.site_id,
                "at": row.at.isoformat().replace("+00:00", "Z"),
                "clock_synced": True,
                "data": {
                    "session": session.to_data(),
                    "family_id": row.family.family_id,
                    "children": list(row.child_ids),
                    "adults": row.adults,
                    "method": "paper",
                    "volunteer": row.volunteer or entered_by,
                    "qualifies": decision.qualifies,
                    "reasons": list(decision.reasons),
                    "risk_version": decision.risk_version,
                    "paper": {
                        "file": filename,
                        "line": row.line,
                        "sha256": digest,
                        "entered_by": entered_by,
                        "decided": decider.description,
                    },
                },
            }
        )
    return out, qualifying


def _paper_device(db: CentralDB, session: PaperSession) -> Device:
    device_id = paper_device_id(session.org_id, session.site_id)
    for attempt in range(2):
        known = next((d for d in db.devices() if d.device_id == device_id), None)
        if known is not None:
            if (known.org_id, known.site_id) != (session.org_id, session.site_id):
                raise CentralError(
                    f"device id {device_id!r} belongs to {known.org_id}/{known.site_id}: cannot "
                    "use it for paper registers here"
                )
            return known
        try:
            db.add_device(session.org_id, session.site_id, device_id)  # token never shown
        except AlreadyExists:
            if attempt:
                raise
    raise AssertionError("unreachable")
