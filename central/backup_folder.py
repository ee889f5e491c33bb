"""Nightly backups into one folder, kept for ``[backup] keep_days`` (central.toml).

``kiosk-central backup`` without a file name (the ``doorstep-central-backup`` timer runs it)
writes ``central-<UTC time>.sqlite3`` with SQLite's online backup (``central.backup``), or
``central-<UTC time>.pgdump`` with ``pg_dump -Fc`` for PostgreSQL, then deletes the ones older
than ``keep_days``; the newest is always kept, so a server that stops backing up for a while
does not lose its last good copy. The time is in the name, so ``kiosk-central doctor`` can tell
the age of the newest backup even after the files were copied elsewhere and back.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import make_url

from central.backup import backup_database, fsync_dir
from central.db import CentralError, normalise_url
from central.files import private_dir, private_file

_NAME = re.compile(r"^central-(\d{8}T\d{6}Z)\.(sqlite3|pgdump)$")


@dataclass(frozen=True)
class FolderBackup:
    """One backup in the folder, and when it was taken (from its name)."""

    path: Path
    taken_at: datetime


def list_backups(folder: Path) -> list[FolderBackup]:
    """The folder's backups, oldest first; other files are ignored."""
    found = []
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    for name in names:
        match = _NAME.match(name)
        if match:
            taken = datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            found.append(FolderBackup(Path(folder) / name, taken))
    return sorted(found, key=lambda b: b.taken_at)


def backup_to_folder(
    url: str, folder: Path, keep_days: int, now: datetime | None = None
) -> tuple[Path, list[Path]]:
    """Back the database of ``url`` up into ``folder``; returns the new file and those deleted
    for being older than ``keep_days`` (never the newest)."""
    now = now or datetime.now(UTC)
    private_dir(folder)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    if make_url(normalise_url(url)).get_backend_name() == "postgresql":
        target = Path(folder) / f"central-{stamp}.pgdump"
        _pg_dump(url, target)
    else:
        target = Path(folder) / f"central-{stamp}.sqlite3"
        backup_database(url, target)
    return target, prune(folder, keep_days, now)


def prune(folder: Path, keep_days: int, now: datetime) -> list[Path]:
    """Delete backups older than ``keep_days``, except the newest."""
    backups = list_backups(folder)
    removed = []
    for old in backups[:-1]:
        if now - old.taken_at > timedelta(days=keep_days):
            old.path.unlink(missing_ok=True)
            removed.append(old.path)
    return removed


def _pg_dump(url: str, target: Path) -> None:
    """``pg_dump -Fc`` into ``target`` (0600, renamed into place when whole); the password goes
    in the environment, not on the command line where ``ps`` shows it."""
    if shutil.which("pg_dump") is None:
        raise CentralError(
            "pg_dump is not installed: apt-get install postgresql-client (the same major "
            "version as the server, or newer)"
        )
    parsed = make_url(normalise_url(url))
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    tmp = target.with_name(f".{target.name}.incoming")
    private_file(tmp)
    try:
        result = subprocess.run(
            ["pg_dump", "-Fc", "-f", str(tmp), plain.render_as_string(hide_password=False)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise CentralError(f"pg_dump failed: {result.stderr.strip()[-500:]}")
        os.replace(tmp, target)
        fsync_dir(target.parent)
    finally:
        tmp.unlink(missing_ok=True)
