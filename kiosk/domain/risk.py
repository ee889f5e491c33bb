"""The risk list and the incentive decision: does this family's attendance qualify, and why.

The list holds full postcodes (``WS7 1AA``), sectors (``WS7 1``) and districts (``WS7``); a
family's postcode is matched most specific first, and the reason names what matched. Thematic
criteria (young or single parent, special educational needs) recorded with consent add their own
reasons. Each import is a new version (a number, a content hash and a time) so a past month's
invoice can be reproduced from the version each attendance recorded.

Nothing here is ever shown at the door (the stigma rule): decisions travel only inside events.
"""

from __future__ import annotations

import csv
import gc
import hashlib
import io
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from kiosk.domain.errors import ValidationError
from kiosk.domain.families import THEMATIC_CRITERIA, Family
from kiosk.domain.postcodes import PostcodeError, RiskArea, parse_postcode, parse_risk_area

#: The version recorded when no risk list has been imported yet.
NO_RISK_LIST = "v0-none"


def digest_areas(areas: Iterable[RiskArea]) -> str:
    """SHA-256 of the sorted, normalised entries: the same list always has the same hash."""
    text = "\n".join(sorted(f"{a.kind}:{a.value}" for a in areas))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@contextmanager
def gc_paused() -> Iterator[None]:
    """Build many objects at once without the cyclic garbage collector rescanning them.

    Each ``RiskArea`` is a tracked object: while a national list (hundreds of thousands of
    postcodes) is built, the collector's full passes rescan every object already alive, so each
    further version in memory makes the next load slower (``bench/lsoa_import.py`` prints both).
    The collector is process-wide, so the pause covers only the loop that builds the areas and
    the collector is left as it was found; nothing built there holds a cycle.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass(frozen=True)
class IncentiveDecision:
    """Whether an attendance qualifies, the reason codes, and the risk-list version used."""

    qualifies: bool
    reasons: tuple[str, ...]
    risk_version: str


@dataclass(frozen=True)
class RiskSource:
    """A file a version was built from (e.g. the ONS Postcode Directory, the IMD file).

    ``date`` is the date in the file's name when it has one (``ONSPD_FEB_2025_UK.csv`` ->
    ``2025-02``), else, for an IMD file, the date given (``--imd-date``) or the edition its
    LSOAs imply, and for a directory its modification date; ``date_from`` says which
    (``name``, ``option``, ``edition`` or ``mtime``; see ``kiosk.lsoa_import.imd_date``).
    ``sha256`` was computed over the bytes actually read.
    """

    role: str
    name: str
    sha256: str
    size: int = 0
    date: str = ""
    date_from: str = ""
    rows: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "name": self.name,
            "sha256": self.sha256,
            "size": self.size,
            "date": self.date,
            "date_from": self.date_from,
            "rows": self.rows,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RiskSource:
        return cls(
            role=str(data.get("role", "")),
            name=str(data.get("name", "")),
            sha256=str(data.get("sha256", "")),
            size=int(data.get("size", 0)),
            date=str(data.get("date", "")),
            date_from=str(data.get("date_from", "")),
            rows=int(data.get("rows", 0)),
        )


@dataclass(frozen=True)
class RiskList:
    """One version of the risk list.

    ``rule`` and ``sources`` are set when the list was built from official data (``kiosk-admin
    risk import-lsoa``): the selection rule in words and the files it was built from. They are
    not part of the digest, which covers the entries only.
    """

    number: int = 0
    areas: frozenset[RiskArea] = field(default_factory=frozenset)
    created_at: datetime | None = None
    source: str = ""
    rule: str = ""
    sources: tuple[RiskSource, ...] = ()

    @cached_property
    def digest(self) -> str:
        # Cached: every decision records the version, and a list of all postcodes in England's
        # most deprived areas (~500k entries) takes about a second to hash.
        return digest_areas(self.areas)

    @property
    def version(self) -> str:
        """A short id recorded in every attendance, e.g. ``v3-1a2b3c4d5e``."""
        if self.number == 0:
            return NO_RISK_LIST
        return f"v{self.number}-{self.digest[:10]}"

    def match(self, postcode: str) -> str | None:
        """The most specific kind of entry matching ``postcode``: postcode, sector, district."""
        try:
            pc = parse_postcode(postcode)
        except PostcodeError:
            return None
        for kind, value in (
            ("postcode", str(pc)),
            ("sector", pc.sector),
            ("district", pc.district),
        ):
            if RiskArea(kind, value) in self.areas:  # type: ignore[arg-type]
                return kind
        return None

    def decide(self, family: Family) -> IncentiveDecision:
        """The decision for ``family`` under this version."""
        reasons: list[str] = []
        geo = self.match(family.postcode)
        if geo:
            reasons.append(geo)
        reasons.extend(c for c in THEMATIC_CRITERIA if c in family.criteria)
        return IncentiveDecision(bool(reasons), tuple(reasons), self.version)

    def history_line(self) -> str:
        """One tab-separated line for ``risk history`` (kiosk-admin and kiosk-central alike):
        version, when, size, digest and source; for lists from official data, also the rule
        and each source file's name, date and hash."""
        when = self.created_at.isoformat() if self.created_at else "-"
        line = (
            f"{self.version}\t{when}\t{len(self.areas)} entries\t"
            f"sha256:{self.digest}\t{self.source}"
        )
        if self.rule:
            line += f"\trule: {self.rule}"
        for src in self.sources:
            line += f"\t{src.role}: {src.name} {src.date} sha256:{src.sha256}"
        return line

    def to_dict(self) -> dict[str, Any]:
        data = {
            "number": self.number,
            "version": self.version,
            "digest": self.digest,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "source": self.source,
            "areas": sorted(f"{a.kind}:{a.value}" for a in self.areas),
        }
        if self.rule:
            data["rule"] = self.rule
        if self.sources:
            data["sources"] = [s.to_dict() for s in self.sources]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RiskList:
        with gc_paused():
            areas = frozenset(
                RiskArea(kind, value)  # type: ignore[arg-type]
                for kind, _, value in (item.partition(":") for item in data.get("areas", ()))
            )
        created = data.get("created_at")
        return cls(
            number=int(data.get("number", 0)),
            areas=areas,
            created_at=datetime.fromisoformat(created) if created else None,
            source=data.get("source", ""),
            rule=str(data.get("rule", "")),
            sources=tuple(RiskSource.from_dict(s) for s in data.get("sources", ())),
        )


@dataclass(frozen=True)
class ParsedRiskFile:
    """What a risk file held: the valid areas and every bad line (number, message)."""

    areas: frozenset[RiskArea]
    problems: tuple[tuple[int, str], ...]


def parse_risk_file(text: str, source: str = "risk list") -> ParsedRiskFile:
    """Read a risk file: one entry per line, or a CSV with a ``postcode`` column.

    Blank lines and ``#`` comments are skipped. Every bad line is reported with its number so
    the admin can fix the file in one go.
    """
    # Lines as an editor numbers them: \n, \r\n or a lone \r ends one (not splitlines(), which
    # also splits at form feeds and Unicode separators and so misnumbers every later line).
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    first = next((ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")), "")
    entries: list[tuple[int, str]] = []
    problems: list[tuple[int, str]] = []
    if "," in first or first.strip().lower() == "postcode":
        reader = csv.reader(io.StringIO("\n".join(lines), newline=""))
        header: list[str] | None = None
        end = 0  # the line the previous row ended on (a quoted field may span lines)
        while True:
            number = end + 1
            try:
                row = next(reader, None)
            except csv.Error as exc:  # e.g. a field over the csv module's size limit
                problems.append((number, f"cannot read this CSV row: {exc}"))
                break
            if row is None:
                break
            end = reader.line_num
            if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
                continue
            if header is None:
                header = [h.strip().lower() for h in row]
                if "postcode" not in header:
                    problems.append((number, "CSV header has no 'postcode' column"))
                    break
                continue
            col = header.index("postcode")
            if col >= len(row):
                problems.append((number, "row has no postcode value"))
                continue
            entries.append((number, row[col]))
    else:
        for number, line in enumerate(lines, start=1):
            stripped = line.split("#", 1)[0].strip()
            if stripped:
                entries.append((number, stripped))
    areas: set[RiskArea] = set()
    for number, raw in entries:
        try:
            areas.add(parse_risk_area(raw))
        except PostcodeError as exc:
            problems.append((number, str(exc)))
    return ParsedRiskFile(frozenset(areas), tuple(sorted(problems)))


@dataclass(frozen=True)
class RiskChange:
    """What an import changes relative to the current list."""

    added: frozenset[RiskArea]
    removed: frozenset[RiskArea]
    unchanged: frozenset[RiskArea]


def compare(current: RiskList, areas: frozenset[RiskArea]) -> RiskChange:
    return RiskChange(areas - current.areas, current.areas - areas, areas & current.areas)


class RiskListShrinkError(ValidationError):
    """An import refused because it would leave the list empty or remove most of it."""


def check_change(
    change: RiskChange,
    source: str,
    *,
    allow_empty: bool = False,
    allow_shrink: bool = False,
    detail: str = "",
) -> None:
    """Refuse an import that would empty the list, or remove more than half of it.

    A truncated download, a header-only export or a typo in a rule all look like a valid file
    with fewer lines, and once saved the short list is what every kiosk pulls at its next setup:
    families stop qualifying with no word to anyone. So an empty result needs ``allow_empty``
    and losing more than half of the current entries needs ``allow_shrink``: the admin says it
    is meant. ``detail`` says why the list came out empty (e.g. the LSOA rule), for the message.
    """
    kept = len(change.added) + len(change.unchanged)
    current = len(change.removed) + len(change.unchanged)
    if kept == 0:
        if allow_empty:
            return
        raise RiskListShrinkError(
            f"{source}: the new risk list would be empty{detail}, so no family would qualify "
            "by postcode; the risk list is unchanged. Check the file is complete; if an empty "
            "list is meant, use --allow-empty"
        )
    removed = len(change.removed)
    if removed * 2 > current and not allow_shrink:
        raise RiskListShrinkError(
            f"{source}: the import would remove {removed:,} of the {current:,} entries "
            f"({removed / current:.0%}) and keep {len(change.unchanged):,} (adding "
            f"{len(change.added):,}); the risk list is unchanged. Check the file is complete "
            "(a cut download looks like a shorter list); if this is meant, use --allow-shrink"
        )


def add_guard_arguments(parser: Any) -> None:
    """``--allow-empty`` and ``--allow-shrink`` (see ``check_change``) on an argparse parser: every
    risk import of ``kiosk-admin`` and ``kiosk-central`` takes them."""
    parser.add_argument(
        "--allow-empty",
        action="store_true",
        help="save the list even if it has no entries (no family qualifies by postcode)",
    )
    parser.add_argument(
        "--allow-shrink",
        action="store_true",
        help="save the list even if it removes more than half of the current entries",
    )
