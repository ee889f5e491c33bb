"""The family picker's rows: district only, children, already in, order."""

from __future__ import annotations

from datetime import datetime

from kiosk.domain.desk import KIOSK_TZ, DoorDesk
from kiosk.domain.events import DeviceIdentity
from kiosk.domain.picker import family_choices, postcode_district
from kiosk.domain.timetable import Timetable, make_slot
from kiosk.store import LocalStore

MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=KIOSK_TZ)


def test_the_district_is_the_outward_part_only():
    assert postcode_district("WS7 1AA") == "WS7"
    assert postcode_district("EC1A 1BB") == "EC1A"
    assert postcode_district("not a postcode") == ""


def test_rows_say_who_is_in_and_keep_two_of_a_name_apart(tmp_path):
    store = LocalStore(tmp_path)
    store.save_timetable(Timetable().add(make_slot("play", "Play", "09:00", "12:00", "mon")))
    desk = DoorDesk(store, DeviceIdentity("kiosk-1", "library"))
    north = desk.register_family("Aisha", "WS13 6YY", [("Noor", None)], MONDAY, card_uid="04AA0001")
    south = desk.register_family("aisha", "WS11 4BQ", [("Zara", None)], MONDAY)
    desk.register_family("Ben", "WS7 1AA", [], MONDAY)
    desk.tap("04AA0001", MONDAY)

    rows = family_choices(desk, "", MONDAY)
    assert [(r.family.family_id, r.district, r.already_in) for r in rows[:2]] == [
        (south.family_id, "WS11", False),
        (north.family_id, "WS13", True),
    ]
    assert rows[1].children == ("Noor",)
    assert [r.family.greeting_name for r in family_choices(desk, "zar", MONDAY)] == ["aisha"]
    # The next day no session is on: nobody is "already in".
    assert not any(r.already_in for r in family_choices(desk, "", MONDAY.replace(day=24)))
    store.close()
