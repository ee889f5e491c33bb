"""Output piped to ``head`` ends the command quietly: status 141, as for any
command killed by SIGPIPE, and no ``BrokenPipeError`` traceback on the admin's terminal.

The real console scripts run as child processes; the test reads one line and closes the pipe,
and the child's output is far larger than a pipe holds, so its next write must fail."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from central import cli as central_cli
from kiosk.admin import main as admin_main
from kiosk.pipes import EXIT_STDOUT_CLOSED as EXIT_BROKEN_PIPE
from tests.lsoa.helpers import Pc, write_onspd

#: 8,000 valid full postcodes: about 140 kB of ``risk show`` and 230 kB of ``--verbose``.
LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
POSTCODES = [
    f"{d} {n}{a}{b}" for d in ("WV8", "WS7") for n in range(10) for a in LETTERS for b in LETTERS
]


def command(name: str) -> list[str]:
    script = Path(sys.executable).with_name(name)
    if script.exists():
        return [str(script)]
    module = {"kiosk-admin": "kiosk.admin", "kiosk-central": "central.cli"}[name]
    return [sys.executable, "-m", module]


def head_one_line(argv: list[str]) -> tuple[bytes, int, str]:
    """``argv | head -n 1``: the first line, the command's status and its stderr."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    return first, proc.wait(timeout=120), err


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    rows = [Pc(p, "E01029600", imd=5, doterm="202001") for p in POSTCODES]
    return write_onspd(
        tmp_path / "ONSPD_FEB_2023_UK.csv", [*rows, Pc("WV8 1AA", "E01029600", imd=5)]
    )


def test_kiosk_admin_risk_show_into_head(tmp_path):
    data = tmp_path / "kiosk"
    risk = tmp_path / "risk.txt"
    risk.write_text("\n".join(POSTCODES) + "\n")
    assert admin_main(["--data", str(data), "risk", "import", str(risk)]) == 0
    first, code, err = head_one_line([*command("kiosk-admin"), "--data", str(data), "risk", "show"])
    assert first.startswith(b"# risk list v1-")
    assert "Traceback" not in err and "BrokenPipe" not in err and err == ""
    assert code == EXIT_BROKEN_PIPE == 141


def test_kiosk_admin_verbose_lsoa_import_into_head(tmp_path, directory):
    argv = [*command("kiosk-admin"), "--data", str(tmp_path / "kiosk"), "risk", "import-lsoa"]
    argv += ["--postcodes", str(directory), "--most-deprived", "30%", "--verbose", "--dry-run"]
    first, code, err = head_one_line(argv)
    assert first.startswith(b"rule: IMD 2019 rank <= 30%")
    assert err == "" and code == EXIT_BROKEN_PIPE


def test_kiosk_central_verbose_lsoa_import_into_head(tmp_path, directory, capsys):
    db = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    assert central_cli.main(["--db", db, "org", "add", "lichfield"]) == 0
    argv = [*command("kiosk-central"), "--db", db, "risk", "import-lsoa", "lichfield"]
    argv += ["--postcodes", str(directory), "--most-deprived", "30%", "--verbose", "--dry-run"]
    first, code, err = head_one_line(argv)
    assert first.startswith(b"rule: IMD 2019 rank <= 30%")
    assert err == "" and code == EXIT_BROKEN_PIPE
