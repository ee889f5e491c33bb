"""The central server's files are its owner's alone whatever the umask, and restores keep a
bounded number of pre-restore copies."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from central.backup import KEEP_PREVIOUS, backup_database, restore_database
from central.db import CentralDB
from tests.sync.servers import CentralServer, command, subprocess_env


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The most open umask there is: nothing is taken away from the modes files ask for."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> str:
    return oct(stat.S_IMODE(os.stat(path).st_mode))


def sqlite_files(folder: Path) -> dict[str, str]:
    return {p.name: mode(p) for p in sorted(folder.iterdir()) if p.is_file()}


def test_a_new_database_its_wal_shm_and_folder_are_private(tmp_path, open_umask):
    folder = tmp_path / "new" / "doorstep-central"
    db = CentralDB.open(f"sqlite:///{folder / 'central.sqlite3'}")
    try:
        db.add_org("lichfield")
        assert sqlite_files(folder) == {
            "central.sqlite3": "0o600",
            "central.sqlite3-shm": "0o600",
            "central.sqlite3-wal": "0o600",
        }
    finally:
        db.close()
    assert mode(folder) == mode(folder.parent) == "0o700"


def test_an_existing_database_left_readable_by_an_older_release_is_tightened(tmp_path):
    path = tmp_path / "central.sqlite3"
    CentralDB.open(f"sqlite:///{path}").close()
    for name in ("central.sqlite3", "central.sqlite3-wal", "central.sqlite3-shm"):
        (tmp_path / name).touch()
        os.chmod(tmp_path / name, 0o644)
    os.chmod(tmp_path / "central.sqlite3-wal", 0o666)
    db = CentralDB.open(f"sqlite:///{path}")
    try:
        assert set(sqlite_files(tmp_path).values()) == {"0o600"}
    finally:
        db.close()


def test_the_running_server_keeps_its_files_private(tmp_path, open_umask):
    folder = tmp_path / "data"
    with CentralServer(f"sqlite:///{folder / 'central.sqlite3'}", tmp_path / "server.log"):
        files = sqlite_files(folder)
    assert "central.sqlite3-wal" in files  # it was open
    assert set(files.values()) == {"0o600"}
    assert mode(folder) == "0o700"


def test_backups_and_their_new_folder_are_private(tmp_path, open_umask):
    url = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    CentralDB.open(url).close()
    dest = tmp_path / "backups" / "nightly" / "central-1.sqlite3"
    done = subprocess.run(
        [*command("kiosk-central", "central.cli"), "--db", url, "backup", str(dest)],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert mode(dest) == "0o600"
    assert mode(dest.parent) == mode(dest.parent.parent) == "0o700"
    assert sorted(p.name for p in dest.parent.iterdir()) == ["central-1.sqlite3"]


def test_a_restore_keeps_the_newest_pre_restore_copies_private_and_no_more(tmp_path, open_umask):
    url = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    CentralDB.open(url).close()
    backup = tmp_path / "saved" / "backup.sqlite3"
    backup_database(url, backup)
    start = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    kept = []
    for n in range(KEEP_PREVIOUS + 2):
        result = restore_database(url, backup, now=start + timedelta(minutes=n))
        kept.append(result.previous)
    copies = sorted(tmp_path.glob("central.sqlite3.pre-restore-*"))
    assert KEEP_PREVIOUS == 3
    assert copies == kept[-3:]  # the newest three
    assert result.removed == [kept[-4]]
    assert {mode(p) for p in copies} == {"0o600"}
    assert set(sqlite_files(tmp_path).values()) == {"0o600"}


def test_restore_keep_previous_is_an_option_and_says_what_it_removed(tmp_path):
    url = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    CentralDB.open(url).close()
    backup = tmp_path / "backup.sqlite3"
    backup_database(url, backup)
    for n in range(2):
        restore_database(url, backup, now=datetime(2026, 1, 1, 10, n, tzinfo=UTC))
    done = subprocess.run(
        [
            *command("kiosk-central", "central.cli"),
            "--db",
            url,
            "restore",
            str(backup),
            "--keep-previous",
            "1",
        ],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    [left] = tmp_path.glob("central.sqlite3.pre-restore-*")
    assert f"kept as {left}" in done.stderr
    assert done.stderr.count("removed the older copy") == 2
    refused = subprocess.run(
        [
            *command("kiosk-central", "central.cli"),
            "--db",
            url,
            "restore",
            str(backup),
            "--keep-previous",
            "0",
        ],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=120,
    )
    assert refused.returncode == 1
    assert "keep at least 1 pre-restore copy" in refused.stderr
    assert len(list(tmp_path.glob("central.sqlite3.pre-restore-*"))) == 1
