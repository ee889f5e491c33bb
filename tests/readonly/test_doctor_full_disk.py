"""``kiosk-admin doctor`` on a full or nearly full disk: the disk check fails, says how much is
left and what to free, and the doctor still runs every check without writing.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from kiosk.config import load_config
from kiosk.doctor import Probes, check_disk, check_store, run_doctor
from tests.readonly.full_disk import disk_full
from tests.readonly.helpers import kiosk_with_config, snapshot

ADMIN = str(Path(sys.executable).parent / "kiosk-admin")
GB = 10**9


def probes(free: int, total: int | None = 32 * GB, inodes=(500_000, 1_000_000)) -> Probes:
    usage = SimpleNamespace(free=free) if total is None else SimpleNamespace(free=free, total=total)
    return Probes(
        clock_synced=lambda: True,
        now=lambda: datetime(2026, 11, 23, 12, 0, tzinfo=UTC),
        disk_usage=lambda path: usage,
        free_inodes=lambda path: inodes,
        unit_active=lambda unit: None,
        mounted_read_only=lambda path: False,
    )


@pytest.fixture
def config(tmp_path: Path):
    _, config_file = kiosk_with_config(tmp_path, "interrupted")
    return load_config(config_file)


@pytest.mark.parametrize(
    ("free", "total", "level", "says"),
    [
        (20 * GB, 32 * GB, "ok", ""),
        (2 * GB, 32 * GB, "warn", "only 2.0 GB (6.2% of 32.0 GB) left"),  # under 10 %
        (400 * 10**6, 32 * GB, "fail", "only 400 MB (1.2% of 32.0 GB) left"),  # under 2 %
        (300 * 10**6, 1 * GB, "warn", "only 300 MB (30.0% of 1.0 GB) left"),  # under 500 MB
        (60 * 10**6, 1 * GB, "fail", "only 60 MB (6.0% of 1.0 GB) left"),  # under 100 MB
        (60 * 10**6, None, "fail", "only 60 MB left"),  # a probe that knows no total
        (0, 32 * GB, "fail", "the disk is full: check-ins cannot be saved"),
    ],
)
def test_the_disk_check_fails_on_a_nearly_full_disk_and_says_how_much_is_left(
    config, free, total, level, says
):
    findings = check_disk(config, probes(free, total))
    data_line = next(f for f in findings if f"for the data ({config.store.data})" in f.what)
    assert data_line.level == level
    assert data_line.what.startswith(f"disk: {free / 1e9:.1f} GB free for the data")  # kept
    assert says in data_line.todo
    if level == "fail":
        assert "delete old backups" in data_line.todo


def test_running_out_of_inodes_fails_even_with_bytes_to_spare(config):
    findings = check_disk(config, probes(20 * GB, inodes=(12, 1_000_000)))
    assert [f.level for f in findings] == ["ok", "fail"]
    assert "12 of 1000000 inodes free" in findings[1].what and "df -i" in findings[1].todo


def test_the_doctor_runs_every_check_and_fails_the_disk_when_nothing_can_be_written(tmp_path):
    data, config_file = kiosk_with_config(tmp_path, "interrupted")
    before = snapshot(data, tmp_path / "backups")
    with disk_full([data, tmp_path / "backups"]):
        findings = run_doctor(config_file, probes(0))
    lines = [f.line() for f in findings]
    assert any(line.startswith(f"ok: store in {data} readable: seq up to 8") for line in lines)
    assert any(
        line.startswith("fail: disk: 0.0 GB free for the data") and "the disk is full" in line
        for line in lines
    ), lines
    assert not any("cannot be read" in line or "check failed" in line for line in lines), lines
    assert snapshot(data, tmp_path / "backups") == before


def test_a_data_folder_on_a_read_only_mount_fails_and_the_store_is_still_checked(config):
    checks = probes(20 * GB)
    checks.mounted_read_only = lambda path: path == config.store.data
    findings = check_store(config, checks)
    assert findings[0].level == "fail" and "mounted read-only" in findings[0].what
    assert "SD card" in findings[0].todo
    assert any(f.what.startswith("store in ") and "readable" in f.what for f in findings)


def _mount_tiny_disk(where: Path) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    where.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def test_on_a_really_full_file_system_reading_commands_work_and_doctor_says_it_is_full(tmp_path):
    """A real 4 MB file system filled to the last byte (needs root and a tmpfs mount)."""
    disk = tmp_path / "disk"
    if not _mount_tiny_disk(disk):
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        data, config_file = kiosk_with_config(disk, "interrupted")
        with open(disk / "filler", "wb") as fh:
            try:
                while True:
                    fh.write(b"\0" * 65536)
                    fh.flush()
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
        for argv in (["status"], ["export", "attendance"], ["family", "list"]):
            proc = subprocess.run(
                [ADMIN, "--config", str(config_file), *argv],
                capture_output=True,
                text=True,
                check=False,
            )
            assert proc.returncode == 0, (argv, proc.stderr)
        proc = subprocess.run(
            [ADMIN, "--config", str(config_file), "doctor"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 1
        assert f"ok: store in {data} readable" in proc.stdout, proc.stdout
        assert "fail: disk: 0.0 GB free for the data" in proc.stdout
        assert "the disk is full" in proc.stdout
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_on_a_real_read_only_mount_reading_commands_work_and_doctor_says_so(tmp_path):
    """A tmpfs remounted read-only, as the kernel does to a failing SD card (needs root)."""
    disk = tmp_path / "disk"
    if not _mount_tiny_disk(disk):
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        data, config_file = kiosk_with_config(disk, "damaged")
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        for argv in (["status"], ["export", "attendance"], ["session", "list"]):
            proc = subprocess.run(
                [ADMIN, "--config", str(config_file), *argv],
                capture_output=True,
                text=True,
                check=False,
            )
            assert proc.returncode == 0, (argv, proc.stderr)
        proc = subprocess.run(
            [ADMIN, "--config", str(config_file), "doctor"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 1
        assert f"fail: data folder {data} is on a file system mounted read-only" in proc.stdout
        assert f"ok: store in {data} readable" in proc.stdout, proc.stdout
    finally:
        subprocess.run(["umount", str(disk)], check=False)
