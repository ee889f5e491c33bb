"""``kiosk-central copy-to URL``: a server's SQLite database moved whole to PostgreSQL (and to
another SQLite file), as an admin runs it: a real process, then the same invoice, the same rows
with their ids, a verified audit chain, and a database the server keeps writing to."""

from __future__ import annotations

import re
import subprocess
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from central.db import LATEST_VERSION, CentralDB, metadata
from tests.reports.helpers import Kiosk, at
from tests.reports.sample import build_sample
from tests.sync.servers import command, database_url, subprocess_env

TARGETS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def central(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*command("kiosk-central", "central.cli"), "--db", db_url, *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=subprocess_env(SUDO_USER="amir"),
    )


def every_row(url: str) -> dict[str, list[tuple]]:
    db = CentralDB.open(url, migrate=False)
    try:
        with db.engine.connect() as conn:
            return {
                t.name: [
                    tuple(row)
                    for row in conn.execute(
                        select(t).order_by(*(t.primary_key.columns or t.columns))
                    )
                ]
                for t in metadata.sorted_tables
                if t.name != "schema_version"
            }
    finally:
        db.close()


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> str:
    """A server's SQLite file: two organisations' spring, users and an audit log."""
    folder = tmp_path_factory.mktemp("source")
    url = f"sqlite:///{folder / 'central.sqlite3'}"
    db = CentralDB.open(url)
    try:
        build_sample(db)
    finally:
        db.close()
    for args in (
        ("user", "add", "alice", "--role", "staff", "--org", "lichfield"),
        ("user", "add", "carol", "--role", "commissioner"),
        ("user", "grant", "carol", "names"),
    ):
        done = central(url, *args)
        assert done.returncode == 0, done.stderr
    return url


@pytest.fixture(params=TARGETS)
def target(request, tmp_path) -> str:
    with database_url(request.param, tmp_path / "target") as url:
        yield url


def test_the_copy_holds_every_row_with_its_id_and_gives_the_same_invoice(source, target):
    before = every_row(source)

    done = central(source, "copy-to", target)

    assert done.returncode == 0, done.stderr
    rows = sum(len(v) for v in before.values()) + LATEST_VERSION  # and schema_version's
    assert f"copied {rows} rows of " in done.stderr
    assert "rows/s" in done.stderr  # the progress bars
    copied = every_row(target)
    before_audit = before.pop("audit_log")
    assert copied.pop("audit_log")[:-1] == before_audit
    assert copied == before  # every table, every column, every id
    assert every_row(source)["orgs"] == before["orgs"]  # the source was only read
    for org in ("lichfield", "tamworth"):
        invoice = ("report", "invoice", "--org", org, "--month", "2016-04")
        theirs, ours = central(source, *invoice), central(target, *invoice)
        assert ours.returncode == 0, ours.stderr
        assert ours.stdout == theirs.stdout and ours.stdout.count("\n") > 20
    verified = central(target, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    shown = central(target, "audit", "show").stdout.splitlines()
    copy = next(line for line in shown if "\tdatabase.copy\t" in line)
    assert copy.split("\t")[2] == "amir"  # who ran it (sudo), and from where:
    assert f"\tsqlite:///{source.removeprefix('sqlite:///')}\t" in copy
    assert shown.index(copy) == len(before_audit)  # right after the copied entries


def test_the_server_keeps_writing_to_the_copy_after_the_copied_ids(source, target):
    assert central(source, "copy-to", target).returncode == 0
    highest = max(row[0] for row in every_row(target)["events"])

    db = CentralDB.open(target, upgrade=False)
    try:
        kiosk = Kiosk(db, org="lichfield", site="library", device="lichfield-kiosk-9")
        kiosk.timetable(("play-mon", "Stay and Play", "09:30", "11:30", "mon"))
        family = kiosk.register("Nia", "WS7 1AA", ["Ada"], at=at(date(2016, 6, 6), "09:35"))
        kiosk.sign_in(family, at(date(2016, 6, 6), "09:40"))
        assert kiosk.sync()
    finally:
        db.close()
    new = [row[0] for row in every_row(target)["events"] if row[0] > highest]
    assert len(new) >= 2


def test_a_target_that_holds_data_is_refused_and_left_as_it_was(source, target):
    assert central(source, "copy-to", target).returncode == 0
    held = every_row(target)

    again = central(source, "copy-to", target)

    assert again.returncode == 1
    assert re.search(r"is not empty: table \w+ holds [1-9]\d* row\(s\)", again.stderr)
    assert "nothing was written" in again.stderr
    assert every_row(target) == held


def test_the_source_itself_is_refused_as_a_target(source):
    done = central(source, "copy-to", source)
    assert done.returncode == 1
    assert "the target is the database being copied" in done.stderr


def test_a_source_that_does_not_exist_is_named_and_not_created(tmp_path):
    missing = tmp_path / "no-such.sqlite3"
    done = central(f"sqlite:///{missing}", "copy-to", f"sqlite:///{tmp_path / 'new.sqlite3'}")
    assert done.returncode == 1
    assert f"the database to copy, {missing}, does not exist" in done.stderr
    assert not missing.exists() and not (tmp_path / "new.sqlite3").exists()


def test_an_empty_source_is_named_rather_than_copied(tmp_path):
    empty = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    CentralDB.open(empty).close()
    done = central(empty, "copy-to", f"sqlite:///{tmp_path / 'new.sqlite3'}")
    assert done.returncode == 1
    assert "holds no data: is --db" in done.stderr


def test_a_target_that_cannot_be_reached_is_named_without_its_password(source):
    done = central(source, "copy-to", "postgresql://doorstep:s3cret@127.0.0.1:1/nowhere")
    assert done.returncode == 1
    assert "cannot open the target database postgresql+psycopg://doorstep:***@127.0.0.1:1" in (
        done.stderr
    )
    assert "s3cret" not in done.stderr
    assert "Traceback" not in done.stderr


def test_a_bad_target_url_is_a_clear_error(source, tmp_path: Path):
    done = central(source, "copy-to", "mysql://someone@db/doorstep")
    assert done.returncode == 1
    assert "unsupported database 'mysql'" in done.stderr
    assert "Traceback" not in done.stderr
