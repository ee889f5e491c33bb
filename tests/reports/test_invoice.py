"""The invoice backing sheet: exact money, rates in force by date, decisions as recorded."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from central.reports.invoice import CSV_COLUMNS, build_invoice
from central.reports.invoice_totals import invoice_totals
from central.reports.pdf import invoice_pdf
from central.reports.period import Period
from central.reports.rates import set_rate
from central.reports.reviews import pending_reviews, review_attendance
from tests.reports.helpers import Kiosk, at

APRIL = Period.month("2016-04")


def csv_rows(sheet) -> list[list[str]]:
    return list(csv.reader(io.StringIO(sheet.csv_text())))


def test_a_month_with_no_attendances_gives_an_empty_sheet_with_a_zero_total(db, kiosk):
    set_rate(db, "lichfield", "3.00", date(2016, 4, 1))
    sheet = build_invoice(db, "lichfield", APRIL)
    assert sheet.count == 0 and sheet.total == Decimal("0.00")
    rows = csv_rows(sheet)
    assert rows[0] == list(CSV_COLUMNS)
    assert rows[-1][0] == "TOTAL" and rows[-1][CSV_COLUMNS.index("amount")] == "0.00"
    assert len(rows) == 2
    assert "No qualifying attendances were recorded in this period." in sheet.notes()
    assert invoice_pdf(sheet).startswith(b"%PDF")


def test_lines_are_qualifying_children_priced_at_the_rate_with_an_exact_total(db, kiosk):
    kiosk.register("Sarah", "WS7 1AA", ["Mia", "Leo"], card="04A00001")  # qualifies: postcode
    kiosk.register("Tom", "WS13 6YY", ["Ava"], card="04A00002")  # does not
    kiosk.register("Kim", "WS11 4BQ", ["Zoe"], card="04A00003")  # sector
    for day in ("2016-04-04", "2016-04-11", "2016-04-18"):
        for card in ("04A00001", "04A00002", "04A00003"):
            assert kiosk.tap(card, at(day)) == "welcome"
    kiosk.sync()
    set_rate(db, "lichfield", "£3.10", date(2016, 1, 1))

    sheet = build_invoice(db, "lichfield", APRIL)

    assert sheet.count == 9  # (2 + 1) children x 3 sessions
    assert sheet.total == Decimal("27.90") and isinstance(sheet.total, Decimal)
    assert {line.reasons for line in sheet.lines} == {("postcode",), ("sector",)}
    assert sheet.families == 2 and sheet.children == 3 and sheet.sessions == 3
    rows = csv_rows(sheet)
    assert len(rows) == 1 + 9 + 1
    assert rows[-1][1] == "9 qualifying child-attendances" and rows[-1][-2] == "27.90"
    assert {r[CSV_COLUMNS.index("rate")] for r in rows[1:-1]} == {"3.10"}
    assert [r[0] for r in rows[1:-1]] == sorted(r[0] for r in rows[1:-1])


def test_a_rate_change_mid_month_prices_each_line_at_the_rate_in_force_that_day(db, kiosk):
    kiosk.register("Sarah", "WS7 1AA", ["Mia"], card="04A00001")
    for day in ("2016-04-04", "2016-04-11", "2016-04-18", "2016-04-25"):
        kiosk.tap("04A00001", at(day))
    kiosk.sync()
    set_rate(db, "lichfield", "3.00", date(2016, 4, 1))
    set_rate(db, "lichfield", "3.35", date(2016, 4, 15))

    sheet = build_invoice(db, "lichfield", APRIL)

    assert [line.rate for line in sheet.lines] == [Decimal("3.00")] * 2 + [Decimal("3.35")] * 2
    assert sheet.total == Decimal("12.70")
    assert [(s.rate.amount, s.count, s.subtotal) for s in sheet.subtotals] == [
        (Decimal("3.00"), 2, Decimal("6.00")),
        (Decimal("3.35"), 2, Decimal("6.70")),
    ]
    assert [r.amount for r in sheet.rates_in_force] == [Decimal("3.00"), Decimal("3.35")]


def test_a_family_that_moved_out_of_a_risk_postcode_keeps_its_earlier_lines(db, kiosk):
    fam = kiosk.register("Sarah", "WS7 1AA", ["Mia"], card="04A00001")
    set_rate(db, "lichfield", "3.00", date(2016, 4, 1))
    kiosk.tap("04A00001", at("2016-04-04"))
    kiosk.tap("04A00001", at("2016-04-11"))
    kiosk.sync()
    before = build_invoice(db, "lichfield", APRIL)

    moved = type(fam)(**{**fam.__dict__, "postcode": "WS13 6YY"})
    kiosk.desk.update_family(moved, at("2016-04-12", "10:00"))
    kiosk.tap("04A00001", at("2016-04-18"))
    kiosk.tap("04A00001", at("2016-04-25"))
    kiosk.risk("WS11 4")  # and the council sends a new list
    kiosk.tap("04A00001", at("2016-05-02"))
    kiosk.sync()

    after = build_invoice(db, "lichfield", APRIL)
    assert [line.session_date for line in after.lines] == [date(2016, 4, 4), date(2016, 4, 11)]
    assert after.total == Decimal("6.00")
    # Reproducible: the same lines, the same CSV, the same fingerprint as before the move.
    assert after.csv_text() == before.csv_text() and after.fingerprint == before.fingerprint
    assert build_invoice(db, "lichfield", Period.month("2016-05")).count == 0


def test_a_re_sent_batch_is_counted_once(db, kiosk):
    kiosk.register("Sarah", "WS7 1AA", ["Mia", "Leo"], card="04A00001")
    kiosk.tap("04A00001", at("2016-04-04"))
    batch = list(kiosk.store.events())
    assert set(kiosk.sync()) == {"accepted"}
    assert set(kiosk.resend(batch)) == {"duplicate"}  # the acknowledgement was lost
    set_rate(db, "lichfield", "3.00", date(2016, 4, 1))

    sheet = build_invoice(db, "lichfield", APRIL)
    assert sheet.count == 2 and sheet.total == Decimal("6.00")


def test_the_same_child_recorded_at_two_kiosks_is_counted_once_and_listed(db, kiosk):
    second = Kiosk(db, device="kiosk-2").timetable(
        ("play", "Stay and Play", "09:30", "11:30", "mon")
    )
    second.risk("WS7 1AA")
    fam = kiosk.register("Sarah", "WS7 1AA", ["Mia"], card="04A00001")
    kiosk.tap("04A00001", at("2016-04-04", "09:35"))
    kiosk.sync()
    second.store.record([e for e in kiosk.store.events() if e.type == "member.registered"])
    second.sign_in(fam, at("2016-04-04", "09:50"))
    second.sync()
    set_rate(db, "lichfield", "3.00", date(2016, 4, 1))

    sheet = build_invoice(db, "lichfield", APRIL)

    assert sheet.count == 1 and sheet.total == Decimal("3.00")
    [dup] = sheet.with_status("duplicate")
    assert dup.method == "manual" and dup.duplicate_of == sheet.counted[0].attendance_id
    assert any("counted once" in note for note in sheet.notes())
    assert csv_rows(sheet)[-1][CSV_COLUMNS.index("status")] == "1 line(s) above not in the total"


def test_unsynchronised_clock_lines_wait_for_review_outside_the_total(db, kiosk):
    kiosk.register("Sarah", "WS7 1AA", ["Mia"], card="04A00001")
    kiosk.tap("04A00001", at("2016-04-04"))
    kiosk.clock_synced = False
    kiosk.tap("04A00001", at("2016-04-11"))
    kiosk.tap("04A00001", at("2016-04-18"))
    kiosk.sync()
    set_rate(db, "lichfield", "3.00", date(2016, 4, 1))

    sheet = build_invoice(db, "lichfield", APRIL)
    assert sheet.count == 1 and sheet.total == Decimal("3.00")
    assert [line.session_date.day for line in sheet.with_status("review")] == [11, 18]
    assert any("NOT in the total until someone reviews them" in n for n in sheet.notes())
    rows = csv_rows(sheet)
    assert [r[CSV_COLUMNS.index("status")] for r in rows[1:-1]] == [
        "counted",
        "for review: kiosk clock not synchronised",
        "for review: kiosk clock not synchronised",
    ]
    assert rows[-1][CSV_COLUMNS.index("amount")] == "3.00"

    waiting = pending_reviews(db, "lichfield", APRIL)
    assert len(waiting) == 2
    review_attendance(db, waiting[0], "counted", "Jo Smith", "register checked")
    review_attendance(db, waiting[1], "excluded", "Jo Smith")
    sheet = build_invoice(db, "lichfield", APRIL)
    assert sheet.count == 2 and sheet.total == Decimal("6.00")
    assert len(sheet.with_status("excluded")) == 1 and not sheet.with_status("review")
    assert pending_reviews(db, "lichfield", APRIL) == []


def test_a_review_is_only_for_unsynchronised_attendances(db, kiosk):
    from central.db import CentralError

    kiosk.register("Sarah", "WS7 1AA", ["Mia"], card="04A00001")
    kiosk.tap("04A00001", at("2016-04-04"))
    kiosk.sync()
    [line] = build_invoice(db, "lichfield", APRIL).lines
    with pytest.raises(CentralError, match="needs no review"):
        review_attendance(db, line.attendance_id, "counted", "Jo")
    with pytest.raises(CentralError, match="no attendance"):
        review_attendance(db, "nope", "counted", "Jo")


def test_lines_with_no_rate_in_force_are_counted_but_unpriced_and_the_sheet_says_so(db, kiosk):
    kiosk.register("Sarah", "WS7 1AA", ["Mia"], card="04A00001")
    kiosk.tap("04A00001", at("2016-04-04"))
    kiosk.tap("04A00001", at("2016-04-18"))
    kiosk.sync()
    set_rate(db, "lichfield", "3.00", date(2016, 4, 15))

    sheet = build_invoice(db, "lichfield", APRIL)
    assert sheet.count == 2 and sheet.total == Decimal("3.00")
    assert len(sheet.unpriced) == 1
    assert any("no rate in force" in n for n in sheet.notes())


def test_every_organisations_totals_match_their_sheets(db, kiosk):
    other = Kiosk(db, org="tamworth", site="hub", device="tam-1").timetable(
        ("play", "Stay and Play", "09:30", "11:30", "mon")
    )
    other.risk("WS7 1AA")
    second = Kiosk(db, device="kiosk-2").timetable(
        ("play", "Stay and Play", "09:30", "11:30", "mon")
    )
    second.risk("WS7 1AA")
    fam = kiosk.register("Sarah", "WS7 1AA", ["Mia", "Leo"], card="04A00001")
    other.register("Amira", "WS7 1AA", ["Isla"], card="04B00001")
    for day in ("2016-04-04", "2016-04-11", "2016-04-25"):
        kiosk.tap("04A00001", at(day))
        other.tap("04B00001", at(day))
    kiosk.clock_synced = False
    kiosk.tap("04A00001", at("2016-04-18"))
    kiosk.sync()
    other.sync()
    second.store.record([e for e in kiosk.store.events() if e.type == "member.registered"])
    second.sign_in(fam, at("2016-04-04", "10:30"), ["Mia"])  # again, at a second kiosk
    second.sync()
    set_rate(db, "lichfield", "3.00", date(2016, 4, 1))
    set_rate(db, "lichfield", "4.00", date(2016, 4, 20))
    set_rate(db, "tamworth", "2.50", date(2016, 1, 1))

    totals = {t.org_id: t for t in invoice_totals(db, APRIL)}
    for org in ("lichfield", "tamworth"):
        sheet = build_invoice(db, org, APRIL)
        t = totals[org]
        assert (t.count, t.total, t.review, t.duplicate) == (
            sheet.count,
            sheet.total,
            len(sheet.with_status("review")),
            len(sheet.with_status("duplicate")),
        )
    assert totals["lichfield"].duplicate == 1 and totals["lichfield"].review == 2
    assert totals["lichfield"].total == Decimal("20.00")  # 2 x 3.00 x 2 sessions + 2 x 4.00


def test_the_pdf_has_a_summary_page_and_the_lines(db, kiosk, tmp_path):
    import shutil
    import subprocess

    kiosk.register("Sarah", "WS7 1AA", ["Mia"], card="04A00001")
    kiosk.clock_synced = False
    kiosk.tap("04A00001", at("2016-04-04"))
    kiosk.clock_synced = True
    kiosk.tap("04A00001", at("2016-04-11"))
    kiosk.sync()
    set_rate(db, "lichfield", "3.00", date(2016, 4, 1))
    pdf = invoice_pdf(build_invoice(db, "lichfield", APRIL))
    assert pdf.startswith(b"%PDF") and b"/Title" in pdf
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    (tmp_path / "sheet.pdf").write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "sheet.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    first, *rest = text.split("\f")
    assert "Invoice backing sheet" in first and "£3.00" in first
    assert "NOT in the total until someone reviews them" in first
    assert "Page 1 of 3" in first
    assert "For review" in "".join(rest) and "2016-04-11" in "".join(rest)
