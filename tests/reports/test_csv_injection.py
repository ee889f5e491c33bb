"""Names and session names that a spreadsheet would run as formulas come out
of every central CSV (register, invoice backing sheet, reach; command line and web download) as
text behind a single quote, and our own numbers stay numbers."""

from __future__ import annotations

import base64
import csv
import io
import unicodedata
from datetime import date

import pytest
from fastapi.testclient import TestClient

from central.app import create_app
from central.cli import main
from central.db import CentralDB
from central.reports.invoice import CSV_COLUMNS as INVOICE_COLUMNS
from central.reports.rates import set_rate
from central.reports.registers import CSV_COLUMNS as REGISTER_COLUMNS
from tests.reports.helpers import Kiosk, at

#: What an attacker types as a family, child or session name.
PAYLOADS = (
    '=HYPERLINK("http://evil.test","Hi")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3",
    "\uff1d1+1",  # a full-width equals sign
)
#: Harmless names that begin (or not) with a sign: kept, behind a quote when they must be.
SESSIONS = (*PAYLOADS, "+1 group")
FAMILIES = (*PAYLOADS, "Anne-Marie")
DAY = "2016-04-04"  # a Monday


def quoted(text: str) -> str:
    return "'" + text


def starts_like_a_formula(cell: str) -> bool:
    """OWASP's rule, written out independently of the code under test."""
    first = cell.lstrip()[:1] if cell[:1] not in ("\t", "\r") else cell[:1]
    return bool(first) and unicodedata.normalize("NFKC", first) in ("=", "+", "-", "@", "\t", "\r")


def rows_of(text: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text)))
    bad = [cell for row in rows for cell in row if starts_like_a_formula(cell)]
    assert not bad, f"{len(bad)} cells a spreadsheet would run, e.g. {bad[:3]}"
    return rows


def column(rows: list[list[str]], columns: tuple[str, ...], name: str) -> set[str]:
    assert tuple(rows[0]) == columns
    i = columns.index(name)
    return {row[i] for row in rows[1:] if row[0] != "TOTAL"}


@pytest.fixture
def hostile(db: CentralDB) -> dict[str, str]:
    """lichfield's library, where every session and family is named by an attacker, and a
    staff user and the commissioner (name to password)."""
    k = Kiosk(db)
    k.timetable(
        *(
            (f"s{i}", name, f"{9 + i:02d}:00", f"{9 + i:02d}:30", "mon")
            for i, name in enumerate(SESSIONS)
        )
    )
    k.risk("WS7 1AA")
    families = [
        k.register(name, "WS7 1AA", [name, "-"] if name != "Anne-Marie" else [name])
        for name in FAMILIES
    ]
    for i in range(len(SESSIONS)):
        for fam in families:
            k.desk.sign_in(fam.family_id, None, "@volunteer", at(DAY, f"{9 + i:02d}:05"))
    assert set(k.sync()) == {"accepted"}
    set_rate(db, "lichfield", "3.00", date(2016, 4, 1))
    return {
        "alice": db.add_user("alice", "staff", "lichfield"),
        "fred": db.add_user("fred", "finance", "lichfield"),
        "carol": db.add_user("carol", "commissioner"),
    }


def check_register(text: str) -> None:
    rows = rows_of(text)
    assert column(rows, REGISTER_COLUMNS, "session") == {quoted(s) for s in SESSIONS}
    assert column(rows, REGISTER_COLUMNS, "family") == {quoted(p) for p in PAYLOADS} | {
        "Anne-Marie"
    }
    children = {quoted("; ".join(sorted([p, "-"], key=str.casefold))) for p in PAYLOADS} | {
        "Anne-Marie"
    }
    assert column(rows, REGISTER_COLUMNS, "children") == children
    assert column(rows, REGISTER_COLUMNS, "volunteer") == {"'@volunteer"}
    assert column(rows, REGISTER_COLUMNS, "adults") == {"1"}


def check_invoice(text: str) -> None:
    rows = rows_of(text)
    assert column(rows, INVOICE_COLUMNS, "session") == {quoted(s) for s in SESSIONS}
    assert column(rows, INVOICE_COLUMNS, "amount") == {"3.00"}
    children = len(PAYLOADS) * 2 + 1
    total = rows[-1]
    assert total[0] == "TOTAL"
    assert total[INVOICE_COLUMNS.index("amount")] == f"{3 * children * len(SESSIONS)}.00"


def check_reach(text: str, by_session: bool = True) -> None:
    rows = rows_of(text)
    sessions = {row[1] for row in rows if row[0] == "session"}
    assert sessions == ({quoted(f"{s} (library)") for s in SESSIONS} if by_session else set())
    [total] = [row for row in rows if row[0] == "total"]
    assert total[2] == str(len(FAMILIES))


def run(capsys, db_url: str, *args: str) -> str:
    code = main(["--db", db_url, *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def test_the_register_csv_from_the_command_line_keeps_formulas_as_text(capsys, db_url, hostile):
    check_register(run(capsys, db_url, "report", "register", "--org", "lichfield", "--date", DAY))


def test_the_invoice_csv_for_the_council_keeps_formulas_as_text(capsys, db_url, hostile):
    out = run(capsys, db_url, "report", "invoice", "--org", "lichfield", "--month", "2016-04")
    check_invoice(out)


def test_the_reach_csv_keeps_formulas_as_text(capsys, db_url, hostile):
    out = run(
        capsys,
        db_url,
        "report",
        "reach",
        "--org",
        "lichfield",
        "--month",
        "2016-04",
        "--format",
        "csv",
    )
    check_reach(out)


def basic(name: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{name}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_every_csv_download_keeps_formulas_as_text(db, hostile):
    staff, commissioner = basic("alice", hostile["alice"]), basic("carol", hostile["carol"])
    finance = basic("fred", hostile["fred"])  # the invoice's lines are not for staff
    with TestClient(create_app(db), base_url="http://testserver") as client:

        def get(path: str, auth: dict[str, str]) -> str:
            r = client.get(path, headers=auth)
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
            return r.text

        check_register(get(f"/dashboard/org/lichfield/register.csv?date={DAY}", staff))
        check_invoice(get("/dashboard/org/lichfield/invoice.csv?month=2016-04", finance))
        check_invoice(get("/dashboard/org/lichfield/invoice.csv?month=2016-04", commissioner))
        check_reach(get("/dashboard/org/lichfield/reach.csv?month=2016-04", staff))
        check_reach(get("/dashboard/all/reach.csv?month=2016-04", commissioner), by_session=False)
