"""Refuse a SQLite database that is damaged, or that was replaced by hand beside an old -wal.

The obvious way to restore, copying a backup over ``central.sqlite3``, goes wrong when the
server did not stop cleanly: its ``-wal`` (the changes not yet copied into the database file)
is still there, and SQLite applies it to whatever file it finds. Applied to another file it
mixes pages of two databases (damage), or brings the newer data back over the backup, silently.
``kiosk-central restore`` does it right. So before anything opens the database (the first
connection would copy the ``-wal`` into the file for good), :func:`preflight` looks at the
files themselves:

- A ``-wal`` that no process has open (a server that was killed, crashed or lost power) with
  committed changes in it must belong to the database file beside it. It does not if its page
  size differs; or if the pages SQLite already copied from it into the file (its wal-index,
  ``-shm``, says which) are not in the file any more; or if the file was changed (its ctime,
  which no copy tool can set back) after the ``-wal`` was last written while no such copy
  happened. Then the database is refused.
- Otherwise the database is opened read-only (which never copies the ``-wal`` into it) and
  checked: ``PRAGMA quick_check``, or the full ``integrity_check`` after an unclean stop.

:func:`quick_check` is what ``/healthz`` asks while the server runs. PostgreSQL is not checked
here (it looks after its own files).
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from central.db import CentralError, normalise_url

log = logging.getLogger("central.sqlite_check")

ADVICE = (
    "to put a backup in place, stop the server and run 'kiosk-central restore BACKUP' (it "
    "checks the backup, keeps the damaged files aside and tells the kiosks to send again what "
    "the backup lacks; see docs/recovery.md)"
)
_WAL_MAGIC = (0x377F0682, 0x377F0683)  # the low bit: checksums in big-endian words
_WAL_HEADER = 32
_FRAME_HEADER = 24
_SHM_HEADER = 136  # two copies of the 48-byte wal-index header, then the checkpoint info
_SHM_DMS_BYTE = 128  # every connection holds a read lock on this byte of the -shm
_WAL_VERSION = 3007000


class DatabaseRefused(CentralError):
    """The database must not be served: what is wrong, and to use ``kiosk-central restore``."""


def sqlite_file(url: str) -> Path | None:
    """The file of a ``sqlite:///`` URL, or None for another database."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:":
        return None
    return Path(parsed.database).expanduser()


def preflight(url: str, full: bool = True) -> None:
    """Check the SQLite database of ``url`` before this process opens it (see the module's
    docstring); ``full`` also runs ``quick_check`` when the last stop was clean. Raises
    :class:`DatabaseRefused`. Call it before any connection to the file in this process: the
    -shm lock test cannot see this process's own connections."""
    path = sqlite_file(url)
    if path is None or not path.exists():
        return
    leftover = leftover_wal(path)
    if leftover:
        problem = foreign_wal(path)
        if problem:
            wal = f"{path.name}-wal"
            raise DatabaseRefused(
                f"the database {path} does not go with the {wal} beside it: {problem}. "
                "Opening it would mix the two (or quietly bring back the newer data), so it is "
                f"not opened. If a backup was copied over it by hand: {ADVICE}"
            )
        log.warning("%s: the server did not stop cleanly last time: checking it in full", path)
    if leftover or full:
        verdict = _check(path, "integrity_check" if leftover else "quick_check")
        if verdict is not None:
            raise DatabaseRefused(f"the database {path} is damaged ({verdict}): {ADVICE}")


def leftover_wal(path: Path) -> bool:
    """Is there a -wal with something in it that no process has open (an unclean stop)?"""
    wal = Path(f"{path}-wal")
    if not wal.exists() or wal.stat().st_size == 0:
        return False
    return not (_open_here(path) or _in_use(path))


def _open_here(path: Path) -> bool:
    """Has this process the database open already (a test, a library caller)? Then it is in
    use, and its files must not be opened and closed behind SQLite's back here: closing any
    descriptor of a file drops every POSIX lock this process holds on it, SQLite's too."""
    names = {os.path.realpath(f"{path}{suffix}") for suffix in ("", "-wal", "-shm")}
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return False  # no /proc: the command line opens nothing before checking
    for fd in fds:
        try:
            if os.readlink(f"/proc/self/fd/{fd}") in names:
                return True
        except OSError:
            continue
    return False


class HealthCheck:
    """``quick_check`` for ``/healthz``, run again only when the database's files changed
    since the last time it passed (an idle server is not re-read at every poll)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._passed: tuple[tuple[int, ...], ...] | None = None

    def _signature(self) -> tuple[tuple[int, ...], ...]:
        found = []
        for name in (str(self.path), f"{self.path}-wal"):
            try:
                st = os.stat(name)
            except FileNotFoundError:
                found.append(())
                continue
            found.append((st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
        return tuple(found)

    def __call__(self) -> str | None:
        """None if the database is whole, else what is wrong and what to do."""
        signature = self._signature()
        if signature == self._passed:
            return None
        problem = quick_check(self.path)
        self._passed = None if problem else signature
        return problem


def quick_check(path: Path) -> str | None:
    """``PRAGMA quick_check`` on a read-only connection of its own (no cached pages): None if
    the database is whole, else what is wrong with it and what to do."""
    verdict = _check(path, "quick_check")
    return None if verdict is None else f"the database {path} is damaged ({verdict}): {ADVICE}"


def _check(path: Path, pragma: str) -> str | None:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error as exc:
        return f"it cannot be opened: {exc}"
    try:
        rows = [r[0] for r in conn.execute(f"PRAGMA {pragma}(5)").fetchall()]
    except sqlite3.DatabaseError as exc:
        return f"{pragma}: {exc}"
    finally:
        conn.close()
    if rows == ["ok"]:
        return None
    return f"{pragma}: " + "; ".join(str(r) for r in rows)


def _in_use(path: Path) -> bool:
    """Has another process the database open? (SQLite's connections each hold a read lock on
    one byte of the -shm; we only test whether a write lock could be had, and let go.)"""
    shm = Path(f"{path}-shm")
    try:
        fd = os.open(shm, os.O_RDWR)
    except FileNotFoundError:
        return False
    except OSError:
        return True  # cannot tell: do not second-guess a database someone may be using
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, _SHM_DMS_BYTE, os.SEEK_SET)
    except OSError:
        return True
    else:
        fcntl.lockf(fd, fcntl.LOCK_UN, 1, _SHM_DMS_BYTE, os.SEEK_SET)
        return False
    finally:
        os.close(fd)


@dataclass(frozen=True)
class _Wal:
    page_size: int
    salts: bytes
    #: The committed frames, in order: (frame number from 1, page number, offset of the page).
    frames: tuple[tuple[int, int, int], ...]


def foreign_wal(path: Path) -> str | None:
    """Why the -wal beside ``path`` cannot be the database file's own, or None if it may be."""
    wal = Path(f"{path}-wal")
    try:
        parsed = _read_wal(wal)
        with path.open("rb") as f:
            header = f.read(100)
    except OSError as exc:
        return f"it cannot be read ({exc})"
    if parsed is None or not parsed.frames:
        return None  # no committed changes in it: nothing would be applied
    if len(header) < 100 or not header.startswith(b"SQLite format 3\0"):
        return "the database file is not a SQLite database"
    page_size = struct.unpack(">H", header[16:18])[0]
    page_size = 65536 if page_size == 1 else page_size
    if page_size != parsed.page_size:
        return f"its pages are {page_size} bytes and the -wal's {parsed.page_size}"
    backfilled = _backfilled(Path(f"{path}-shm"), parsed)
    if backfilled:
        latest: dict[int, tuple[int, int]] = {}
        for number, page, offset in parsed.frames:
            latest[page] = (number, offset)
        with path.open("rb") as db_file, wal.open("rb") as wal_file:
            for page, (number, offset) in sorted(latest.items()):
                if number > backfilled:
                    continue  # not copied yet (or being copied when it stopped)
                wal_file.seek(offset)
                db_file.seek((page - 1) * page_size)
                if wal_file.read(page_size) != db_file.read(page_size):
                    return (
                        f"page {page} of the database file is not the one SQLite copied "
                        "into it from the -wal"
                    )
    if not backfilled and path.stat().st_ctime_ns > wal.stat().st_ctime_ns:
        return (
            "the database file was changed after the -wal was last written, and not by SQLite "
            "copying the -wal into it (was it replaced, e.g. by a backup copied over it?)"
        )
    return None


def _read_wal(wal: Path) -> _Wal | None:
    """The -wal's committed frames, validated as SQLite does (salts, checksum chain); None if
    its header is not valid (SQLite then ignores the file)."""
    with wal.open("rb") as f:
        header = f.read(_WAL_HEADER)
        if len(header) < _WAL_HEADER:
            return None
        magic, version, page_size, _seq, _s1, _s2, c1, c2 = struct.unpack(">8I", header)
        if magic not in _WAL_MAGIC or version != _WAL_VERSION:
            return None
        if page_size < 512 or page_size > 65536 or page_size & (page_size - 1):
            return None
        big = bool(magic & 1)
        sums = _checksum(header[:24], big, (0, 0))
        if sums != (c1, c2):
            return None
        salts = header[16:24]
        frames: list[tuple[int, int, int]] = []
        committed = 0
        number = 0
        while True:
            frame_header = f.read(_FRAME_HEADER)
            page = f.read(page_size)
            if len(frame_header) < _FRAME_HEADER or len(page) < page_size:
                break
            pgno, size_after, *_ = struct.unpack(">2I", frame_header[:8])
            if pgno == 0 or frame_header[8:16] != salts:
                break
            sums = _checksum(page, big, _checksum(frame_header[:8], big, sums))
            if sums != struct.unpack(">2I", frame_header[16:24]):
                break
            page_at = _WAL_HEADER + number * (_FRAME_HEADER + page_size) + _FRAME_HEADER
            number += 1
            frames.append((number, pgno, page_at))
            if size_after:
                committed = number
    return _Wal(page_size, salts, tuple(frames[:committed]))


def _checksum(data: bytes, big: bool, start: tuple[int, int]) -> tuple[int, int]:
    """SQLite's WAL checksum (wal.c, walChecksumBytes) of ``data``, continuing ``start``."""
    words = struct.unpack(f"{'>' if big else '<'}{len(data) // 4}I", data)
    s1, s2 = start
    for i in range(0, len(words), 2):
        s1 = (s1 + words[i] + s2) & 0xFFFFFFFF
        s2 = (s2 + words[i + 1] + s1) & 0xFFFFFFFF
    return s1, s2


def _backfilled(shm: Path, wal: _Wal) -> int:
    """How many of the -wal's frames SQLite had copied into the database file, from the
    wal-index (-shm) if it is whole and describes this -wal; 0 if it says none or cannot say."""
    try:
        with shm.open("rb") as f:
            data = f.read(_SHM_HEADER)
    except OSError:
        return 0
    if len(data) < _SHM_HEADER or data[:48] != data[48:96]:
        return 0
    order = "<" if sys.byteorder == "little" else ">"
    version, _unused, _change, is_init = struct.unpack(f"{order}3IB", data[:13])
    mx_frame = struct.unpack(f"{order}I", data[16:20])[0]
    if version != _WAL_VERSION or not is_init or data[32:40] != wal.salts:
        return 0
    if mx_frame != len(wal.frames):
        return 0
    return min(struct.unpack(f"{order}I", data[96:100])[0], mx_frame)
