"""``kiosk-central retention``: per-organisation policies, applied with a dry run first."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from central.cli import main
from central.db import (
    attendance_aggregates,
    attendance_children,
    attendance_reviews,
    attendances,
    events,
    retention_runs,
)
from central.privacy.retention import apply_retention, cutoff_for, set_policy
from central.reports.invoice import build_invoice
from central.reports.period import Period
from tests.privacy.helpers import SARAH_CARD, TOM_CARD
from tests.reports.helpers import at

#: Six years and a bit after April 2016: April is older than six years, May is not.
TODAY = "2022-05-01"


def run(capsys, db_url: str, *args: str) -> tuple[int, str, str]:
    status = main(["--db", db_url, *args])
    out, err = capsys.readouterr()
    return status, out, err


def counts(db) -> tuple[int, int, int, int]:
    return (
        db.count(attendances),
        db.count(attendance_children),
        db.count(events),
        db.count(attendance_reviews),
    )


def add_may(kiosk) -> None:
    kiosk.tap(SARAH_CARD, at("2016-05-02"))
    kiosk.tap(TOM_CARD, at("2016-05-02", "09:45"))
    kiosk.sync()


def test_no_policy_keeps_everything(capsys, db_url, db, families):
    before = counts(db)
    status, out, _ = run(capsys, db_url, "retention", "apply", "--today", TODAY)
    assert status == 0 and "no organisation has a retention policy" in out
    assert counts(db) == before
    status, out, _ = run(capsys, db_url, "retention", "show")
    assert out.startswith("lichfield\tkeep\t")


def test_a_dry_run_says_what_would_go_and_changes_nothing(capsys, db_url, db, kiosk, families):
    add_may(kiosk)
    assert (
        run(
            capsys, db_url, "retention", "set", "lichfield", "--years", "6", "--policy", "aggregate"
        )[0]
        == 0
    )
    before = counts(db)

    status, out, err = run(capsys, db_url, "retention", "apply", "--dry-run", "--today", TODAY)

    assert status == 0 and "nothing was changed" in err
    assert "lichfield: aggregate after 6 year(s), before 2016-05-01: would remove 10 " in out
    assert "(15 child-attendance(s)) and 10 event(s)" in out
    assert counts(db) == before
    assert db.count(attendance_aggregates) == 0 and db.count(retention_runs) == 0


def test_aggregate_keeps_counts_per_site_and_month_then_deletes(
    capsys, db_url, db, kiosk, families
):
    add_may(kiosk)
    april = build_invoice(db, "lichfield", Period.month("2016-04"))
    set_policy(db, "lichfield", years=6, policy="aggregate", set_by="alice")

    status, out, _ = run(capsys, db_url, "retention", "apply", "--today", TODAY)

    assert status == 0 and "removed 10 attendance(s)" in out
    assert "counts kept for 1 site-month(s)" in out
    with db.engine.connect() as conn:
        kept = conn.execute(select(attendance_aggregates)).one()
        left = conn.execute(select(attendances.c.session_date)).scalars().all()
        run_row = conn.execute(select(retention_runs)).one()
    assert (kept.org_id, kept.site_id, kept.month) == ("lichfield", "library", "2016-04")
    assert (kept.attendances, kept.child_attendances) == (10, 15)
    assert kept.qualifying_child_attendances == len(april.lines) == 15
    assert left == [date(2016, 5, 2)] * 2  # May is younger than six years: kept
    assert (run_row.policy, run_row.attendances, run_row.events) == ("aggregate", 10, 10)
    assert db.count(attendance_reviews) == 0  # the April review went with its attendance
    assert db.count(events, type="attendance.recorded") == 2
    assert db.count(events, type="member.registered") == 2  # families are not touched here
    assert build_invoice(db, "lichfield", Period.month("2016-04")).lines == ()

    from central.audit import entries

    [logged] = [e for e in entries(db) if e.action == "retention.apply"]
    assert logged.subject == "lichfield" and logged.detail["runs"]["lichfield"]["events"] == 10

    # Running again changes nothing more.
    status, out, _ = run(capsys, db_url, "retention", "apply", "--today", TODAY)
    assert "removed 0 attendance(s)" in out
    assert db.count(attendance_aggregates) == 1


def test_delete_keeps_no_counts(db, kiosk, families):
    add_may(kiosk)
    set_policy(db, "lichfield", years=6, policy="delete", set_by="alice")

    runs = apply_retention(db, date.fromisoformat(TODAY), ran_by="alice")

    assert [(r.policy, r.attendances, r.child_attendances) for r in runs] == [("delete", 10, 15)]
    assert db.count(attendances) == 2 and db.count(attendance_aggregates) == 0


def test_policies_are_checked(capsys, db_url, families):
    status, _, err = run(
        capsys, db_url, "retention", "set", "lichfield", "--years", "0", "--policy", "delete"
    )
    assert status == 1 and "--years 0 must be a whole number from 1 to 100" in err
    status, _, err = run(
        capsys, db_url, "retention", "set", "nowhere", "--years", "6", "--policy", "delete"
    )
    assert status == 1 and "no organisation 'nowhere'" in err
    status, _, err = run(capsys, db_url, "retention", "apply", "--today", "2022-13-01")
    assert status == 1 and "is not a date like" in err


def test_the_cutoff_is_the_same_day_n_years_before():
    assert cutoff_for(date(2022, 5, 1), 6) == date(2016, 5, 1)
    assert cutoff_for(date(2024, 2, 29), 1) == date(2023, 2, 28)
