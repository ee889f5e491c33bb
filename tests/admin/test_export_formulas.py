"""``kiosk-admin export attendance`` writes names that a spreadsheet would run
as formulas as text behind a single quote; ordinary names and our own numbers are untouched."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import unicodedata
from pathlib import Path

from kiosk.admin import main

#: (session name, child's name, volunteer) as an attacker, or an ordinary person, types them
#: (a child's name has no colon: ``--child NAME:YYYY-MM`` gives the month of birth after one).
CASES = (
    ('=HYPERLINK("http://evil.test","Hi")', '=HYPERLINK("//evil.test","Hi")', "=Jo"),
    ("+cmd|' /C calc'!A0", "+cmd|' /C calc'!A0", "+Jo"),
    ("@SUM(1+1)*cmd|' /C calc'!A0", "@SUM(1+1)", "@Jo"),
    ("-2+3", "-2+3", "-Jo"),
    ("\uff1d1+1", "\uff0bcmd", "\uff20Jo"),  # full-width = + @
    ("+1 group", "-", "Jo"),
    ("Stay and Play", "Anne-Marie", "Anne-Marie"),
)

HOURS = ("--start", "09:00", "--end", "11:00")


def admin(data: Path, *argv: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    code = main(["--data", str(data), *argv], out=out, err=err)
    assert code == 0, err.getvalue()
    return out.getvalue()


def neutralised(text: str) -> str:
    """What the export must hold for ``text``: a quote in front when it starts like a formula."""
    first = unicodedata.normalize("NFKC", text.lstrip()[:1])
    return "'" + text if first in ("=", "+", "-", "@") else text


def test_export_attendance_keeps_formulas_as_text(tmp_path):
    data = tmp_path / "kiosk"
    # --name=VALUE, as an admin must type a value that begins with a minus sign
    for i, (session, child, volunteer) in enumerate(CASES):
        day = f"2026-11-{i + 2:02d}"
        admin(data, "session", "add", f"--name={session}", "--date", day, *HOURS)
        family = admin(
            data, "family", "add", "--name", "Tom", "--postcode", "B33 8TH", f"--child={child}"
        ).strip()
        admin(data, "sign-in", family, "--at", f"{day}T09:30", f"--volunteer={volunteer}")

    export = ("export", "attendance", "--from", "2026-11-01", "--to", "2026-11-30")
    proc = subprocess.run(  # the command itself, as a process writing to a pipe
        [sys.executable, "-m", "kiosk.admin", "--data", str(data), *export],
        capture_output=True,
        encoding="utf-8",
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out == admin(data, *export)

    rows = list(csv.DictReader(io.StringIO(out)))
    got = [(r["session"], r["child"], r["volunteer"]) for r in rows]
    assert got == [tuple(neutralised(t) for t in case) for case in CASES]
    assert got[-2:] == [("'+1 group", "'-", "Jo"), ("Stay and Play", "Anne-Marie", "Anne-Marie")]
    assert {r["adults"] for r in rows} == {"1"}
    cells = [cell for row in csv.reader(io.StringIO(out)) for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert not [c for c in cells if unicodedata.normalize("NFKC", c[:1]) in ("=", "+", "-", "@")]
