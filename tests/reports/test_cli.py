"""The report commands of kiosk-central, as an admin or an acceptance script runs them."""

from __future__ import annotations

import csv
import io

from central.cli import main
from tests.reports.helpers import at


def run(capsys, db_url: str, *args: str) -> tuple[int, str, str]:
    code = main(["--db", db_url, *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_rate_then_invoice_csv_and_pdf(capsys, db_url, db, kiosk, tmp_path):
    kiosk.register("Sarah", "WS7 1AA", ["Mia", "Leo"], card="04A00001")
    kiosk.tap("04A00001", at("2016-04-04"))
    kiosk.sync()

    code, _out, err = run(
        capsys, db_url, "org", "rate", "lichfield", "£3.00", "--from", "2016-04-01"
    )
    assert code == 0 and "rate £3.00 per qualifying child-session" in err
    code, out, _ = run(capsys, db_url, "org", "rates", "lichfield")
    assert out == "incentive\t2016-04-01\t3.00\n"

    code, out, err = run(
        capsys, db_url, "report", "invoice", "--org", "lichfield", "--month", "2016-04"
    )
    rows = list(csv.reader(io.StringIO(out)))
    assert code == 0 and len(rows) == 4 and rows[-1][0] == "TOTAL" and rows[-1][-2] == "6.00"
    assert "2 qualifying child-attendances, total £6.00" in err

    pdf = tmp_path / "april.pdf"
    code, _out, err = run(
        capsys,
        db_url,
        "report",
        "invoice",
        "--org",
        "lichfield",
        "--month",
        "2016-04",
        "--format",
        "pdf",
        "--out",
        str(pdf),
    )
    assert code == 0 and pdf.read_bytes().startswith(b"%PDF")


def test_bad_input_is_an_error_on_stderr_with_status_1(capsys, db_url, db, kiosk):
    code, _out, err = run(
        capsys, db_url, "org", "rate", "lichfield", "3.005", "--from", "2016-04-01"
    )
    assert code == 1 and "not an amount of money" in err
    code, _out, err = run(
        capsys, db_url, "report", "invoice", "--org", "lichfield", "--month", "2016-13"
    )
    assert code == 1 and "not a month like 2016-04" in err
    code, _out, err = run(
        capsys, db_url, "report", "invoice", "--org", "nowhere", "--month", "2016-04"
    )
    assert code == 1 and "no organisation 'nowhere'" in err
    code, _out, err = run(capsys, db_url, "report", "reach", "--org", "lichfield")
    assert code == 1 and "say which period" in err


def test_reach_in_every_format(capsys, db_url, db, kiosk, tmp_path):
    kiosk.register(
        "Sarah", "WS7 1AA", ["Mia"], card="04A00001", heard_from="leaflet", at=at("2016-04-01")
    )
    kiosk.tap("04A00001", at("2016-04-04"))
    kiosk.sync()
    base = ("report", "reach", "--org", "lichfield", "--month", "2016-04")
    code, out, _ = run(capsys, db_url, *base)
    assert code == 0 and "Reach and engagement: lichfield, April 2016" in out
    code, out, _ = run(capsys, db_url, *base, "--format", "csv")
    assert out.startswith("section,group,families")
    code, out, _ = run(capsys, db_url, *base, "--format", "html")
    assert out.startswith("<!doctype html>") and 'alt="Bar chart' in out and "<style>" in out
    pdf = tmp_path / "reach.pdf"
    code, _out, _ = run(capsys, db_url, *base, "--format", "pdf", "--out", str(pdf))
    assert code == 0 and pdf.read_bytes().startswith(b"%PDF")
    code, out, _ = run(capsys, db_url, "report", "reach", "--month", "2016-04")
    assert "Reach and engagement: all organisations, April 2016" in out


def test_register_review_and_paper_import(capsys, db_url, db, kiosk, tmp_path):
    sarah = kiosk.register("Sarah", "WS7 1AA", ["Mia"], card="04A00001")
    tom = kiosk.register("Tom", "WS13 6YY", ["Ava"], card="04A00002")
    kiosk.clock_synced = False
    kiosk.tap("04A00001", at("2016-04-04"))
    kiosk.sync()

    code, out, err = run(
        capsys, db_url, "report", "register", "--org", "lichfield", "--date", "2016-04-04"
    )
    assert code == 0 and out.splitlines()[1].split(",")[6] == "Sarah"
    assert "1 session(s), 1 families, 1 children, 1 adults" in err

    code, out, err = run(
        capsys, db_url, "review", "list", "--org", "lichfield", "--month", "2016-04"
    )
    [attendance_id] = out.split()
    code, _out, err = run(capsys, db_url, "review", "count", attendance_id, "--by", "Jo Smith")
    assert code == 0 and "counted by Jo Smith" in err

    paper = tmp_path / "play.csv"
    paper.write_text(f"family_id,children\n{sarah.family_id},all\n{tom.family_id},Ava\n")
    args = (
        "import",
        "register",
        str(paper),
        "--org",
        "lichfield",
        "--site",
        "library",
        "--date",
        "2016-04-04",
        "--session-name",
        "Stay and Play",
        "--start",
        "09:30",
        "--end",
        "11:30",
    )
    code, _out, err = run(capsys, db_url, *args)
    assert code == 0
    assert "play.csv: imported 1 families (1 children)" in err
    assert "play.csv: line 2: family" in err and "already recorded" in err
    assert "no risk list on the server" in err

    paper.write_text("family_id,children\nF-NOPE000000,all\n")
    code, _out, err = run(capsys, db_url, *args)
    assert code == 1 and "play.csv: line 2: no family F-NOPE000000" in err
    assert "nothing was imported" in err
