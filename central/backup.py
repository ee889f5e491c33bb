"""``kiosk-central backup FILE`` and ``kiosk-central restore FILE`` for the SQLite default.

**Backup** uses SQLite's online backup API (``sqlite3.Connection.backup``): a page-by-page
copy taken inside one read transaction, so it is consistent even while the server is taking
batches (WAL mode lets writers carry on meanwhile). The copy is checked (``PRAGMA
integrity_check``), fsync'd and renamed into place, so ``FILE`` is either whole or absent.

**Restore** (stop the server first) checks the backup the same way, keeps the database as it
was beside it (``central.sqlite3.pre-restore-20261123T101500Z``; only the newest
:data:`KEEP_PREVIOUS` such copies are kept, ``--keep-previous``), puts the backup in place,
migrates it if it is from an older release, and renews the database's *epoch*: every kiosk
then pulls the roster again from the start, and on its next exchange each kiosk hears how far
the restored server holds its events and re-sends the gap from what it keeps (see
``docs/recovery.md``).

Backups, pre-restore copies and the database are ``0600`` whatever the umask, and folders made
for them ``0700`` (``central.files``).

PostgreSQL is backed up and restored with its own tools (``pg_dump``/``pg_restore``, or
point-in-time recovery); after such a restore run ``kiosk-central mark-restored``.
"""

from __future__ import annotations

import glob
import os
import re
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from central.db import LATEST_VERSION, CentralDB, CentralError, normalise_url
from central.files import SQLITE_SIDE_FILES, private_dir, private_file
from central.sqlite_check import foreign_wal, leftover_wal

_STAMPED = re.compile(r"\.pre-restore-\d{8}T\d{6}Z")

#: How many ``pre-restore-*`` copies of the database a restore leaves (the newest ones).
KEEP_PREVIOUS = 3

PG_HELP = (
    "this is a PostgreSQL database: back it up with pg_dump (pg_dump -Fc -f FILE URL) or the "
    "server's point-in-time recovery, restore with pg_restore, then run "
    "'kiosk-central mark-restored' (see docs/recovery.md)"
)


@dataclass
class DatabaseSummary:
    """What a database file holds, for the admin."""

    schema_version: int
    events: int
    devices: dict[str, int] = field(default_factory=dict)  # device -> holds_up_to

    def describe(self) -> str:
        holds = ", ".join(f"{d} holds seq up to {h}" for d, h in sorted(self.devices.items()))
        return f"schema {self.schema_version}, {self.events} event(s); {holds or 'no devices'}"


def sqlite_path(url: str) -> Path:
    """The file of a ``sqlite:///`` URL; CentralError (with the PostgreSQL way) otherwise."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() == "postgresql":
        raise CentralError(PG_HELP)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        raise CentralError(f"backup and restore work on a SQLite file, not {url!r}")
    return Path(parsed.database).expanduser()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable."""
    _fsync(path)


def _check(path: Path, what: str) -> DatabaseSummary:
    """Open ``path`` read-only and check it is a whole Doorstep database."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise CentralError(f"{what} {path} cannot be opened: {exc}") from None
    try:
        ok = conn.execute("PRAGMA integrity_check").fetchone()
        if not ok or ok[0] != "ok":
            raise CentralError(f"{what} {path} is damaged (integrity check: {ok and ok[0]})")
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "schema_version" not in tables or "events" not in tables:
            raise CentralError(f"{what} {path} is not a Doorstep central database")
        version = int(conn.execute("SELECT max(version) FROM schema_version").fetchone()[0] or 0)
        events = int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
        devices = dict(conn.execute("SELECT device_id, holds_up_to FROM devices").fetchall())
    except sqlite3.DatabaseError as exc:
        raise CentralError(f"{what} {path} cannot be read: {exc}") from None
    finally:
        conn.close()
    if version > LATEST_VERSION:
        raise CentralError(
            f"{what} {path} is at schema version {version}, newer than this server "
            f"({LATEST_VERSION}): upgrade doorstep-kiosk first"
        )
    return DatabaseSummary(version, events, {str(k): int(v) for k, v in devices.items()})


def _copy(source: Path, target: Path) -> None:
    """A consistent copy of the SQLite database ``source`` into the new file ``target`` (0600,
    and so is the journal SQLite writes beside it meanwhile)."""
    private_file(target)
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            dst.close()
    finally:
        src.close()
    _fsync(target)


def _keep_previous(target: Path, previous: Path) -> None:
    """Keep the database as it was at ``previous``: a consistent copy, WAL included; but a
    database that does not go with the -wal beside it (a file copied over it by hand after an
    unclean stop) or cannot be read is moved aside as it is, its -wal as ``previous-wal``, so
    nothing is mixed or lost."""
    if not (leftover_wal(target) and foreign_wal(target)):
        try:
            _copy(target, previous)
            return
        except sqlite3.DatabaseError:
            previous.unlink(missing_ok=True)
    os.replace(target, previous)
    wal = Path(f"{target}-wal")
    if wal.exists():
        os.replace(wal, Path(f"{previous}-wal"))
    Path(f"{target}-shm").unlink(missing_ok=True)


def backup_database(url: str, dest: Path, force: bool = False) -> DatabaseSummary:
    """Back the SQLite database of ``url`` up into ``dest`` while the server may be running."""
    source = sqlite_path(url)
    if not source.is_file():
        raise CentralError(f"there is no database at {source} to back up")
    dest = Path(dest)
    if dest.exists() and not force:
        raise CentralError(f"{dest} already exists: choose another name (or --force)")
    private_dir(dest.parent)
    tmp = dest.with_name(f".{dest.name}.incoming")
    tmp.unlink(missing_ok=True)
    try:
        _copy(source, tmp)
        summary = _check(tmp, "the new backup")
        os.replace(tmp, dest)
        fsync_dir(dest.parent)
    finally:
        tmp.unlink(missing_ok=True)
    return summary


@dataclass
class RestoreResult:
    restored: DatabaseSummary
    previous: Path | None
    epoch: str
    #: Older pre-restore copies deleted to keep only the newest ``keep_previous``.
    removed: list[Path] = field(default_factory=list)


def pre_restore_copies(target: Path) -> list[Path]:
    """The ``<name>.pre-restore-<time>`` copies beside ``target``, oldest first (the time in
    the name is UTC, ``%Y%m%dT%H%M%SZ``, so names sort in time order)."""
    found = target.parent.glob(f"{glob.escape(target.name)}.pre-restore-*")
    return sorted(p for p in found if _STAMPED.fullmatch(p.name[len(target.name) :]))


def prune_pre_restore(target: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` pre-restore copies of ``target``; those deleted."""
    copies = pre_restore_copies(target)
    removed = copies[: max(0, len(copies) - keep)]
    for old in removed:
        for name in (str(old), *(f"{old}{suffix}" for suffix in SQLITE_SIDE_FILES)):
            Path(name).unlink(missing_ok=True)
    return removed


def restore_database(
    url: str, backup: Path, now: datetime | None = None, keep_previous: int = KEEP_PREVIOUS
) -> RestoreResult:
    """Put ``backup`` in place of the SQLite database of ``url`` (stop the server first).

    The database as it was is kept beside it as ``<name>.pre-restore-<time>``; of those copies
    only the newest ``keep_previous`` (at least 1: the one just made) are left.
    """
    if keep_previous < 1:
        raise CentralError("keep at least 1 pre-restore copy (--keep-previous 1 or more)")
    target = sqlite_path(url)
    backup = Path(backup)
    if not backup.is_file():
        raise CentralError(f"no backup file {backup}")
    if backup.resolve() == target.resolve():
        raise CentralError(f"{backup} is the live database itself")
    _check(backup, "backup")
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    private_dir(target.parent)
    incoming = target.with_name(f".{target.name}.incoming")
    incoming.unlink(missing_ok=True)
    previous: Path | None = None
    try:
        _copy(backup, incoming)
        if target.exists():
            previous = target.with_name(f"{target.name}.pre-restore-{stamp}")
            _keep_previous(target, previous)
        for suffix in SQLITE_SIDE_FILES:
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        os.replace(incoming, target)
        fsync_dir(target.parent)
    finally:
        incoming.unlink(missing_ok=True)
    db = CentralDB.open(url)  # migrates a backup from an older release
    try:
        epoch = db.renew_epoch()
    finally:
        db.close()
    removed = prune_pre_restore(target, keep_previous)
    return RestoreResult(_check(target, "the restored database"), previous, epoch, removed)
