"""Backups: a consistent copy taken under the store's lock, restored to an identical store, and a
restore that never loses check-ins recorded after the backup without asking (and, when asked,
keeps them anyway)."""

from __future__ import annotations

import io
import os
import re
import shutil
import tarfile
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kiosk.admin import main as admin_main
from kiosk.backup import (
    BackupError,
    RestoreRefused,
    create_backup,
    list_backups,
    prune_backups,
    read_backup,
    restore_backup,
)
from kiosk.store.errors import StoreBusyError
from kiosk.store.layout import LOCK_POLL_SECONDS, Layout
from kiosk.store.lock import FolderLock
from tests.appliance.helpers import MONDAY, file_hashes, make_kiosk, store_contents, write_config

NOT_RUNNING = list  # the units_running stand-in: nothing is running


@pytest.fixture
def kiosk(tmp_path: Path):
    return make_kiosk(tmp_path / "data", visits=2)


@pytest.fixture
def backups(tmp_path: Path) -> Path:
    return tmp_path / "backups"


def admin(tmp_path: Path, *argv: str) -> tuple[int, str, str]:
    config = write_config(tmp_path / "kiosk.toml", tmp_path / "data", tmp_path / "backups")
    out, err = io.StringIO(), io.StringIO()
    code = admin_main(["--config", str(config), *argv], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_a_backup_restores_to_an_identical_store(kiosk, backups):
    before = store_contents(kiosk.data)
    files_before = file_hashes(kiosk.data)
    info = create_backup(kiosk.data, backups)
    assert info.highest_seq == 6 and info.events == 6 and info.device_id == "kiosk-test-1"
    assert set(info.files) == set(files_before)

    shutil.rmtree(kiosk.data)  # the SD card died; a new one has an empty data folder
    kiosk.data.mkdir()
    report = restore_backup(kiosk.data, backups, info.name, running=NOT_RUNNING)

    assert report.merged == [] and report.pre_restore is None
    assert store_contents(kiosk.data) == before
    assert file_hashes(kiosk.data) == files_before


def test_a_restore_over_a_damaged_store_brings_back_every_event(kiosk, backups):
    before = store_contents(kiosk.data)
    info = create_backup(kiosk.data, backups)
    for day_file in (kiosk.data / "events").iterdir():
        day_file.write_text('{"events": {"1": {"seq": 1, "type"')  # cut short by a power cut
    restore_backup(kiosk.data, backups, info.name, running=NOT_RUNNING)
    assert store_contents(kiosk.data)["events"] == before["events"]


def test_restore_refuses_to_lose_newer_unsynced_events_and_changes_nothing(kiosk, backups):
    info = create_backup(kiosk.data, backups)
    kiosk.visit(MONDAY + timedelta(days=7), name="Newcomer")  # seq 7-9, after the backup
    before = file_hashes(kiosk.data)

    with pytest.raises(RestoreRefused) as refused:
        restore_backup(kiosk.data, backups, info.name, running=NOT_RUNNING)

    message = str(refused.value)
    assert "3 event(s) that backup" in message
    assert "seq 7 to 9" in message
    assert "recorded 2026-11-30" in message
    assert "3 not yet sent to the server" in message
    assert "--force" in message
    assert file_hashes(kiosk.data) == before
    assert [b.name for b in list_backups(backups)[0]] == [info.name]  # nothing else written


def test_forced_restore_merges_the_newer_events_so_nothing_is_lost(kiosk, backups):
    info = create_backup(kiosk.data, backups)
    kiosk.visit(MONDAY + timedelta(days=7), name="Newcomer")
    live = store_contents(kiosk.data)

    report = restore_backup(kiosk.data, backups, info.name, force=True, running=NOT_RUNNING)

    after = store_contents(kiosk.data)
    assert [e["event_id"] for e in after["events"]] == [e["event_id"] for e in live["events"]]
    assert [e["seq"] for e in after["events"]] == list(range(1, 10))
    assert after["families"] == live["families"] and after["cards"] == live["cards"]
    assert after["waiting"] == 9  # everything is (re)sent; the server ignores duplicates
    assert [e.seq for e in report.merged] == [7, 8, 9]
    assert report.pre_restore is not None and report.pre_restore.highest_seq == 9
    assert report.pre_restore.name.endswith("-pre-restore")


def test_restore_says_what_it_did_on_the_command_line(tmp_path, kiosk):
    code, out, _ = admin(tmp_path, "backup", "create")
    assert code == 0
    name = re.search(r"^backup: (\S+)$", out, re.M).group(1)
    kiosk.visit(MONDAY + timedelta(days=7), name="Newcomer")

    code, out, err = admin(tmp_path, "backup", "restore", name)
    assert code == 1 and out == ""
    assert err.startswith("kiosk-admin: restore refused: this kiosk holds 3 event(s)")

    code, out, err = admin(tmp_path, "backup", "restore", name, "--force")
    assert code == 0, err
    assert out.startswith(f"restored: {name} (taken ")
    assert "kept: 3 event(s) recorded after the backup (seq 7 to 9, recorded 2026-11-30)" in out
    assert re.search(r"^before: the data as it was is saved as backup \S+-pre-restore$", out, re.M)
    assert out.rstrip().endswith("next: sudo systemctl start doorstep-kiosk doorstep-sync")


def test_backup_create_and_list_on_the_command_line(tmp_path, kiosk):
    code, out, err = admin(tmp_path, "backup", "create")
    assert code == 0, err
    lines = dict(line.split(": ", 1) for line in out.splitlines())
    assert re.fullmatch(r"doorstep-kiosk-test-1-\d{8}T\d{6}Z", lines["backup"])
    assert Path(lines["file"]).is_file()
    assert lines["holds"] == "6 event(s) (seq up to 6, 2026-11-23 to 2026-11-23), 6 not yet sent"
    code, out, _ = admin(tmp_path, "backup", "list")
    assert code == 0
    name, when, seq, events, size = out.strip().split("\t")
    assert name == lines["backup"] and seq == "seq up to 6" and events == "6 events"


def test_a_backup_waits_for_the_stores_lock(kiosk, backups):
    lock = FolderLock(Layout(kiosk.data).lock, 1.0, LOCK_POLL_SECONDS)
    lock.acquire()  # the app is in the middle of recording a tap
    try:
        with pytest.raises(StoreBusyError):
            create_backup(kiosk.data, backups, lock_timeout=0.2)
        released = threading.Timer(0.3, lock.release)
        released.start()
        info = create_backup(kiosk.data, backups, lock_timeout=5)
        released.join()
    finally:
        lock.close()
    assert info.highest_seq == 6
    assert not list(backups.glob(".incoming-*"))  # the failed attempt left nothing behind


def test_the_manifest_lists_every_file_with_its_hash(kiosk, backups):
    info = create_backup(kiosk.data, backups)
    with tarfile.open(info.path) as tar:
        names = tar.getnames()
    assert names[0] == "manifest.json"
    assert sorted(n.removeprefix("data/") for n in names[1:]) == sorted(info.files)
    assert info.files["device.json"]["sha256"] == file_hashes(kiosk.data)["device.json"]
    assert oct(info.path.stat().st_mode & 0o777) == "0o640"  # families' data: not world-readable


def test_a_damaged_backup_is_refused_before_anything_changes(kiosk, backups):
    info = create_backup(kiosk.data, backups)
    before = file_hashes(kiosk.data)
    damaged = backups / "damaged.tar.gz"
    with tarfile.open(info.path) as src, tarfile.open(damaged, "w:gz") as dst:
        for member in src.getmembers():
            body = src.extractfile(member).read()
            if member.name == "data/seq.json":
                body = body.replace(b"1", b"2")
                member.size = len(body)
            dst.addfile(member, io.BytesIO(body))
    with pytest.raises(BackupError, match="seq.json does not match its checksum"):
        restore_backup(kiosk.data, backups, str(damaged), running=NOT_RUNNING)
    assert file_hashes(kiosk.data) == before
    assert not [p for p in kiosk.data.iterdir() if p.name.startswith(".restore-")]


def test_restore_waits_until_the_kiosk_units_are_stopped(kiosk, backups):
    info = create_backup(kiosk.data, backups)
    with pytest.raises(RestoreRefused, match="sudo systemctl stop doorstep-kiosk"):
        restore_backup(kiosk.data, backups, info.name, running=lambda: ["doorstep-kiosk.service"])


def test_another_kiosks_backup_is_not_restored_without_force(kiosk, backups, tmp_path):
    other = make_kiosk(tmp_path / "other", visits=1)
    (other.data / "device.json").write_text('{"device_id": "kiosk-9", "site_id": "x"}\n')
    info = create_backup(other.data, backups)
    with pytest.raises(
        RestoreRefused, match="is of device kiosk-9, but this kiosk is kiosk-test-1"
    ):
        restore_backup(kiosk.data, backups, info.name, running=NOT_RUNNING)


def test_pruning_keeps_keep_days_and_always_the_newest(kiosk, backups):
    now = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)
    made = [create_backup(kiosk.data, backups, now - timedelta(days=d)) for d in (30, 20, 10, 1)]
    removed = prune_backups(backups, keep_days=14, now=now)
    assert [b.name for b in removed] == [made[0].name, made[1].name]
    assert [b.name for b in list_backups(backups)[0]] == [made[2].name, made[3].name]
    # Long after the last backup, the newest one is still kept.
    assert prune_backups(backups, keep_days=14, now=now + timedelta(days=100)) == [made[2]]
    assert [b.name for b in list_backups(backups)[0]] == [made[3].name]


def test_pruning_removes_what_a_killed_backup_left_once_it_is_a_day_old(kiosk, backups):
    info = create_backup(kiosk.data, backups)
    now = info.created_at + timedelta(days=2)
    old = backups / ".doorstep-kiosk-1-20261123T020000Z.tar.gz.4242.ab12cd34.tmp"
    fresh = backups / ".doorstep-kiosk-1-20261125T020000Z.tar.gz.4242.cd34ef56.tmp"
    for path, age in ((old, timedelta(days=1, minutes=1)), (fresh, timedelta(hours=1))):
        path.write_bytes(b"half an archive")
        stamp = (now - age).timestamp()
        os.utime(path, (stamp, stamp))
    prune_backups(backups, keep_days=14, now=now)
    assert not old.exists()
    assert fresh.exists()  # maybe a backup being written now
    assert [b.name for b in list_backups(backups)[0]] == [info.name]


def test_an_unreadable_file_in_the_backup_folder_is_reported_not_fatal(kiosk, backups):
    info = create_backup(kiosk.data, backups)
    (backups / "junk.tar.gz").write_bytes(b"not a tar")
    found, problems = list_backups(backups)
    assert [b.name for b in found] == [info.name]
    assert len(problems) == 1 and "junk.tar.gz is not a readable Doorstep backup" in problems[0]
    assert read_backup(info.path).highest_seq == 6
