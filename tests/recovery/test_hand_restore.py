"""A backup copied by hand over the central database, with real
``kiosk-central serve`` processes over a real SQLite file.

What was observed: a server stopped with SIGTERM left its ``-wal`` behind (uvicorn ends the
process before the database is closed), so the copied-back file met the newer ``-wal``, and
SQLite applied it: the "restored" server quietly served the newer data (or, when a checkpoint
had run since the copy, a mix of the two files), and ``/healthz`` said ok.

Now a normal stop leaves one whole file (a later hand copy is then what is served), and a
``-wal`` left by an unclean stop (crash, ``kill -9``, power cut) that does not belong to the
file beside it makes ``serve`` refuse to start, untouched, pointing to ``kiosk-central
restore``; a damaged database is refused at start and reported by ``/healthz``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from tests.helpers import wait_for
from tests.sync.servers import CentralServer, command, free_port, subprocess_env


class Files:
    """The server's database and the files beside it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.db = folder / "central.sqlite3"
        self.url = f"sqlite:///{self.db}"

    @property
    def wal(self) -> Path:
        return Path(f"{self.db}-wal")

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*command("kiosk-central", "central.cli"), "--db", self.url, *args],
            capture_output=True,
            text=True,
            env=subprocess_env(),
            timeout=120,
        )

    def ok(self, *args: str) -> str:
        done = self.cli(*args)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def users(self) -> set[str]:
        return {line.split("\t")[0] for line in self.ok("user", "list").splitlines()}

    def checkpoint(self, mode: str = "PASSIVE") -> None:
        """What a busy server's automatic checkpoint does: copy the -wal into the file
        (``RESTART``: and have the next write start the -wal again from its beginning)."""
        import sqlite3

        conn = sqlite3.connect(self.db)
        try:
            busy, logged, copied = conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
            assert busy == 0 and logged == copied > 0
        finally:
            conn.close()


@pytest.fixture
def files(tmp_path) -> Files:
    folder = tmp_path / "data"
    folder.mkdir()
    return Files(folder)


def refused(files: Files, log: Path) -> str:
    """Run ``kiosk-central serve`` and return what it said when it refused to start; fail
    (saying what ``/healthz`` answered) if it starts instead."""
    port = free_port()
    with log.open("w+") as out:
        process = subprocess.Popen(
            [*command("kiosk-central", "central.cli"), "--db", files.url, "serve"]
            + ["--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=subprocess_env(),
        )
        try:
            answered: list[requests.Response] = []

            def exited_or_answered() -> bool:
                if process.poll() is not None:
                    return True
                try:
                    answered.append(requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5))
                except requests.RequestException:
                    return False
                return True

            wait_for(exited_or_answered, "kiosk-central serve to refuse (or start)", timeout=120)
            if answered:
                health = answered[-1]
                pytest.fail(f"the server started; /healthz said {health.status_code} {health.text}")
        finally:
            if process.poll() is None:
                process.kill()
            process.wait(10)
        out.seek(0)
        said = out.read()
    assert process.returncode == 1, said
    return said


def after(path: Path, probe: Path) -> None:
    """Until the file system's clock has moved on from ``path``'s last change (a few ms), so
    a copy made next is seen as later: touch a probe file until its ctime is newer."""
    while True:
        probe.write_bytes(b"x")
        if probe.stat().st_ctime_ns > path.stat().st_ctime_ns:
            return


def copy_and_crash(files: Files, tmp_path: Path, checkpoint_after_copy: str | None) -> Path:
    """A running server with data; the admin copies the database file (only it, as it is on
    disk); more is written (with a checkpoint of ``checkpoint_after_copy``'s kind in between,
    or none); the server is killed (crash, kill -9) and leaves its -wal."""
    files.ok("org", "add", "lichfield")
    server = CentralServer(files.url, tmp_path / "server.log").start()
    try:
        for name in ("anna", "ben"):
            files.ok("user", "add", name, "--role", "commissioner")
        files.checkpoint()  # so the copy holds them
        copy = tmp_path / "by-hand.sqlite3"
        shutil.copyfile(files.db, copy)
        files.ok("user", "add", "cora", "--role", "commissioner")
        if checkpoint_after_copy:
            files.checkpoint(checkpoint_after_copy)
        files.ok("user", "add", "dev", "--role", "commissioner")
        assert server.process is not None
        server.process.kill()
        server.process.wait(10)
    finally:
        server.stop()
    assert files.wal.stat().st_size > 0
    return copy


@pytest.mark.parametrize(
    "checkpoint_after_copy", [None, "PASSIVE", "RESTART"], ids=["none", "passive", "restart"]
)
def test_serve_refuses_a_file_copied_by_hand_over_the_old_wal(
    files, tmp_path, checkpoint_after_copy
):
    copy = copy_and_crash(files, tmp_path, checkpoint_after_copy)
    after(files.wal, tmp_path / "probe")
    shutil.copyfile(copy, files.db)  # the obvious restore
    before = {p.name: p.read_bytes() for p in files.folder.iterdir()}

    out = refused(files, tmp_path / "refused.log")
    assert f"the database {files.db} does not go with the central.sqlite3-wal beside it" in out
    assert "kiosk-central restore BACKUP" in out
    # Nothing was opened for writing: the files are as the admin left them.
    assert {p.name: p.read_bytes() for p in files.folder.iterdir()} == before

    # Other commands refuse too, rather than merge the -wal into the file for good.
    listing = files.cli("user", "list")
    assert listing.returncode == 1 and "does not go with" in listing.stderr

    # The advice works: restore the copy; the server serves what it held, and starts.
    done = files.cli("restore", str(copy))
    assert done.returncode == 0, done.stderr
    kept = sorted(p.name for p in files.folder.glob("central.sqlite3.pre-restore-*"))
    assert len(kept) == 2 and kept[1] == kept[0] + "-wal"  # the files as they were, aside
    assert files.users() == {"anna", "ben"}
    with CentralServer(files.url, tmp_path / "server2.log") as server:
        assert requests.get(server.url + "/healthz", timeout=10).json()["status"] == "ok"


def test_a_normal_stop_leaves_one_whole_file_so_a_hand_copy_is_what_is_served(files, tmp_path):
    files.ok("org", "add", "lichfield")
    server = CentralServer(files.url, tmp_path / "server.log").start()
    try:
        files.ok("user", "add", "anna", "--role", "commissioner")
        files.checkpoint()
        copy = tmp_path / "by-hand.sqlite3"
        shutil.copyfile(files.db, copy)
        files.ok("user", "add", "cora", "--role", "commissioner")
    finally:
        server.stop()  # SIGTERM, as systemctl stop does
    assert not files.wal.exists()  # the -wal was copied into the file and removed
    shutil.copyfile(copy, files.db)
    with CentralServer(files.url, tmp_path / "server2.log") as server:
        health = requests.get(server.url + "/healthz", timeout=10).json()
        assert health["status"] == "ok"
        assert files.users() == {"anna"}  # the copy, not the newer data


@pytest.mark.parametrize("checkpoint", [None, "PASSIVE", "RESTART"])
def test_a_crash_without_a_hand_copy_is_recovered_as_usual(files, tmp_path, checkpoint):
    copy_and_crash(files, tmp_path, checkpoint_after_copy=checkpoint)
    with CentralServer(files.url, tmp_path / "server2.log") as server:
        assert requests.get(server.url + "/healthz", timeout=10).json()["status"] == "ok"
        assert files.users() == {"anna", "ben", "cora", "dev"}


def damage(path: Path) -> None:
    """Scribble over the middle of the database file, as a bad disk or a half copy would."""
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.seek(size // 2)
        f.write(os.urandom(8192))


def test_serve_refuses_a_damaged_database(files, tmp_path):
    files.ok("org", "add", "lichfield")
    for name in ("anna", "ben", "cora"):
        files.ok("user", "add", name, "--role", "commissioner")
    damage(files.db)
    out = refused(files, tmp_path / "refused.log")
    assert f"the database {files.db} is damaged (quick_check: " in out
    assert "kiosk-central restore BACKUP" in out


def test_healthz_reports_a_database_damaged_under_the_running_server(files, tmp_path):
    files.ok("org", "add", "lichfield")
    for name in ("anna", "ben", "cora"):
        files.ok("user", "add", name, "--role", "commissioner")
    with CentralServer(files.url, tmp_path / "server.log") as server:
        assert requests.get(server.url + "/healthz", timeout=10).status_code == 200
        damage(files.db)
        r = requests.get(server.url + "/healthz", timeout=30)
        assert r.status_code == 503
        assert r.json()["status"] == "error"
        assert "is damaged (quick_check: " in r.json()["detail"]
        assert "kiosk-central restore" in r.json()["detail"]


def test_a_database_this_process_has_open_is_in_use_not_left_over(files):
    """The check never opens and closes the files of a database its own process is using
    (closing any descriptor of a file drops the process's POSIX locks on it, SQLite's too)."""
    from central.db import CentralDB
    from central.sqlite_check import leftover_wal, preflight

    db = CentralDB.open(files.url)
    try:
        db.add_org("lichfield")
        assert files.wal.stat().st_size > 0
        assert not leftover_wal(files.db)
        preflight(files.url)  # quick_check only; passes
    finally:
        db.close()
