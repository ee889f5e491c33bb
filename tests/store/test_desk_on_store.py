"""DoorDesk over the real store: the door's rules, persisted, across a restart."""

from __future__ import annotations

from kiosk.domain.desk import DoorDesk
from tests.store.helpers import DEVICE, MONDAY, at, stay_and_play


def test_the_door_works_end_to_end_and_survives_a_restart(open_store) -> None:
    store = open_store()
    desk = DoorDesk(store, DEVICE)
    store.save_timetable(stay_and_play())
    family = desk.register_family(
        "Sam", "WS7 1AA", [("Ava", "2024-03"), ("Ben", None)], at(), card_uid="04:a2:3b:1c"
    )
    assert desk.tap("04A23B1C", at(minute=5)).kind == "welcome"
    assert desk.tap("04A23B1C", at(minute=6)).kind == "already_in"
    desk.set_children(family.family_id, ["Ava"], at(minute=7))
    store.close()

    again = DoorDesk(open_store(), DEVICE)
    assert again.tap("04A23B1C", at(minute=8)).kind == "already_in"
    register = again.register(at(minute=9))
    assert register is not None
    assert [line.children for line in register.lines] == [("Ava",)]
    assert register.families == 1
    assert again.tap("FFFFFFFF", at()).kind == "unknown_card"
    assert again.store.attendances_in(f"{MONDAY}/stay")[0].family_id == family.family_id
    assert again.store.waiting_count() == 4  # registered, card, attended, amended
