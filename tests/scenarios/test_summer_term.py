"""A summer term at a children's centre, through the real DoorDesk, LocalStore and export.

Shaped like the seed's summer term: about a third of the children who attend come from risk
postcodes. The scenario counts, as it goes, every qualifying child-attendance it causes; the
export must add up to exactly that number, whatever repeats, unticked children and strangers'
cards happen at the door.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import date, datetime, time, timedelta

import pytest

from kiosk.domain.desk import KIOSK_TZ, DoorDesk
from kiosk.domain.events import DeviceIdentity
from kiosk.domain.postcodes import parse_risk_area
from kiosk.domain.timetable import Timetable, make_slot
from kiosk.export import write_attendance_csv

RISK_AREAS = ("WS7 1AA", "WS11 4", "WS12")
RISK_POSTCODES = ("WS7 1AA", "WS11 4BQ", "WS11 4ZZ", "WS12 2HN", "WS12 9AB")
OTHER_POSTCODES = ("WS13 6YY", "WS14 9AB", "WS7 3DE", "WS11 1AA", "B33 8TH")
TERM = (date(2016, 4, 18), date(2016, 7, 22))
SESSIONS = (
    ("mon", 0, "09:30", "11:30"),
    ("wed", 2, "13:00", "14:30"),
    ("sat", 5, "10:00", "12:00"),
)


@pytest.mark.slow
def test_summer_term_export_adds_up_to_the_constructed_qualifying_attendances(tmp_path):
    from kiosk.store import LocalStore

    rng = random.Random(2016)
    store = LocalStore(tmp_path / "kiosk")
    desk = DoorDesk(store, DeviceIdentity("kiosk-1", "hub-1"))
    timetable = Timetable()
    for day, _, start, end in SESSIONS:
        timetable = timetable.add(make_slot(f"s-{day}", f"Session {day}", start, end, weekday=day))
    store.save_timetable(timetable)
    start_at = datetime.combine(TERM[0], time(8), KIOSK_TZ)
    store.save_risk_list(frozenset(parse_risk_area(a) for a in RISK_AREAS), "council", start_at)

    # 26 risk-postcode families with 3 children (78 children) and 78 others with 2 (156).
    families = []
    for i in range(104):
        at_risk = i < 26
        postcode = rng.choice(RISK_POSTCODES if at_risk else OTHER_POSTCODES)
        kids = [(f"Child{i}-{k}", "2014-05") for k in range(3 if at_risk else 2)]
        fam = desk.register_family(f"Parent{i}", postcode, kids, start_at, card_uid=f"04{i:06X}")
        families.append((fam, at_risk))

    expected_qualifying = 0
    expected_total = 0
    children_seen: dict[str, bool] = {}
    day = TERM[0]
    while day <= TERM[1]:
        for _, weekday, start, _ in SESSIONS:
            if day.weekday() != weekday:
                continue
            opens = datetime.combine(day, time.fromisoformat(start), KIOSK_TZ)
            for fam, at_risk in rng.sample(families, 12):
                at = opens + timedelta(minutes=rng.randint(-10, 60))
                if rng.random() < 0.8:
                    outcome = desk.tap(f"04{families.index((fam, at_risk)):06X}", at)
                    present = list(fam.children)
                    if rng.random() < 0.2:  # one child stayed home: unticked on the welcome screen
                        present = present[:-1]
                        desk.set_children(fam.family_id, [c.child_id for c in present], at)
                    if rng.random() < 0.2:  # held on the reader / tapped again
                        assert desk.tap(outcome.uid, at + timedelta(seconds=2)).kind == "already_in"
                else:
                    present = list(fam.children[: rng.randint(1, len(fam.children))])
                    desk.sign_in(fam.family_id, [c.first_name for c in present], "Jo", at)
                expected_total += len(present)
                expected_qualifying += len(present) if at_risk else 0
                for child in present:
                    children_seen[child.child_id] = at_risk
            assert desk.tap("0BADCAFE", opens).kind == "unknown_card"
        day += timedelta(days=1)

    out = io.StringIO()
    write_attendance_csv(store, out, *TERM)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    qualifying_rows = [r for r in rows if r["qualifies"] == "yes"]
    assert len(rows) == expected_total
    assert len(qualifying_rows) == expected_qualifying
    assert {r["reasons"] for r in qualifying_rows} <= {"postcode", "sector", "district"}
    assert {r["risk_version"] for r in rows} == {store.risk_list().version}
    share = sum(children_seen.values()) / len(children_seen)
    assert 0.28 <= share <= 0.38, share  # about a third of the children who came
