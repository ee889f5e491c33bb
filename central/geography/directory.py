"""The postcode directory the server keeps: postcode -> LSOA, ward, district; LSOA -> IMD decile.

``kiosk-central risk import-lsoa`` reads the ONS Postcode Directory to build a risk list, and
once kept only the chosen postcodes. Reach against the population needs every
family's LSOA, so the same import now also keeps the directory's rows (in the area it was
narrowed to, with ``--county`` or ``--local-authority``; all of them otherwise), terminated
postcodes included: a family registered years ago may still give one.

    >>> import_directory(db, Path("ONSPD_FEB_2025_UK.csv"), Path("IoD2025.csv"),
    ...                  county_codes=["E10000028"])                      # doctest: +SKIP
    DirectoryImport(postcodes=29811, lsoas=548, ...)

Each LSOA's ward and district are the ones most of its postcodes are in (a best fit, as the
ONS lookups make them: LSOAs nest in districts, not always in wards). Its IMD rank and decile
come from the IMD file; without one, from the directory's ``imd`` rank column, the decile then
derived as the IMD publishes it (``ceil(10 x rank / N)``, N England's LSOAs of that vintage).
The 0-30% most deprived LSOAs are deciles 1 to 3.

An import replaces the whole directory in one transaction: a failed one changes nothing.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, insert, select, true

from central.db import (
    CentralDB,
    CentralError,
    area_imports,
    lsoa_areas,
    postcode_areas,
    utcnow,
)
from kiosk.domain.lsoa import ENGLAND_LSOAS, normalise_header
from kiosk.domain.lsoa_imd import imd_layout
from kiosk.domain.lsoa_postcodes import normalise_postcode_fast
from kiosk.domain.postcodes import PostcodeError

#: The deciles of the "0-30% most deprived" LSOAs.
DEPRIVED_DECILES = frozenset({1, 2, 3})
#: Rows written per statement.
CHUNK = 5_000

_POSTCODE = ("pcds", "pcd", "pcd7", "pcd8", "pcd2", "postcode")
_LSOA = {
    2021: ("lsoa21", "lsoa21cd", "lsoa21 code", "lsoa code 2021"),
    2011: ("lsoa11", "lsoa11cd", "lsoa11 code", "lsoa code 2011"),
}
_WARD = re.compile(r"^(?:osward|ward|wd\d\dcd)$")
_LAD = re.compile(r"^(?:oslaua|laua|lad|ladcd|lad\d\dcd)$")
_COUNTY = re.compile(r"^(?:oscty|cty|ctycd|cty\d\dcd)$")
_IMD = re.compile(r"^imd(?:\d\dind)?$")


class DirectoryError(CentralError):
    """A postcode directory the server cannot keep; the message names the file and column."""


@dataclass(frozen=True)
class DirectoryImport:
    """What an import kept."""

    postcodes: int
    lsoas: int
    vintage: int
    ranked: int  # LSOAs with an IMD decile
    skipped: int  # rows without a valid postcode or an LSOA


@dataclass(frozen=True)
class LsoaArea:
    """One LSOA of the directory."""

    lsoa: str
    imd_rank: int | None
    imd_decile: int | None
    ward: str
    district: str
    district_name: str

    @property
    def deprived(self) -> bool:
        """In the 0-30% most deprived LSOAs of England."""
        return self.imd_decile in DEPRIVED_DECILES


def _index(names: Sequence[str], candidates: Iterable[str]) -> int | None:
    for name in candidates:
        if name in names:
            return names.index(name)
    return None


def _match(names: Sequence[str], pattern: re.Pattern[str]) -> int | None:
    return next((i for i, n in enumerate(names) if pattern.match(n)), None)


def _rows(path: Path) -> Iterator[list[str]]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            yield from csv.reader(handle)
    except OSError as exc:
        raise DirectoryError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DirectoryError(f"{path.name}: cannot be read as a UTF-8 CSV file ({exc})") from None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _imd_ranks(path: Path) -> tuple[int, dict[str, tuple[int | None, int | None]], dict[str, str]]:
    """The IMD file's (vintage, LSOA -> (rank, decile), district code -> name)."""
    rows = _rows(path)
    header = next((r for r in rows if any(c.strip() for c in r)), [])
    layout = imd_layout(header, path.name)
    lsoas = ENGLAND_LSOAS[layout.vintage]
    out: dict[str, tuple[int | None, int | None]] = {}
    names: dict[str, str] = {}
    for row in rows:
        if len(row) < layout.width:
            continue
        code = row[layout.code].strip().upper()
        rank = _whole(row[layout.rank]) if layout.rank is not None else None
        decile = _whole(row[layout.decile]) if layout.decile is not None else None
        if decile is None and rank is not None:
            decile = -(-10 * rank // lsoas)
        out[code] = (rank, decile)
        if layout.lad_code is not None and layout.lad_name is not None:
            names.setdefault(row[layout.lad_code].strip().upper(), row[layout.lad_name].strip())
    return layout.vintage, out, names


def _whole(text: str) -> int | None:
    try:
        return int(float(text.strip().replace(",", "")))
    except ValueError:
        return None


def import_directory(
    db: CentralDB,
    postcodes: Path,
    imd: Path | None = None,
    *,
    vintage: int | None = None,
    lad_codes: Sequence[str] = (),
    county_codes: Sequence[str] = (),
    sha256: str | None = None,
    now: datetime | None = None,
) -> DirectoryImport:
    """Keep ``postcodes`` (an ONSPD extract) as the server's postcode directory.

    ``vintage`` picks the LSOA column (2011 or 2021; default: the IMD file's, else 2021 when
    the directory has it); ``lad_codes`` and ``county_codes`` narrow it as ``risk import-lsoa``
    was narrowed. Raises :class:`DirectoryError` for a file without the columns it needs.
    """
    ranks: dict[str, tuple[int | None, int | None]] = {}
    lad_names: dict[str, str] = {}
    if imd is not None:
        imd_vintage, ranks, lad_names = _imd_ranks(imd)
        vintage = vintage or imd_vintage
    rows = _rows(postcodes)
    header = next((r for r in rows if any(c.strip() for c in r)), [])
    names = [normalise_header(h) for h in header]
    pc_i = _index(names, _POSTCODE)
    if pc_i is None:
        raise DirectoryError(f"{postcodes.name}: no postcode column (pcds, pcd, pcd7 or pcd8)")
    found = {year: _index(names, cands) for year, cands in _LSOA.items()}
    if vintage is None:
        vintage = 2021 if found[2021] is not None else 2011
    lsoa_i = found.get(vintage)
    if lsoa_i is None:
        raise DirectoryError(
            f"{postcodes.name}: no {vintage} LSOA column ({', '.join(_LSOA[vintage][:2])})"
        )
    term_i = _index(names, ("doterm",))
    ward_i, lad_i, county_i = _match(names, _WARD), _match(names, _LAD), _match(names, _COUNTY)
    imd_i = _match(names, _IMD) if imd is None else None
    if (lad_codes and lad_i is None) or (county_codes and county_i is None):
        raise DirectoryError(f"{postcodes.name}: no district or county column to narrow it by")
    lads, counties = frozenset(lad_codes), frozenset(county_codes)
    narrow = bool(lads or counties)
    tally: dict[str, tuple[Counter[str], Counter[str]]] = {}
    own_ranks: dict[str, int] = {}
    skipped = kept = 0
    now = now or utcnow()

    def cell(row: list[str], i: int | None) -> str:
        return row[i].strip() if i is not None and i < len(row) else ""

    def directory_rows() -> Iterator[dict[str, object]]:
        nonlocal skipped, kept
        for row in rows:
            if len(row) <= max(pc_i, lsoa_i):
                if any(c.strip() for c in row):
                    skipped += 1
                continue
            if narrow and cell(row, lad_i) not in lads and cell(row, county_i) not in counties:
                continue
            lsoa = row[lsoa_i].strip().upper()
            try:
                postcode = normalise_postcode_fast(row[pc_i].strip())
            except PostcodeError:
                skipped += 1
                continue
            if not lsoa:
                skipped += 1
                continue
            ward, lad = cell(row, ward_i), cell(row, lad_i)
            wards, districts = tally.setdefault(lsoa, (Counter(), Counter()))
            wards[ward] += 1
            districts[lad] += 1
            if imd_i is not None and lsoa not in own_ranks:
                rank = _whole(cell(row, imd_i))
                if rank:
                    own_ranks[lsoa] = rank
            kept += 1
            yield {
                "postcode": postcode,
                "lsoa": lsoa,
                "ward": ward,
                "district": lad,
                "live": not cell(row, term_i),
            }

    with db.writing_shared("directory") as conn:
        conn.execute(delete(postcode_areas))
        conn.execute(delete(lsoa_areas))
        seen: set[str] = set()
        chunk: list[dict[str, object]] = []
        for record in directory_rows():
            if record["postcode"] in seen:  # the directory lists each postcode once
                continue
            seen.add(str(record["postcode"]))
            chunk.append(record)
            if len(chunk) >= CHUNK:
                conn.execute(insert(postcode_areas), chunk)
                chunk = []
        if chunk:
            conn.execute(insert(postcode_areas), chunk)
        if not kept:
            raise DirectoryError(
                f"{postcodes.name}: no postcode with an LSOA"
                + (" in the area chosen" if narrow else "")
                + "; the directory is unchanged"
            )
        areas = []
        england = ENGLAND_LSOAS[vintage]
        for lsoa, (wards, districts) in tally.items():
            rank, decile = ranks.get(lsoa, (None, None))
            if imd is None and lsoa in own_ranks and lsoa.startswith("E01"):
                rank = own_ranks[lsoa]
                decile = -(-10 * rank // england) if 0 < rank <= england else None
            district = districts.most_common(1)[0][0]
            areas.append(
                {
                    "lsoa": lsoa,
                    "imd_rank": rank,
                    "imd_decile": decile,
                    "ward": wards.most_common(1)[0][0],
                    "district": district,
                    "district_name": lad_names.get(district, ""),
                }
            )
        for start in range(0, len(areas), CHUNK):
            conn.execute(insert(lsoa_areas), areas[start : start + CHUNK])
        conn.execute(delete(area_imports).where(area_imports.c.kind == "directory"))
        conn.execute(
            insert(area_imports).values(
                kind="directory",
                source=postcodes.name + (f" + {imd.name}" if imd else ""),
                sha256=sha256 or sha256_of(postcodes),
                vintage=vintage,
                rows=len(seen),
                imported_at=now,
            )
        )
    return DirectoryImport(
        postcodes=len(seen),
        lsoas=len(areas),
        vintage=vintage,
        ranked=sum(1 for a in areas if a["imd_decile"] is not None),
        skipped=skipped,
    )


def lsoa_table(db: CentralDB) -> dict[str, LsoaArea]:
    """Every LSOA of the directory, by code."""
    with db.reading() as conn:
        rows = conn.execute(select(lsoa_areas)).all()
    return {
        r.lsoa: LsoaArea(r.lsoa, r.imd_rank, r.imd_decile, r.ward, r.district, r.district_name)
        for r in rows
    }


@dataclass(frozen=True)
class ImportRecord:
    kind: str
    source: str
    sha256: str
    vintage: int | None
    rows: int
    imported_at: datetime


def import_record(db: CentralDB, kind: str) -> ImportRecord | None:
    """What the directory (``"directory"``) or the boundaries (``"boundaries"``) came from."""
    with db.reading() as conn:
        row = conn.execute(select(area_imports).where(area_imports.c.kind == kind)).first()
    if row is None:
        return None
    return ImportRecord(row.kind, row.source, row.sha256, row.vintage, row.rows, row.imported_at)


def postcodes_by_lsoa(db: CentralDB, lsoas: Iterable[str], live_only: bool = True) -> Mapping:
    """The postcodes of ``lsoas`` (live ones only by default), sorted, by LSOA."""
    wanted = sorted(set(lsoas))
    out: dict[str, list[str]] = {code: [] for code in wanted}
    with db.reading() as conn:
        for start in range(0, len(wanted), 500):
            query = select(postcode_areas.c.lsoa, postcode_areas.c.postcode).where(
                postcode_areas.c.lsoa.in_(wanted[start : start + 500])
            )
            if live_only:
                query = query.where(postcode_areas.c.live == true())
            for lsoa, postcode in conn.execute(query):
                out[lsoa].append(postcode)
    return {k: sorted(v) for k, v in out.items()}
