"""``kiosk-admin status | head -1``: when the reader of stdout goes away, the console commands
stop quietly (no BrokenPipeError traceback) with status 141, as a shell reports for tools the
pipe stopped."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from kiosk.domain.postcodes import parse_risk_area
from kiosk.pipes import EXIT_STDOUT_CLOSED
from kiosk.store import LocalStore
from tests.appliance.helpers import MONDAY, make_kiosk

BIN = Path(sys.executable).parent


def _with_closed_stdout(argv: list[str]) -> subprocess.CompletedProcess:
    """Run with stdout a pipe whose reading end is already closed: every write fails."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            argv, stdout=write, stderr=subprocess.PIPE, text=True, check=False, timeout=120
        )
    finally:
        os.close(write)


def test_status_into_a_closed_pipe_ends_quietly(tmp_path):
    data = tmp_path / "data"
    make_kiosk(data, visits=1)
    proc = _with_closed_stdout([str(BIN / "kiosk-admin"), "--data", str(data), "status"])
    assert proc.stderr == ""
    assert proc.returncode == EXIT_STDOUT_CLOSED


def test_kiosk_central_into_a_closed_pipe_ends_quietly(tmp_path):
    """The central server's commands too (``audit show`` prints one line per entry)."""
    central = [str(BIN / "kiosk-central"), "--db", f"sqlite:///{tmp_path / 'central.sqlite3'}"]
    subprocess.run([*central, "migrate"], capture_output=True, check=True)
    subprocess.run([*central, "org", "add", "Acme"], capture_output=True, check=True)
    proc = _with_closed_stdout([*central, "audit", "show"])
    assert proc.stderr == ""
    assert proc.returncode == EXIT_STDOUT_CLOSED


def test_risk_show_piped_to_head_prints_one_line_and_no_traceback(tmp_path):
    """A real ``| head -1`` on output far larger than the pipe holds, so ``head`` has gone
    before kiosk-admin has written it all."""
    data = tmp_path / "data"
    make_kiosk(data, visits=0)
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    areas = frozenset(
        parse_risk_area(f"WS{d} {n}{a}{b}")
        for d in range(1, 11)
        for n in range(10)
        for a in letters
        for b in letters
    )  # 40,000 postcodes: about 700 kB of output
    with LocalStore(data) as store:
        store.save_risk_list(areas, "big.txt", MONDAY)
    admin = BIN / "kiosk-admin"
    whole = subprocess.run([admin, "--data", data, "risk", "show"], capture_output=True, check=True)
    assert len(whole.stdout) > 256 * 1024  # far more than a pipe holds (64 kB on Linux)
    proc = subprocess.run(
        ["sh", "-c", f'"{admin}" --data "{data}" risk show | head -1'],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.stdout.startswith("# risk list v2-") and proc.stdout.count("\n") == 1
    assert proc.stderr == ""
