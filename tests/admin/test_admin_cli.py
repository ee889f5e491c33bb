"""kiosk-admin: the contract acceptance scripts rely on (names, output lines, exit codes)."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.admin import main


class Run:
    def __init__(self, data: Path) -> None:
        self.data = data

    def __call__(self, *argv: str, stdin: str | None = None) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        if stdin is not None:
            old = sys.stdin
            sys.stdin = io.StringIO(stdin)
        try:
            code = main(["--data", str(self.data), *argv], out=out, err=err)
        finally:
            if stdin is not None:
                sys.stdin = old
        return code, out.getvalue(), err.getvalue()


@pytest.fixture
def run(tmp_path: Path) -> Run:
    return Run(tmp_path / "kiosk")


def test_risk_import_reports_counts_and_versions(run, tmp_path):
    f = tmp_path / "risk.txt"
    f.write_text("WS7 1AA\nWS7 1\nWS12\n")
    code, out, _ = run("risk", "import", str(f))
    assert code == 0
    assert "added: 3\nremoved: 0\nunchanged: 0\n" in out
    assert "version: v1-" in out
    f.write_text("WS7 1AA\nWS13\n")
    code, out, _ = run("risk", "import", str(f))
    assert code == 1  # 2 of the 3 entries removed: refused unless the admin says so
    code, out, _ = run("risk", "import", str(f), "--allow-shrink")
    assert "added: 1\nremoved: 2\nunchanged: 1\n" in out and "version: v2-" in out
    code, out, _ = run("risk", "history")
    assert [line.split("\t")[0][:3] for line in out.splitlines()] == ["v1-", "v2-"]
    assert "sha256:" in out


def test_risk_import_with_bad_lines_changes_nothing_and_names_each_line(run, tmp_path):
    good = tmp_path / "good.txt"
    good.write_text("WS7 1AA\n")
    run("risk", "import", str(good))
    bad = tmp_path / "bad.txt"
    bad.write_text("WS8 1AA\nnonsense\nWS9 1AA\nQQ1 1AA\n")
    code, out, err = run("risk", "import", str(bad))
    assert code == 1
    assert "line 2:" in err and "line 4:" in err and "line 3:" not in err
    assert "unchanged" in err
    _, shown, _ = run("risk", "show")
    assert "WS7 1AA" in shown and "WS8 1AA" not in shown


def test_risk_import_skip_invalid_and_dry_run(run, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("postcode\nWS8 1AA\nnonsense\n")
    code, out, _ = run("risk", "import", str(bad), "--dry-run", "--skip-invalid")
    assert code == 0 and "added: 1" in out and "dry run" in out
    assert "0 entries" in run("risk", "show")[1]
    code, out, _ = run("risk", "import", str(bad), "--skip-invalid")
    assert code == 0 and "skipped: 1" in out
    assert "WS8 1AA" in run("risk", "show")[1]


def test_risk_check(run, tmp_path):
    f = tmp_path / "risk.txt"
    f.write_text("WS7 1\n")
    run("risk", "import", str(f))
    assert "in the risk list (matched by sector)" in run("risk", "check", "ws71zz")[1]
    assert "not in the risk list" in run("risk", "check", "B33 8TH")[1]
    code, _, err = run("risk", "check", "nonsense")
    assert code == 1 and "nonsense" in err


def test_family_add_prints_only_the_id_and_the_door_works(run):
    run(
        "session",
        "add",
        "--name",
        "Stay and Play",
        "--weekday",
        "mon",
        "--start",
        "09:30",
        "--end",
        "11:30",
    )
    code, out, _ = run(
        "family",
        "add",
        "--name",
        "Sarah",
        "--postcode",
        "ws7 1aa",
        "--child",
        "Mia:2024-03",
        "--child",
        "Leo",
        "--card",
        "04:a2:3b:1c",
        "--young-parent",
    )
    assert code == 0
    family_id = out.strip()
    assert out == family_id + "\n" and family_id.startswith("F-")
    _, out, _ = run("tap", "04A23B1C", "--at", "2026-11-23T09:40")
    assert out.startswith("welcome: Sarah with Mia, Leo")
    _, out, _ = run("tap", "04A23B1C", "--at", "2026-11-23T09:41")
    assert out.startswith("already signed in: Sarah")
    _, out, _ = run("tap", "04FFFFFF", "--at", "2026-11-23T09:41")
    assert out.startswith("unknown card: 04FFFFFF")
    _, out, _ = run("tap", "04A23B1C", "--at", "2026-11-23T13:00")
    assert out.startswith("no session on now")


def test_sign_in_and_export(run):
    run(
        "session",
        "add",
        "--name",
        "Baby Music",
        "--date",
        "2026-11-25",
        "--start",
        "13:00",
        "--end",
        "14:00",
    )
    fid = run(
        "family",
        "add",
        "--name",
        "Tom",
        "--postcode",
        "B33 8TH",
        "--child",
        "Alfie",
        "--child",
        "Isla",
    )[1].strip()
    code, out, _ = run(
        "sign-in", fid, "--child", "Isla", "--at", "2026-11-25T13:05", "--volunteer", "Jo"
    )
    assert code == 0 and out.startswith("welcome: Tom with Isla")
    code, out, _ = run("export", "attendance", "--from", "2026-11-01", "--to", "2026-11-30")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 1
    row = rows[0]
    assert {
        k: row[k] for k in ("date", "session", "family_id", "child", "method", "qualifies")
    } == {
        "date": "2026-11-25",
        "session": "Baby Music",
        "family_id": fid,
        "child": "Isla",
        "method": "manual",
        "qualifies": "no",
    }
    assert row["risk_version"] == "v0-none" and row["reasons"] == ""
    assert run("export", "attendance", "--from", "2026-12-01")[1].count("\n") == 1  # header only


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["card", "assign", "04A23B1C", "F-NOSUCHFAMILY"], "no family with id 'F-NOSUCHFAMILY'"),
        (["card", "revoke", "04A23B1C"], "not assigned"),
        (["card", "assign", "zz", "F-1"], "hexadecimal"),
        (["family", "add", "--name", "Sam", "--postcode", "WS7"], "WS7"),
        (
            ["family", "add", "--name", "Sam", "--postcode", "WS7 1AA", "--child", "Mia:03-2024"],
            "2024-03",
        ),
        (
            [
                "session",
                "add",
                "--name",
                "S",
                "--weekday",
                "mon",
                "--start",
                "10:00",
                "--end",
                "09:00",
            ],
            "before it starts",
        ),
        (["tap", "04A23B1C", "--at", "yesterday"], "--at 'yesterday'"),
        (["export", "attendance", "--from", "2026-13-01"], "--from '2026-13-01'"),
        (["export", "attendance", "--from", "2026-12-01", "--to", "2026-11-01"], "before --from"),
        (["sign-in", "F-NOPE", "--volunteer", "Jo"], "no family"),
    ],
)
def test_bad_input_exits_1_with_a_clear_message(run, argv, message):
    code, _, err = run(*argv)
    assert code == 1
    assert message in err
    assert "Traceback" not in err


def test_overlapping_session_is_refused(run):
    run("session", "add", "--name", "A", "--weekday", "tue", "--start", "09:00", "--end", "10:00")
    code, _, err = run(
        "session", "add", "--name", "B", "--weekday", "tue", "--start", "09:30", "--end", "11:00"
    )
    assert code == 1 and "overlaps" in err
    assert len(run("session", "list")[1].splitlines()) == 1


def test_status_lines(run):
    run("session", "add", "--name", "S", "--weekday", "mon", "--start", "09:30", "--end", "11:30")
    run("family", "add", "--name", "Sarah", "--postcode", "WS7 1AA", "--card", "04A23B1C")
    run("tap", "04A23B1C", "--at", "2026-11-23T09:40")
    code, out, _ = run("status")
    status = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
    assert code == 0
    assert status["waiting"] == "3"  # member.registered, card.assigned, attendance.recorded
    assert status["oldest_waiting"] != "none"
    assert status["risk_version"] == "v0-none"
    assert int(status["store_size"]) > 0


def test_enrol_sets_identity_used_by_events(run):
    run("enrol", "--device", "kiosk-7", "--site", "hub-3")
    run("status")
    status = dict(line.split(": ", 1) for line in run("status")[1].splitlines() if ": " in line)
    assert (status["device"], status["site"]) == ("kiosk-7", "hub-3")
    code, _, err = run("enrol", "--device", "bad id!", "--site", "x")
    assert code == 1 and "device id" in err


def test_console_script_runs_as_a_process(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "kiosk.admin", "--data", str(tmp_path / "d"), "status"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "waiting: 0" in proc.stdout


def reader_toml(tmp_path: Path, reader: str) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(
        f'[device]\nid = "kiosk-7"\nsite = "hub-3"\n[store]\ndata = "{tmp_path / "kiosk"}"\n'
        f"[reader]\n{reader}\n[feedback]\nenabled = false\n",
        encoding="utf-8",
    )
    return path


def test_reader_test_uses_the_reader_the_config_file_names(run, tmp_path):
    path = reader_toml(tmp_path, 'kind = "fake"\nfake_script = [[0, "04a23b1c"]]')
    code, out, _ = run("--config", str(path), "reader", "test", "--timeout", "5")
    assert (code, out.splitlines()[-1]) == (0, "Card 04A23B1C read by the fake reader.")


def test_reader_test_keeps_the_files_wiring_under_command_line_overrides(run, tmp_path):
    path = reader_toml(tmp_path, 'kind = "rc522"\nusb_device = "/nonexistent/doorstep-reader"')
    test = ["--config", str(path), "reader", "test", "--reader", "usb", "--timeout", "5"]
    # No such device here (nor, on most machines, evdev): it says which reader it tried.
    code, out, _ = run(*test)
    assert code == 2 and "USB reader /nonexistent/doorstep-reader" in out
    code, out, _ = run(*test, "--usb-device", "RFID")
    assert code == 2 and "USB reader RFID" in out


def test_reader_test_with_a_named_config_that_is_missing_says_so(run, tmp_path):
    missing = tmp_path / "nope.toml"
    code, out, err = run("--config", str(missing), "reader", "test")
    assert code == 1 and out == ""
    assert err == f"kiosk-admin: {missing}: no such file (scripts/install-pi.sh writes one)\n"


def test_kiosk_admin_and_kiosk_central_take_the_same_session_add_options():
    import argparse

    from central.cli import build_parser as central_parser
    from kiosk.admin_parser import build_parser as admin_parser

    def options(parser: argparse.ArgumentParser, *path: str) -> list[tuple]:
        for name in path:
            sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
            parser = sub.choices[name]
        return [
            (tuple(a.option_strings), a.required, a.help)
            for a in parser._actions
            if a.option_strings and a.dest != "help"
        ]

    kiosk = options(admin_parser(), "session", "add")
    assert [o[0] for o in kiosk] == [
        ("--name",),
        ("--weekday",),
        ("--date",),
        ("--start",),
        ("--end",),
    ]
    assert options(central_parser(), "session", "add") == kiosk
