"""Invoices that stay issued: what arrives later goes on the next open one."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from central.audit import entries
from central.cli import main
from central.reports.invoice import CSV_COLUMNS, build_invoice
from central.reports.invoice_totals import invoice_totals
from central.reports.issued import InvoiceError, invoice_months, issue_invoice, void_invoice
from central.reports.period import Period
from central.reports.rates import set_rate
from central.reports.reviews import review_attendance
from tests.reports.helpers import Kiosk, at

APRIL, MAY, JUNE = (Period.month(m) for m in ("2016-04", "2016-05", "2016-06"))
STATUS = CSV_COLUMNS.index("status")
AMOUNT = CSV_COLUMNS.index("amount")


def rows(sheet) -> list[list[str]]:
    return list(csv.reader(io.StringIO(sheet.csv_text())))


@pytest.fixture
def april(db, kiosk: Kiosk) -> Kiosk:
    """Sarah (two children, qualifies) came on 4 and 11 April; £3.00 a child-session."""
    kiosk.register("Sarah", "WS7 1AA", ["Mia", "Leo"], card="04A00001")
    kiosk.register("Tom", "WS13 6YY", ["Ava"], card="04A00002")  # does not qualify
    for day in ("2016-04-04", "2016-04-11"):
        kiosk.tap("04A00001", at(day))
        kiosk.tap("04A00002", at(day))
    kiosk.sync()
    set_rate(db, "lichfield", "3.00", date(2016, 4, 1))
    return kiosk


def test_an_issued_month_stays_as_issued_and_a_late_attendance_goes_on_the_next(db, april):
    issued = issue_invoice(db, "lichfield", "2016-04", by="fran")
    assert issued.issue.number == "lichfield-2016-04-1"
    assert issued.count == 4 and issued.total == Decimal("12.00")
    fingerprint, csv_text = issued.fingerprint, issued.csv_text()
    assert issued.issue.fingerprint == fingerprint

    # A kiosk that was offline sends 18 April (and a May session) weeks later.
    april.tap("04A00001", at("2016-04-18"))
    april.tap("04A00001", at("2016-05-02"))
    april.sync()

    again = build_invoice(db, "lichfield", APRIL)
    assert again.state == "issued" and again.csv_text() == csv_text
    assert again.fingerprint == fingerprint and again.total == Decimal("12.00")

    may = build_invoice(db, "lichfield", MAY)
    assert may.state == "draft"
    late = may.late
    assert [(ln.session_date, ln.late_of, ln.status) for ln in late] == [
        (date(2016, 4, 18), "lichfield-2016-04-1", "counted")
    ] * 2
    assert may.count == 4 and may.total == Decimal("12.00")  # 2 May + 2 late April
    late_rows = [r for r in rows(may)[1:-1] if r[0] == "2016-04-18"]
    assert len(late_rows) == 2
    assert all(
        r[STATUS].startswith("late: counted") and "lichfield-2016-04-1" in r[STATUS]
        for r in late_rows
    )
    assert any("late line(s) for April 2016" in n for n in may.notes())

    # Issued, May holds them; June does not carry them again, and April is still the same.
    may_issued = issue_invoice(db, "lichfield", "2016-05", by="fran")
    assert may_issued.total == Decimal("12.00") and len(may_issued.late) == 2
    assert build_invoice(db, "lichfield", JUNE).lines == ()
    assert build_invoice(db, "lichfield", APRIL).fingerprint == fingerprint


def test_an_exclusion_after_issue_is_a_credit_on_the_next_open_invoice(db, april):
    april.clock_synced = False
    april.tap("04A00002", at("2016-04-25"))  # Tom does not qualify: nothing to review
    april.tap("04A00001", at("2016-04-25"))
    april.sync()
    unsynced = [ln for ln in build_invoice(db, "lichfield", APRIL).lines if ln.status == "review"]
    review_attendance(db, unsynced[0].attendance_id, "counted", "Jo Smith")
    issued = issue_invoice(db, "lichfield", "2016-04", by="fran")
    assert issued.total == Decimal("18.00")

    review_attendance(db, unsynced[0].attendance_id, "excluded", "Jo Smith", "a test tap")

    assert build_invoice(db, "lichfield", APRIL).fingerprint == issued.fingerprint
    may = build_invoice(db, "lichfield", MAY)
    assert [(ln.status, ln.amount, ln.credit_of) for ln in may.credits] == [
        ("credit", Decimal("-3.00"), "lichfield-2016-04-1")
    ] * 2
    assert may.total == Decimal("-6.00")
    credit_rows = [r for r in rows(may)[1:-1] if r[STATUS].startswith("credit:")]
    assert [r[AMOUNT] for r in credit_rows] == ["-3.00", "-3.00"]
    assert rows(may)[-1][AMOUNT] == "-6.00"
    # Issued, the credits are not taken again; counted again, it is billed again (late).
    issue_invoice(db, "lichfield", "2016-05", by="fran")
    assert build_invoice(db, "lichfield", JUNE).lines == ()
    review_attendance(db, unsynced[0].attendance_id, "counted", "Jo Smith")
    june = build_invoice(db, "lichfield", JUNE)
    assert june.total == Decimal("6.00") and len(june.late) == 2


def test_a_child_taken_off_an_attendance_after_issue_is_credited(db, april):
    issue_invoice(db, "lichfield", "2016-04", by="fran")
    sarah = next(f for f in april.store.families() if f.greeting_name == "Sarah")
    april.desk.set_children(sarah.family_id, ["Mia"], at("2016-04-11", "10:30"))
    april.sync()
    may = build_invoice(db, "lichfield", MAY)
    assert len(may.credits) == 1 and may.total == Decimal("-3.00")
    assert may.credits[0].session_date == date(2016, 4, 11)


def test_void_needs_a_reason_is_audited_and_the_month_is_issued_again_new_number(
    capsys, db_url, db, april
):
    assert (
        main(
            [
                "--db",
                db_url,
                "--as",
                "fran",
                "invoice",
                "issue",
                "--org",
                "lichfield",
                "--month",
                "2016-04",
            ]
        )
        == 0
    )
    out, err = capsys.readouterr()
    assert out == "lichfield-2016-04-1\n"
    assert "invoice lichfield-2016-04-1 issued: lichfield, April 2016: 4 qualifying" in err
    with pytest.raises(InvoiceError, match="say why"):
        void_invoice(db, "lichfield-2016-04-1", "  ", by="fran")
    with pytest.raises(SystemExit):  # --reason is required
        main(["--db", db_url, "invoice", "void", "lichfield-2016-04-1"])
    assert "--reason" in capsys.readouterr().err
    assert (
        main(
            [
                "--db",
                db_url,
                "--as",
                "fran",
                "invoice",
                "void",
                "lichfield-2016-04-1",
                "--reason",
                "sent with the wrong rate",
            ]
        )
        == 0
    )
    capsys.readouterr()
    draft = build_invoice(db, "lichfield", APRIL)
    assert draft.state == "draft" and draft.total == Decimal("12.00")
    assert any("lichfield-2016-04-1 for this month was voided" in n for n in draft.notes())
    again = issue_invoice(db, "lichfield", "2016-04", by="fran")
    assert again.issue.number == "lichfield-2016-04-2"
    logged = [
        (e.actor, e.action, e.subject, e.detail.get("number") or e.detail.get("reason"))
        for e in entries(db, action="invoice")
    ]
    assert logged == [
        ("fran", "invoice.issue", "lichfield", "lichfield-2016-04-1"),
        ("fran", "invoice.void", "lichfield-2016-04-1", "sent with the wrong rate"),
    ]


def test_refusals_say_what_to_do(db, april):
    with pytest.raises(InvoiceError, match="not over yet"):
        issue_invoice(db, "lichfield", "2016-04", by="fran", today=date(2016, 4, 30))
    issue_invoice(db, "lichfield", "2016-04", by="fran")
    with pytest.raises(InvoiceError, match="already issued as lichfield-2016-04-1.*void it"):
        issue_invoice(db, "lichfield", "2016-04", by="fran")
    void_invoice(db, "lichfield-2016-04-1", "wrong", by="fran")
    with pytest.raises(InvoiceError, match="already voided"):
        void_invoice(db, "lichfield-2016-04-1", "wrong", by="fran")


def test_list_and_totals_show_draft_and_issued_months(capsys, db_url, db, april):
    issue_invoice(db, "lichfield", "2016-04", by="fran")
    april.tap("04A00001", at("2016-04-18"))  # late: on May's draft
    april.sync()
    months = invoice_months(db, "lichfield", until="2016-06")
    assert [(m.month, m.state, m.number, m.count, m.total) for m in months] == [
        ("2016-04", "issued", "lichfield-2016-04-1", 4, Decimal("12.00")),
        ("2016-05", "draft", None, 2, Decimal("6.00")),
    ]
    totals = {t.org_id: t for t in invoice_totals(db, APRIL)}
    assert totals["lichfield"].state == "issued" and totals["lichfield"].total == Decimal("12.00")
    may_total = {t.org_id: t for t in invoice_totals(db, MAY)}["lichfield"]
    assert (may_total.state, may_total.count, may_total.total) == ("draft", 2, Decimal("6.00"))
    assert main(["--db", db_url, "invoice", "list", "--org", "lichfield"]) == 0
    out, _err = capsys.readouterr()
    assert out.splitlines()[0].split("\t")[:5] == [
        "lichfield",
        "2016-04",
        "issued",
        "lichfield-2016-04-1",
        "4",
    ]
    assert "lichfield\t2016-05\tdraft\t-\t2\t6.00\t-" in out


def test_a_credit_reads_as_minus_pounds():
    from central.reports.money import format_money

    assert format_money(Decimal("-3")) == "-£3.00" and format_money(Decimal("1092")) == "£1,092.00"
