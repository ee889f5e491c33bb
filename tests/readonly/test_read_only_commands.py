"""Reading commands never write: ``kiosk-admin status``, ``doctor``, ``export``, the lists and
shows work on a data folder where nothing can be written (a full disk, a read-only mount), and
leave every file, folder listing and mtime exactly as they were.

Each command runs as a real process, on folders in the states that used to make reading write:
a registration cut short by a full disk (its intent still in ``seq.json``), a temporary file
left by a killed write, and files a power cut spoiled (which a writer moves to quarantine/).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.store import LocalStore
from tests.appliance.helpers import REPO
from tests.readonly.helpers import STRAY_TEMP, kiosk_with_config, snapshot

ADMIN = str(Path(sys.executable).parent / "kiosk-admin")

#: Every kiosk-admin command that only reads (``{risk}`` is a risk file outside the folder).
READING = [
    ["status"],
    ["doctor"],
    ["export", "attendance"],
    ["risk", "show"],
    ["risk", "check", "WS7 1AA"],
    ["risk", "history"],
    ["risk", "import", "{risk}", "--dry-run"],
    ["family", "list"],
    ["session", "list"],
    ["rejected", "list"],
    ["volunteer", "list"],
    ["audit", "show"],
    ["audit", "verify"],
    ["backup", "list"],
    ["config", "check"],
]
STATES = ["interrupted", "damaged"]


def _ids(command: list[str]) -> str:
    return "-".join(a for a in command if not a.startswith("{"))


@pytest.fixture(params=STATES)
def kiosk(request, tmp_path: Path):
    data, config = kiosk_with_config(tmp_path, request.param)
    risk = tmp_path / "risk.txt"
    risk.write_text("WS7 1\nWS9 2\n")
    return data, config, risk


def _argv(config: Path, risk: Path, command: list[str]) -> list[str]:
    return ["--config", str(config), *[a.format(risk=risk) for a in command]]


def _check_ran(command: list[str], proc: subprocess.CompletedProcess) -> None:
    if command == ["doctor"]:  # exit 1 when a check fails; it must have run them all
        assert "store in " in proc.stdout and "disk: " in proc.stdout, proc.stdout
    else:
        assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "could not write" not in proc.stdout + proc.stderr


@pytest.mark.parametrize("command", READING, ids=_ids)
def test_a_reading_command_leaves_the_data_folder_exactly_as_it_was(kiosk, command):
    data, config, risk = kiosk
    before = snapshot(data, config.parent / "backups")
    proc = subprocess.run(
        [ADMIN, *_argv(config, risk, command)],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    _check_ran(command, proc)
    assert snapshot(data, config.parent / "backups") == before


@pytest.mark.parametrize("command", READING, ids=_ids)
def test_a_reading_command_works_when_the_disk_is_full(kiosk, command):
    """Every write under the data and backup folders fails with ENOSPC (works as root)."""
    data, config, risk = kiosk
    before = snapshot(data, config.parent / "backups")
    folders = os.pathsep.join([str(data), str(config.parent / "backups")])
    proc = subprocess.run(
        [sys.executable, "-m", "tests.readonly.full_disk", folders, "--"]
        + _argv(config, risk, command),
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    _check_ran(command, proc)
    assert "No space left" not in proc.stdout + proc.stderr
    assert snapshot(data, config.parent / "backups") == before


def _admin(config: Path, *argv: str) -> str:
    proc = subprocess.run(
        [ADMIN, "--config", str(config), *argv], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _status(config: Path) -> dict[str, str]:
    lines = _admin(config, "status").splitlines()
    return dict(line.split(": ", 1) for line in lines if ": " in line)


def test_a_registration_cut_short_by_a_full_disk_reads_as_the_next_writer_will_finish_it(
    tmp_path,
):
    data, config = kiosk_with_config(tmp_path, "interrupted")
    assert "Latecomer" in _admin(config, "family", "list")
    status = _status(config)
    assert status["families"] == "3"
    assert status["waiting"] == "8"  # 3 + 3 events of make_kiosk, and the cut-short 2
    problems = [v for k, v in _status(config).items() if k == "problem"]
    assert any("not finished on disk" in p for p in problems), problems
    assert '"pending":{' in (data / "seq.json").read_text()  # still as it was
    # The kiosk app (a writer) then finishes it on disk, as before.
    with LocalStore(data) as store:
        assert "Latecomer" in [f.greeting_name for f in store.families()]
    assert '"pending":null' in (data / "seq.json").read_text()
    assert not (data / STRAY_TEMP).exists()


def test_damaged_files_are_reported_not_moved_and_read_as_a_writer_would_repair_them(tmp_path):
    data, config = kiosk_with_config(tmp_path, "damaged")
    out = _admin(config, "status")
    problems = [line for line in out.splitlines() if line.startswith("problem: ")]
    for name in ("events/2026-11-23.json", "state/timetable.json", "risk/current.json"):
        assert any(name in p and "not moved" in p for p in problems), (name, problems)
    assert _admin(config, "session", "list") == ""  # the timetable is unreadable
    assert "[v1-" in _admin(config, "risk", "check", "WS7 1AA")  # the newest readable list
    rows = _admin(config, "export", "attendance").splitlines()
    assert len(rows) == 2 and rows[1].startswith("2026-11-30,")  # the readable week
    assert not os.listdir(data / "quarantine")
    with LocalStore(data) as store:  # a writer moves them aside, as before
        assert len(store.problems()) == 3
    assert len([n for n in os.listdir(data / "quarantine") if n.endswith(".reason.txt")]) == 3


def _read_only(folders: list[Path], argv: list[str]) -> list[str]:
    """``argv`` run where ``folders`` cannot be written. ``chmod a-w`` does that for a user; root
    writes through it (and CI runs as root), so as root the command also runs in a mount
    namespace of its own where each folder is a read-only bind mount, as on a read-only disk."""
    if os.geteuid() != 0:
        return argv
    mounts = " && ".join(
        f"mount --bind {q} {q} && mount -o remount,bind,ro {q}"
        for q in (shlex.quote(str(f)) for f in folders)
    )
    shell = f'{mounts} && exec "$@"'
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", shell, "sh", *argv]


@pytest.mark.parametrize("command", READING, ids=_ids)
def test_a_reading_command_works_on_a_read_only_data_folder(kiosk, command):
    data, config, risk = kiosk
    folders = [data, config.parent / "backups"]
    for folder in folders:
        subprocess.run(["chmod", "-R", "a-w", str(folder)], check=True)
    try:
        proc = subprocess.run(
            _read_only(folders, [ADMIN, *_argv(config, risk, command)]),
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        for folder in folders:
            subprocess.run(["chmod", "-R", "u+w", str(folder)], check=True)
    _check_ran(command, proc)
    assert "no permission" not in proc.stderr
    assert "mount:" not in proc.stderr and "unshare:" not in proc.stderr, proc.stderr
