"""``family erase`` on the central server: nothing personal remains, past invoices still add up,
and a late event from a kiosk that had not heard of it is scrubbed when it arrives."""

from __future__ import annotations

import io
import json
from dataclasses import replace

import pytest
from sqlalchemy import select

from central.db import (
    Device,
    NotFound,
    attendance_children,
    attendances,
    cards,
    children,
    erasures,
    events,
)
from central.db import families as families_table
from central.privacy.erase import AlreadyErased, erase_family
from central.reports.invoice import build_invoice
from central.reports.period import Period
from central.reports.reach import build_reach, write_reach_csv, write_reach_text
from central.reports.registers import registers_between, write_registers_csv
from kiosk.domain.erasure import event_family, is_erased
from tests.privacy.helpers import SARAH_CARD, TOM_CARD, leaks
from tests.reports.helpers import Kiosk, at

APRIL = Period.month("2016-04")
MAY = Period.month("2016-05")


def reports_text(db) -> str:
    """The invoice CSV, the registers and the reach report for April, as one text."""
    out = io.StringIO()
    out.write(build_invoice(db, "lichfield", APRIL).csv_text())
    write_registers_csv(registers_between(db, "lichfield", APRIL), out)
    reach = build_reach(db, "lichfield", APRIL)
    write_reach_text(reach, out)
    write_reach_csv(reach, out)
    return out.getvalue()


def test_nothing_personal_about_the_family_remains_in_the_central_database(db, families):
    assert leaks(db, families.secrets)  # the search finds them before

    report = erase_family(db, families.sarah.family_id, requested_by="alice")

    assert leaks(db, families.secrets) == []
    assert is_erased(report.token)
    assert report.erased["family"] == 1 and report.erased["children"] == 2
    assert report.erased["cards"] == 1 and report.erased["rejections"] == 1
    assert report.erased["review_notes"] == 1
    assert report.kept == {"attendances": 6, "child_attendances": 11}
    # Tom is untouched.
    assert db.count(families_table, family_id=families.tom.family_id) == 1
    assert db.count(children, family_id=families.tom.family_id) == 1
    assert db.count(cards, uid=TOM_CARD) == 1


def test_the_other_family_and_the_reports_are_untouched_but_for_the_names(db, families):
    erase_family(db, families.sarah.family_id, requested_by="alice")

    text = reports_text(db)
    assert "Tomasz" in text and "Avaline" in text and families.tom.family_id in text
    for secret in families.secrets:
        assert secret not in text, secret
    with db.engine.connect() as conn:
        names = conn.execute(select(families_table.c.greeting_name)).scalars().all()
    assert names == ["Tomasz"]


def test_a_past_invoice_has_the_same_lines_and_total_after_erasure(db, families):
    before = build_invoice(db, "lichfield", APRIL)
    reach_before = build_reach(db, "lichfield", APRIL).total

    report = erase_family(db, families.sarah.family_id, requested_by="alice")

    after = build_invoice(db, "lichfield", APRIL)
    assert len(after.lines) == len(before.lines) > 0
    assert (after.count, after.total) == (before.count, before.total)
    assert after.total > 0
    assert [line.status for line in after.lines] == [line.status for line in before.lines]
    assert len(after.csv_text().splitlines()) == len(before.csv_text().splitlines())
    # The family's lines now carry the token, and each child a stable token of its own.
    tokens = {line.family_id for line in after.lines if is_erased(line.family_id)}
    assert tokens == {report.token}
    kids = {line.child_id for line in after.lines if line.family_id == report.token}
    assert len(kids) == 2 and all(k.startswith(report.token + "-") for k in kids)
    reach_after = build_reach(db, "lichfield", APRIL).total
    assert (reach_after.families, reach_after.children, reach_after.visits) == (
        reach_before.families,
        reach_before.children,
        reach_before.visits,
    )


def test_the_erasure_is_recorded_without_the_family_id(db, families):
    report = erase_family(db, families.sarah.family_id, requested_by="Jo Smith")

    with db.engine.connect() as conn:
        row = conn.execute(select(erasures)).one()
    assert (row.token, row.requested_by, row.org_id) == (report.token, "Jo Smith", "lichfield")
    assert families.sarah.family_id not in json.dumps([str(v) for v in row])
    assert row.summary["kept"]["attendances"] == 6
    from central.audit import entries

    [logged] = [e for e in entries(db) if e.action == "family.erase"]
    assert (logged.actor, logged.subject) == ("Jo Smith", report.token)
    assert families.sarah.family_id not in logged.line()


def test_erasing_again_or_an_unknown_family_says_so(db, families):
    report = erase_family(db, families.sarah.family_id, requested_by="alice")
    with pytest.raises(AlreadyErased, match=report.token):
        erase_family(db, families.sarah.family_id, requested_by="alice")
    with pytest.raises(NotFound, match="no family 'F-NOSUCH'"):
        erase_family(db, "F-NOSUCH", requested_by="alice")


def test_a_late_event_about_the_erased_family_is_scrubbed_when_it_arrives(db, kiosk, families):
    """This kiosk never heard of the erasure: it still knows the family and its card."""
    report = erase_family(db, families.sarah.family_id, requested_by="alice")
    may = build_invoice(db, "lichfield", MAY)

    assert kiosk.tap(SARAH_CARD, at("2016-05-02")) == "welcome"
    moved = replace(families.sarah, postcode="WS11 4ZZ")
    kiosk.desk.update_family(moved, at("2016-05-02", "09:50"))
    statuses = kiosk.sync()

    assert set(statuses) == {"accepted"}
    assert leaks(db, [*families.secrets, "WS11 4ZZ"]) == []
    assert db.count(families_table, family_id=families.sarah.family_id) == 0
    with db.engine.connect() as conn:
        late = conn.execute(
            select(attendances.c.family_id, attendances.c.attendance_id).where(
                attendances.c.session_date >= APRIL.end
            )
        ).all()
        kids = conn.execute(
            select(attendance_children.c.child_id).where(
                attendance_children.c.attendance_id == late[0].attendance_id
            )
        ).scalars()
        kid_tokens = set(kids)
    assert [r.family_id for r in late if r.family_id.startswith("erased-")] == [report.token]
    assert all(k.startswith(report.token + "-") for k in kid_tokens) and len(kid_tokens) == 2
    # It still counts: May's invoice has the child-attendances, under the tokens.
    after = build_invoice(db, "lichfield", MAY)
    assert after.count == may.count + 2
    # And the other kiosks are not sent it with the roster, only Tom's registration and card.
    Kiosk(db, device="kiosk-2")
    page = db.roster(Device("kiosk-2", "lichfield", "library"), 0)
    assert [event_family(e) for e in page.events] == [families.tom.family_id] * 2


def test_a_late_member_event_recreates_nothing(db, kiosk, families):
    erase_family(db, families.sarah.family_id, requested_by="alice")
    before = db.count(events)
    # The kiosk (not told yet) registers another card for the family.
    kiosk.desk.assign_card(SARAH_CARD[:-1] + "D", families.sarah.family_id, at("2016-05-02"))
    assert set(kiosk.sync()) == {"accepted"}

    assert db.count(events) == before + 1
    assert db.count(cards) == 1 and db.count(children) == 1  # Tom's
    assert leaks(db, [*families.secrets, SARAH_CARD[:-1] + "D"]) == []
