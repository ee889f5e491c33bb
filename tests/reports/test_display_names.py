"""Names people use: organisations and sites have display names, shown in
every report for people; the ids stay what kiosks, URLs and CSV columns use. Reason codes are
words for people (PDFs and pages) and stay codes in the CSVs machines read."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect

from central import db as central_db
from central.app import create_app
from central.cli import main
from central.db import CentralDB, CentralError, NotFound
from central.reports.charts import reach_charts
from central.reports.invoice import build_invoice
from central.reports.issued import issue_invoice
from central.reports.names import read_names
from central.reports.pdf import invoice_pdf, reach_pdf
from central.reports.period import Period
from central.reports.rates import set_rate
from central.reports.reach import build_reach, with_names
from central.reports.registers import registers, write_registers_csv
from tests.access.helpers import basic
from tests.reports.helpers import MON_PLAY, Kiosk, at
from tests.schema_history import rewind, upgrade_again

APRIL = Period.month("2016-04")


def pdf_text(data: bytes) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    out = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True)
    return " ".join(out.stdout.decode("utf-8").split())


def cli(capsys, db_url: str, *args: str) -> tuple[int, str, str]:
    code = main(["--db", db_url, *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def spark(capsys, db_url, db) -> Kiosk:
    assert cli(capsys, db_url, "org", "add", "spark", "--name", "Spark CIC")[0] == 0
    code, _o, err = cli(
        capsys, db_url, "site", "add", "spark", "chase-terrace", "--name", "Chase  Terrace "
    )
    assert code == 0 and "site chase-terrace added to spark" in err  # the output line as it was
    kiosk = Kiosk(db, org="spark", site="chase-terrace").timetable(MON_PLAY)
    kiosk.risk("WS7 1AA")
    kiosk.register(
        "Sarah", "WS7 1AA", ["Mia"], card="04A00001", criteria=("young_parent",), consent=True
    )
    kiosk.tap("04A00001", at("2016-04-04"))
    kiosk.sync()
    set_rate(db, "spark", "3.00", date(2016, 4, 1))
    return kiosk


def test_names_are_set_listed_and_changed_and_the_ids_stay(capsys, db_url, db, spark):
    assert cli(capsys, db_url, "org", "list")[1] == "spark\tSpark CIC\n"
    assert (
        cli(capsys, db_url, "site", "list", "spark")[1] == "spark\tchase-terrace\tChase Terrace\n"
    )
    assert cli(capsys, db_url, "org", "set-name", "spark", "Spark Community CIC")[0] == 0
    assert cli(capsys, db_url, "site", "set-name", "spark", "chase-terrace", "Chase Ter.")[0] == 0
    names = read_names(db, "spark")
    assert names.org("spark") == "Spark Community CIC"
    assert names.site("spark", "chase-terrace") == "Chase Ter."
    assert [d.site_id for d in db.devices()] == ["chase-terrace"]
    code, _o, err = cli(capsys, db_url, "site", "set-name", "spark", "nowhere", "X")
    assert code == 1 and "organisation 'spark' has no site 'nowhere'" in err
    with pytest.raises(CentralError, match="the organisation name is empty"):
        db.set_org_name("spark", "   ")
    with pytest.raises(CentralError, match="control character"):
        db.add_org("other", "Bad\x07Name")
    with pytest.raises(NotFound):
        db.set_org_name("nobody", "Nobody")


def test_every_report_shows_the_names_and_the_reasons_in_words(db, spark):
    sheet = build_invoice(db, "spark", APRIL)
    text_ = pdf_text(invoice_pdf(sheet))
    assert "Spark CIC" in text_ and "Chase Terrace" in text_
    assert "risk-area postcode; young parent" in text_ and "young_parent" not in text_
    rows = list(csv.DictReader(io.StringIO(sheet.csv_text())))
    assert rows[0]["site"] == "chase-terrace" and rows[0]["reasons"] == "postcode;young_parent"

    issued = issue_invoice(db, "spark", "2016-04", by="fran")
    assert "Invoice spark-2016-04-1" in pdf_text(invoice_pdf(issued))
    assert "Spark CIC" in pdf_text(invoice_pdf(issued))

    reach = with_names(build_reach(db, "spark", APRIL), read_names(db, "spark"))
    assert reach.scope == "Spark CIC" and [c.label for c in reach.by_site] == ["Chase Terrace"]
    reach_text = pdf_text(reach_pdf(reach, reach_charts(reach)))
    assert "Reach and engagement · Spark CIC" in reach_text and "Chase Terrace" in reach_text

    regs = registers(db, "spark", date(2016, 4, 4))
    assert regs[0].title.startswith("Stay and Play, Chase Terrace, Monday 4 April 2016")
    buf = io.StringIO()
    write_registers_csv(regs, buf)
    [row] = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert row["site"] == "chase-terrace" and row["site_name"] == "Chase Terrace"


def test_the_dashboard_shows_the_names(db, spark):
    passwords = {"carol": db.add_user("carol", "commissioner")}
    with TestClient(create_app(db), base_url="http://testserver") as client:
        who = basic("carol", passwords["carol"])
        overview = client.get("/dashboard?month=2016-04", headers=who).text
        assert ">Spark CIC</a>" in overview and 'href="/dashboard/org/spark?' in overview
        page = client.get("/dashboard/org/spark?month=2016-04", headers=who).text
        assert "<h1>Spark CIC" in page and "Chase Terrace" in page
        register = client.get("/dashboard/org/spark/register?date=2016-04-04", headers=who).text
        assert "Chase Terrace" in register and "Spark CIC" in register


def test_migration_11_gives_an_older_database_names_and_invoices(db_url, db, spark):
    rewind(db, 10)  # back to what a version 10 server made
    with db.engine.connect() as conn:
        assert "invoices" not in inspect(conn).get_table_names()
        assert "name" not in {c["name"] for c in inspect(conn).get_columns("orgs")}
    again = CentralDB.open(db_url)  # migrates
    try:
        assert again.schema_version() == central_db.LATEST_VERSION
        with again.engine.connect() as conn:
            assert {"invoices", "invoice_lines"} <= set(inspect(conn).get_table_names())
        assert upgrade_again(again) == ("0012", "0012")  # nothing left to do
        assert again.org_list() == [("spark", None)]  # the old names were dropped above
        again.set_org_name("spark", "Spark CIC")
        assert issue_invoice(again, "spark", "2016-04", by="fran").total == 3
    finally:
        again.close()
