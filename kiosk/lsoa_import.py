"""Build the risk list from the published files: the file side of ``kiosk.domain.lsoa``.

``build_lsoa_risk_areas`` streams the ONS Postcode Directory (and the English IMD file, if
given) through ``csv.reader``, hashing every byte as it is read (SHA-256) and, when asked,
drawing a progress bar on stderr. Memory holds the selected LSOA codes and the resulting
postcodes, never the file: a 2.7-million-row directory is read in bounded memory (see
``bench/lsoa_import.py`` for the figures).

The kiosk (``kiosk-admin risk import-lsoa``) and the central server (``kiosk-central risk
import-lsoa``) both call it, so both build the same list from the same files:

    >>> result = build_lsoa_risk_areas(                                  # doctest: +SKIP
    ...     "ONSPD_FEB_2025_UK.csv", "File_1_IoD2019.csv", most_deprived="30%",
    ...     local_authorities=["E07000196"])
    >>> result.rule                                                      # doctest: +SKIP
    'IMD 2019 rank <= 30% (9,853 LSOAs); LAD E07000196 (South Staffordshire)'
    >>> save_lsoa_risk_list(store, result, datetime.now(UTC)).version   # doctest: +SKIP
    'v4-0c1d2e3f4a'

Each source file is recorded in the version (``RiskSource``): its name, size, SHA-256, row
count and date. The directory's date is the one in its name (``FEB_2025``), else its
modification time. The IMD file's is ``--imd-date`` when given, else a date or edition in its
name (``IoD2019`` -> ``2019``), else the edition its LSOA codes imply (``2019`` for 2011 LSOAs,
``2025`` for 2021 ones: the edition the rule names), never its modification time: a copied or
re-downloaded IMD file is no newer than the edition it holds.

A file whose last line has no line end was cut short (publishers end every line, last included)
and is refused, naming its last line: a cut last row would otherwise be read as a short one.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol, TextIO

from kiosk.cli_io import decode_error_in
from kiosk.domain.lsoa import IMD_EDITION, AreaFilter, LsoaError, Selection
from kiosk.domain.lsoa_imd import LsoaChoice, choose_lsoas
from kiosk.domain.lsoa_postcodes import PostcodeSelection, choose_postcodes
from kiosk.domain.postcodes import RiskArea
from kiosk.domain.risk import RiskList, RiskSource, add_guard_arguments, gc_paused

__all__ = [
    "LsoaImportResult",
    "ProgressBar",
    "add_lsoa_arguments",
    "bad_line_messages",
    "build_from_args",
    "build_lsoa_risk_areas",
    "date_of_file",
    "empty_detail",
    "imd_date",
    "report_lines",
    "save_lsoa_risk_list",
]

#: Bytes read from disk at a time (and hashed at a time).
READ_SIZE = 1 << 20
#: A zip archive (an Excel workbook, or the ONSPD download itself) starts so.
_ZIP_MAGIC = b"PK\x03\x04"

_MONTH = (
    r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_NAME_MONTH_YEAR = re.compile(rf"(?<![a-z]){_MONTH}[ _-]?((?:19|20)\d\d)(?!\d)", re.IGNORECASE)
_NAME_DAY = re.compile(
    r"(?<!\d)((?:19|20)\d\d)[-_]?(0[1-9]|1[0-2])[-_]?(0[1-9]|[12]\d|3[01])(?!\d)"
)
_NAME_YEAR_MONTH = re.compile(r"(?<!\d)((?:19|20)\d\d)[-_](0[1-9]|1[0-2])(?!\d)")
#: An IMD edition in a file's name: ``IoD2019``, ``IMD2019``, ``IoD_2025``.
_NAME_EDITION = re.compile(r"(?<![a-z])(?:iod|imd)[ _-]?((?:19|20)\d\d)(?!\d)", re.IGNORECASE)
#: ``--imd-date``: a year, a month or a day.
_GIVEN_DATE = re.compile(r"((?:19|20)\d\d)(?:-(0[1-9]|1[0-2])(?:-(\d\d))?)?")


class Progress(Protocol):
    """What the import tells a progress display: bytes read so far, and the end."""

    def update(self, n: int) -> None: ...

    def close(self) -> None: ...


#: Makes a progress display for one file: ``(label, total_bytes) -> Progress``.
ProgressFactory = Callable[[str, int], Progress]


class ProgressBar:
    """A one-line progress bar for a terminal: the share of a file read, the rate, time left.

    Redrawn in place (carriage return) at most every ``interval`` seconds; ``close()`` draws the
    final state and ends the line. The clock is passed in so tests need not sleep. It counts
    megabytes by default; ``unit="rows", scale=1`` counts rows (``kiosk-central copy-to``).

    >>> bar = ProgressBar("ONSPD.csv", 2_000_000, io.StringIO(), clock=iter([0, 1, 2]).__next__)
    >>> bar.update(1_000_000); bar.close()
    """

    def __init__(
        self,
        label: str,
        total: int,
        stream: TextIO,
        *,
        clock: Callable[[], float] = time.monotonic,
        interval: float = 0.25,
        width: int = 24,
        unit: str = "MB",
        scale: int = 1_000_000,
    ) -> None:
        self.label = label
        self.unit = unit
        self.scale = scale
        self.total = max(total, 0)
        self.done = 0
        self.stream = stream
        self.clock = clock
        self.interval = interval
        self.width = width
        self.started = clock()
        self._drawn_at: float | None = None
        self._width_drawn = 0
        self._closed = False

    def update(self, n: int) -> None:
        self.done += n
        now = self.clock()
        if self._drawn_at is None or now - self._drawn_at >= self.interval:
            self._draw(now)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._draw(self.clock())
        self.stream.write("\n")
        self.stream.flush()

    def line(self, now: float) -> str:
        """The bar as drawn at time ``now``."""
        share = min(self.done / self.total, 1.0) if self.total else 1.0
        filled = int(share * self.width)
        elapsed = max(now - self.started, 1e-9)
        rate = self.done / elapsed
        left = (self.total - self.done) / rate if rate > 0 and self.total > self.done else 0.0
        per, unit = self.scale, self.unit
        return (
            f"{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {share:4.0%} "
            f"{self.done / per:,.0f}/{self.total / per:,.0f} {unit} {rate / per:,.1f} {unit}/s "
            f"{int(left) // 60}:{int(left) % 60:02d} left"
        )

    def _draw(self, now: float) -> None:
        self._drawn_at = now
        text = self.line(now)
        # Pad over the end of a longer previous line (carriage return does not clear it).
        self.stream.write("\r" + text.ljust(self._width_drawn))
        self._width_drawn = len(text)
        self.stream.flush()


def terminal_progress(stream: TextIO | None = None) -> ProgressFactory:
    """A factory drawing ``ProgressBar`` s on ``stream`` (default stderr)."""
    out = stream or sys.stderr
    return lambda label, total: ProgressBar(label, total, out)


def _date_in_name(name: str) -> str | None:
    if m := _NAME_DAY.search(name):
        return f"{m[1]}-{m[2]}-{m[3]}"
    if m := _NAME_MONTH_YEAR.search(name):
        month = _MONTHS.index(m[1][:3].lower()) + 1
        return f"{m[2]}-{month:02d}"
    if m := _NAME_YEAR_MONTH.search(name):
        return f"{m[1]}-{m[2]}"
    return None


def date_of_file(path: Path, stat: os.stat_result | None = None) -> tuple[str, str]:
    """``(date, "name")`` for a date in the file's name, else ``(mtime date, "mtime")``.

    >>> date_of_file(Path("ONSPD_FEB_2025_UK.csv"))
    ('2025-02', 'name')
    """
    if found := _date_in_name(path.name):
        return found, "name"
    st = stat or path.stat()
    return datetime.fromtimestamp(st.st_mtime, UTC).date().isoformat(), "mtime"


def check_given_date(text: str | None, flag: str = "--imd-date") -> str | None:
    """A date typed for a file (``2019``, ``2019-09`` or ``2019-09-26``), checked; else None."""
    if text is None:
        return None
    m = _GIVEN_DATE.fullmatch(text.strip())
    try:
        if m is None:
            raise ValueError
        if m[3]:
            datetime(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise LsoaError(
            f"{flag} {text!r} must be a date like 2019-09-26, a month like 2019-09 or a year "
            "like 2019 (when the file was published)"
        ) from None
    return text.strip()


def imd_date(path: Path, vintage: int, given: str | None = None) -> tuple[str, str]:
    """The IMD file's date and where it came from: ``given`` (``"option"``), else its name
    (``"name"``: a date, or an edition like ``IoD2019``), else the edition its LSOA vintage
    means (``"edition"``). Never the modification time, which is only when it was copied.

    >>> imd_date(Path("File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv"), 2011)
    ('2019', 'name')
    >>> imd_date(Path("imd.csv"), 2021)
    ('2025', 'edition')
    """
    if given:
        return given, "option"
    if found := _date_in_name(path.name):
        return found, "name"
    if m := _NAME_EDITION.search(path.name):
        return m[1], "name"
    return IMD_EDITION[vintage].split()[-1], "edition"


class _HashingReader(io.RawIOBase):
    """Reads a binary file, feeding every byte to a SHA-256 and the progress display."""

    def __init__(self, raw: io.BufferedReader, progress: Progress | None) -> None:
        self._raw = raw
        self._progress = progress
        self.sha256 = hashlib.sha256()
        self.size = 0
        self.last = b""  # the last byte read: a line end unless the file was cut

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self._raw.readinto(buffer)
        if n:
            self.sha256.update(memoryview(buffer)[:n])
            self.size += n
            self.last = bytes(buffer[n - 1 : n])
            if self._progress is not None:
                self._progress.update(n)
        return n or 0

    def drain(self) -> None:
        """Hash what is left unread (so the digest always covers the whole file)."""
        chunk = bytearray(READ_SIZE)
        while self.readinto(chunk):
            pass


class _CsvFile:
    """One source file opened for streaming: ``rows`` to iterate, ``source()`` when done."""

    def __init__(self, path: Path, role: str, progress: ProgressFactory | None) -> None:
        self.path = path
        self.role = role
        try:
            self._stat = path.stat()
            binary = open(path, "rb")  # noqa: SIM115 (closed in close())
        except OSError as exc:
            raise LsoaError(f"cannot read {path}: {exc.strerror or exc}") from None
        head = binary.peek(4)[:4]
        if head == _ZIP_MAGIC:
            binary.close()
            raise LsoaError(
                f"{path.name} is a zip archive (an Excel workbook, or the download itself), not "
                "a CSV file: unzip it, or save the sheet as 'CSV UTF-8', and give that file"
            )
        self._bar = progress(path.name, self._stat.st_size) if progress else None
        self._hashing = _HashingReader(binary, self._bar)
        self._text = io.TextIOWrapper(
            io.BufferedReader(self._hashing, READ_SIZE), encoding="utf-8-sig", newline=""
        )
        self._reader = csv.reader(self._text)

    @property
    def name(self) -> str:
        return self.path.name

    def rows(self) -> Iterator[list[str]]:
        """The file's rows; decoding and CSV errors become ``LsoaError`` naming file and line,
        and so does a last line without a line end (the file was cut short)."""
        try:
            yield from self._reader
        except UnicodeDecodeError:
            # Decoded a megabyte at a time, ahead of the rows: read it again to say where.
            raise LsoaError(str(decode_error_in(self.path, self.name))) from None
        except csv.Error as exc:
            raise LsoaError(f"{self.name}: line {self._reader.line_num}: {exc}") from None
        if self._hashing.size and self._hashing.last not in (b"\n", b"\r"):
            raise LsoaError(
                f"{self.name}: line {self._reader.line_num}: the file ends in the middle of a "
                "row (its last line has no line end): it looks cut short by an interrupted "
                "download or copy; get the file again (if you made it yourself, end its last "
                "line); the risk list is unchanged"
            )

    def source(self, rows: int, date: tuple[str, str] | None = None) -> RiskSource:
        """The file's record, once every row was read; ``date`` as ``(date, date_from)``, else
        from its name or modification time (``date_of_file``)."""
        self._hashing.drain()
        date, date_from = date or date_of_file(self.path, self._stat)
        return RiskSource(
            role=self.role,
            name=self.name,
            sha256=self._hashing.sha256.hexdigest(),
            size=self._hashing.size,
            date=date,
            date_from=date_from,
            rows=rows,
        )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        self._text.close()


@contextmanager
def _opened(
    path: str | os.PathLike[str], role: str, progress: ProgressFactory | None
) -> Iterator[_CsvFile]:
    handle = _CsvFile(Path(path), role, progress)
    try:
        yield handle
    finally:
        handle.close()


@dataclass(frozen=True)
class LsoaImportResult:
    """A risk list built from official data, before it is saved: entries, rule and sources."""

    postcodes: PostcodeSelection
    choice: LsoaChoice | None
    sources: tuple[RiskSource, ...]

    @property
    def rule(self) -> str:
        """E.g. ``IMD 2019 rank <= 30% (9,853 LSOAs); LAD E07000196 (South Staffordshire)``."""
        return self.postcodes.rule

    @property
    def source(self) -> str:
        """The files' names, as the version's ``source`` (``ONSPD.csv + IMD.csv``)."""
        return " + ".join(s.name for s in self.sources)

    @cached_property
    def areas(self) -> frozenset[RiskArea]:
        """The live postcodes as risk-list entries (kind ``postcode``)."""
        with gc_paused():
            return frozenset(RiskArea("postcode", p) for p in self.postcodes.postcodes)


def build_lsoa_risk_areas(
    postcodes: str | os.PathLike[str],
    imd: str | os.PathLike[str] | None = None,
    *,
    most_deprived: str | None = None,
    deciles: str | None = None,
    local_authorities: Sequence[str] = (),
    counties: Sequence[str] = (),
    keep_all_terminated: bool = False,
    skip_invalid: bool = False,
    progress: ProgressFactory | None = None,
    imd_date_given: str | None = None,
) -> LsoaImportResult:
    """The live postcodes of England's most deprived LSOAs, from the published files.

    ``postcodes`` is an ONS Postcode Directory extract (CSV); ``imd`` the English IMD file
    (CSV), or None to use the directory's own ``imd`` rank column. Give exactly one of
    ``most_deprived`` (``"30%"``) and ``deciles`` (``"1-3"``); see ``kiosk.domain.lsoa`` for
    the exact rule. ``local_authorities`` (codes, or names with an IMD file) and ``counties``
    (codes) narrow it to an area. Raises ``LsoaError`` (a ``ValidationError``) with a message
    for the admin: a missing column, mixed LSOA vintages, bad lines (``LsoaDataError``) unless
    ``skip_invalid``, a filter that matches nothing, a file cut short, an IMD file that does
    not rank every English LSOA the directory's live postcodes are in. ``imd_date_given`` is
    the IMD file's date (``--imd-date``; see ``imd_date``).
    """
    given = check_given_date(imd_date_given)
    if (most_deprived is None) == (deciles is None):
        raise LsoaError("give one of --most-deprived (like 30%) or --deciles (like 1-3)")
    selection = (
        Selection.most_deprived(most_deprived)
        if most_deprived is not None
        else Selection.from_deciles(deciles or "")
    )
    area = AreaFilter(tuple(local_authorities), tuple(counties))
    sources: list[RiskSource] = []
    choice = imd_record = None
    if imd is not None:
        with _opened(imd, "imd", progress) as imd_file:
            choice = choose_lsoas(
                imd_file.rows(), imd_file.name, selection, skip_invalid=skip_invalid
            )
            imd_record = imd_file.source(
                choice.rows, imd_date(imd_file.path, choice.vintage, given)
            )
    with _opened(postcodes, "postcodes", progress) as pc_file:
        chosen = choose_postcodes(
            pc_file.rows(),
            pc_file.name,
            selection=selection,
            choice=choice,
            area=area,
            keep_all_terminated=keep_all_terminated,
            skip_invalid=skip_invalid,
        )
        sources.append(pc_file.source(chosen.rows))
    if imd_record is not None:
        sources.append(imd_record)
    return LsoaImportResult(chosen, choice, tuple(sources))


def save_lsoa_risk_list(store: Any, result: LsoaImportResult, at: datetime) -> RiskList:
    """Save ``result`` as the new risk-list version of a ``LocalStore``, with rule and sources."""
    return store.save_risk_list(
        result.areas, result.source, at, rule=result.rule, sources=result.sources
    )


# == the command line, shared by kiosk-admin and kiosk-central =====================================


def add_lsoa_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``risk import-lsoa`` (``kiosk-admin`` and ``kiosk-central`` alike)."""
    parser.add_argument("--postcodes", required=True, metavar="FILE", help="ONSPD extract (CSV)")
    parser.add_argument(
        "--imd",
        metavar="FILE",
        help="English IMD file (CSV: LSOA code, rank, decile); default: the directory's imd column",
    )
    how = parser.add_mutually_exclusive_group(required=True)
    how.add_argument(
        "--most-deprived",
        metavar="PCT",
        help="e.g. 30%%: IMD rank at most PCT of England's LSOAs (9,853 of 32,844 for 30%%)",
    )
    how.add_argument("--deciles", metavar="LIST", help="IMD deciles, e.g. 1-3")
    parser.add_argument(
        "--local-authority",
        action="append",
        default=[],
        metavar="CODE|NAME",
        help="only this district (E07000196, or its name with --imd); repeat for more",
    )
    parser.add_argument(
        "--county", action="append", default=[], metavar="CODE", help="only this county (oscty)"
    )
    parser.add_argument(
        "--imd-date",
        metavar="DATE",
        help="when the IMD file was published (2019-09-26, 2019-09 or 2019), for the record; "
        "default: a date or edition in its name, else the edition its LSOAs imply",
    )
    parser.add_argument("--dry-run", action="store_true", help="report the counts, save nothing")
    parser.add_argument("--skip-invalid", action="store_true", help="import despite bad lines")
    add_guard_arguments(parser)
    parser.add_argument("--verbose", action="store_true", help="list every terminated postcode")
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar on stderr (default: when stderr is a terminal)",
    )


def build_from_args(args: argparse.Namespace, err: TextIO) -> LsoaImportResult:
    """``build_lsoa_risk_areas`` for parsed ``add_lsoa_arguments`` options; the bar on ``err``."""
    show_bar = args.progress if args.progress is not None else err.isatty()
    return build_lsoa_risk_areas(
        args.postcodes,
        args.imd,
        most_deprived=args.most_deprived,
        deciles=args.deciles,
        local_authorities=args.local_authority,
        counties=args.county,
        keep_all_terminated=args.verbose,
        skip_invalid=args.skip_invalid,
        progress=terminal_progress(err) if show_bar else None,
        imd_date_given=args.imd_date,
    )


def report_lines(result: LsoaImportResult, verbose: bool = False) -> list[str]:
    """``key: value`` lines saying what was chosen, from what, and what was left out."""
    chosen = result.postcodes
    lines = [f"rule: {result.rule}"]
    for src in result.sources:
        lines.append(
            f"source: {src.role} {src.name} {src.date} ({src.rows} rows, {src.size} bytes) "
            f"sha256:{src.sha256}"
        )
    lines += [
        f"rows: {chosen.rows}",
        f"lsoas: {chosen.lsoas}",
        f"postcodes: {len(chosen.postcodes)}",
        f"terminated: {chosen.terminated}",
    ]
    if verbose:
        lines += [f"terminated postcode: {p}" for p in chosen.terminated_postcodes]
    elif chosen.terminated:
        shown = chosen.terminated_postcodes
        more = " (--verbose lists all)" if chosen.terminated > len(shown) else ""
        lines.append(f"terminated e.g.: {', '.join(shown)}{more}")
    if chosen.outside_england:
        lines.append(f"outside england: {chosen.outside_england}")
    if chosen.no_lsoa:
        lines.append(f"no lsoa: {chosen.no_lsoa}")
    if chosen.unranked:
        lines.append(f"unranked: {chosen.unranked}")
    if chosen.skipped:
        lines.append(f"skipped: {chosen.skipped}")
    return lines


def bad_line_messages(source: str, problems: Sequence[tuple[int, str]], count: int) -> list[str]:
    """One ``FILE: line N: message`` per kept bad line, and how many more there were."""
    lines = [f"{source}: line {number}: {message}" for number, message in problems]
    if count > len(problems):
        lines.append(f"{source}: ... and {count - len(problems)} more bad line(s)")
    return lines


def empty_detail(result: LsoaImportResult) -> str:
    """Why a built list is empty, for the refusal (``kiosk.domain.risk.check_change``): the rule
    and what the files held, e.g. ``(IMD 2019 rank <= 0.001% (0 LSOAs); 5 rows read ...)``."""
    chosen = result.postcodes
    return (
        f" ({result.rule}; {chosen.rows:,} postcode rows read, {chosen.lsoas:,} LSOA(s) "
        f"selected, {chosen.terminated:,} terminated postcode(s))"
    )
