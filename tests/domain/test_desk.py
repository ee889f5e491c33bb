"""DoorDesk: taps and sign-ins become one attendance per family per session, durably."""

from __future__ import annotations

import dataclasses

import pytest

from kiosk.domain.desk import DoorDesk, Outcome
from kiosk.domain.errors import NotFoundError, TimetableError, ValidationError
from kiosk.domain.postcodes import parse_risk_area
from tests.helpers import local_time

MONDAY = "2026-11-23"  # a Monday


def register(
    desk: DoorDesk, name="Sarah", postcode="WS7 1AA", kids=("Mia", "Leo"), uid="04A23B1C", **kw
):
    return desk.register_family(
        name,
        postcode,
        [(k, "2024-03") for k in kids],
        local_time(f"{MONDAY} 09:00"),
        card_uid=uid,
        **kw,
    )


def test_tap_in_a_session_welcomes_the_family_with_all_children(desk, store):
    family = register(desk)
    outcome = desk.tap("04:a2:3b:1c", local_time(f"{MONDAY} 09:40"))
    assert outcome.kind == "welcome"
    assert outcome.greeting_name == "Sarah"
    assert [c.first_name for c in outcome.children_present] == ["Mia", "Leo"]
    assert outcome.session.name == "Stay and Play"
    [att] = store.attendances_in(outcome.session.key)
    assert att.family_id == family.family_id
    assert att.method == "card"
    assert len(att.children) == 2


def test_card_held_on_reader_or_tapped_twice_counts_once(desk, store):
    register(desk)
    first = desk.tap("04A23B1C", local_time(f"{MONDAY} 09:40"))
    again = desk.tap("04A23B1C", local_time(f"{MONDAY} 09:40:01"))
    later = desk.tap("04A23B1C", local_time(f"{MONDAY} 11:00"))
    assert first.kind == "welcome"
    assert again.kind == later.kind == "already_in"
    assert again.attendance_id == first.attendance_id
    assert len(store.attendances_in(first.session.key)) == 1


def test_next_weeks_session_is_a_new_attendance(desk, store):
    register(desk)
    desk.tap("04A23B1C", local_time(f"{MONDAY} 09:40"))
    outcome = desk.tap("04A23B1C", local_time("2026-11-30 09:40"))
    assert outcome.kind == "welcome"
    assert len(store.attendances_in(outcome.session.key)) == 1


def test_check_in_opens_fifteen_minutes_before_the_start(desk):
    register(desk)
    assert desk.tap("04A23B1C", local_time(f"{MONDAY} 09:14")).kind == "no_session"
    assert desk.tap("04A23B1C", local_time(f"{MONDAY} 09:15")).kind == "welcome"


def test_no_session_on_records_nothing(desk, store):
    register(desk)
    outcome = desk.tap("04A23B1C", local_time(f"{MONDAY} 12:00"))
    assert outcome.kind == "no_session"
    assert outcome.greeting_name == "Sarah"
    assert store.attendances_in(f"{MONDAY}/stay-play") == []


def test_evening_session_in_utc_input_is_matched_in_local_time(desk):
    register(desk)
    # 18:30 UTC on a Wednesday in November is 18:30 in London; in June it would be 19:30.
    from datetime import UTC, datetime

    assert desk.tap("04A23B1C", datetime(2026, 11, 25, 18, 30, tzinfo=UTC)).kind == "welcome"
    assert desk.tap("04A23B1C", datetime(2026, 6, 17, 17, 30, tzinfo=UTC)).kind == "welcome"


def test_unknown_card_asks_for_a_volunteer_and_is_remembered(desk, store):
    outcome = desk.tap("04FFFFFF", local_time(f"{MONDAY} 09:40"))
    assert outcome.kind == "unknown_card"
    assert outcome.uid == "04FFFFFF"
    assert desk.last_unknown_card == "04FFFFFF"
    family = register(desk, uid=None)
    desk.assign_card(desk.last_unknown_card, family.family_id, local_time(f"{MONDAY} 09:41"))
    assert desk.last_unknown_card is None
    assert desk.tap("04FFFFFF", local_time(f"{MONDAY} 09:42")).kind == "welcome"


def test_revoked_card_is_unknown(desk):
    register(desk)
    desk.revoke_card("04A23B1C", local_time(f"{MONDAY} 09:00"))
    assert desk.tap("04A23B1C", local_time(f"{MONDAY} 09:40")).kind == "unknown_card"


def test_a_card_cannot_belong_to_two_families(desk):
    register(desk)
    other = register(desk, name="Aisha", uid=None)
    with pytest.raises(ValidationError, match="already belongs"):
        desk.assign_card("04A23B1C", other.family_id, local_time(f"{MONDAY} 09:00"))


def test_garbage_uid_is_a_clear_error(desk):
    with pytest.raises(ValidationError, match="hexadecimal"):
        desk.tap("not-a-card", local_time(f"{MONDAY} 09:40"))


def test_sign_in_by_a_volunteer_records_the_chosen_children(desk, store):
    family = register(desk)
    outcome = desk.sign_in(family.family_id, ["leo"], "Jo", local_time(f"{MONDAY} 10:00"))
    assert outcome.kind == "welcome"
    [att] = store.attendances_in(outcome.session.key)
    assert att.method == "manual"
    assert att.volunteer == "Jo"
    assert [family.child(c).first_name for c in att.children] == ["Leo"]


def test_sign_in_names_an_unknown_child_or_family(desk):
    family = register(desk)
    with pytest.raises(NotFoundError, match="no child called 'Bob'"):
        desk.sign_in(family.family_id, ["Bob"], "Jo", local_time(f"{MONDAY} 10:00"))
    with pytest.raises(NotFoundError, match="no family with id 'F-NOPE'"):
        desk.sign_in("F-NOPE", None, "Jo", local_time(f"{MONDAY} 10:00"))


def test_unticking_and_adding_children_amends_the_one_attendance(desk, store):
    family = register(desk)
    first = desk.tap("04A23B1C", local_time(f"{MONDAY} 09:40"))
    desk.set_children(family.family_id, ["Mia"], local_time(f"{MONDAY} 09:40:05"))
    [att] = store.attendances_in(first.session.key)
    assert [family.child(c).first_name for c in att.children] == ["Mia"]
    desk.set_children(family.family_id, ["Mia", "Leo"], local_time(f"{MONDAY} 10:30"))
    [att] = store.attendances_in(first.session.key)
    assert len(att.children) == 2
    assert att.attendance_id == first.attendance_id


def test_attendance_records_the_incentive_decision_taken_at_the_time(desk, store):
    store.save_risk_list(frozenset({parse_risk_area("WS7 1")}), "test", local_time(MONDAY))
    in_area = register(desk)
    outside = register(desk, name="Tom", postcode="B33 8TH", uid="04B7C2D3")
    single = register(
        desk,
        name="Jess",
        postcode="B33 8TH",
        uid="04C1D2E3",
        criteria=["single_parent"],
        consent=True,
    )
    for uid in ("04A23B1C", "04B7C2D3", "04C1D2E3"):
        desk.tap(uid, local_time(f"{MONDAY} 09:40"))
    by_family = {a.family_id: a.decision for a in store.attendances_in(f"{MONDAY}/stay-play")}
    version = store.risk_list().version
    assert by_family[in_area.family_id].qualifies and by_family[in_area.family_id].reasons == (
        "sector",
    )
    assert not by_family[outside.family_id].qualifies
    assert by_family[single.family_id].reasons == ("single_parent",)
    assert {d.risk_version for d in by_family.values()} == {version}


def test_outcome_carries_no_risk_information():
    """The stigma rule, structurally: nothing the door shows can tell who qualifies."""
    names = {f.name for f in dataclasses.fields(Outcome)}
    assert not names & {"qualifies", "reasons", "risk_version", "decision", "criteria", "postcode"}


def test_outcomes_of_qualifying_and_other_families_differ_only_in_ids(desk, store):
    store.save_risk_list(frozenset({parse_risk_area("WS7 1AA")}), "test", local_time(MONDAY))
    register(desk, name="Sam", postcode="WS7 1AA", kids=("Ava",), uid="04000001")
    register(desk, name="Sam", postcode="B33 8TH", kids=("Ava",), uid="04000002")
    a = desk.tap("04000001", local_time(f"{MONDAY} 09:40"))
    b = desk.tap("04000002", local_time(f"{MONDAY} 09:40"))
    assert a.describe() == b.describe()
    assert (a.kind, a.greeting_name) == (b.kind, b.greeting_name)


def test_register_lists_who_is_in_with_counts(desk):
    sarah = register(desk)
    register(desk, name="Tom", kids=("Alfie",), uid="04B7C2D3")
    desk.tap("04A23B1C", local_time(f"{MONDAY} 09:40"))
    desk.sign_in(sarah.family_id, None, "Jo", local_time(f"{MONDAY} 09:50"))  # already in
    desk.tap("04B7C2D3", local_time(f"{MONDAY} 09:45"))
    reg = desk.register(local_time(f"{MONDAY} 10:00"))
    assert [line.greeting_name for line in reg.lines] == ["Sarah", "Tom"]
    assert (reg.families, reg.adults, reg.children) == (2, 2, 3)


def test_thematic_criteria_need_consent(desk):
    with pytest.raises(ValidationError, match="consent"):
        register(desk, criteria=["young_parent"], consent=False)


def test_find_families_by_parent_or_child_name(desk):
    register(desk)
    register(desk, name="Tom", kids=("Alfie",), uid="04B7C2D3")
    assert [f.greeting_name for f in desk.find_families("alf")] == ["Tom"]
    assert [f.greeting_name for f in desk.find_families("SAR")] == ["Sarah"]
    assert desk.find_families("  ") == []


def test_volunteer_starts_a_one_off_session_when_none_is_on(desk):
    register(desk)
    at = local_time("2026-11-28 14:00")  # a Saturday
    assert desk.tap("04A23B1C", at).kind == "no_session"
    session = desk.start_one_off_session("Pop-up Play", at)
    assert (session.name, str(session.start)) == ("Pop-up Play", "14:00:00")
    assert desk.tap("04A23B1C", at).kind == "welcome"
    with pytest.raises(TimetableError, match="already on"):
        desk.start_one_off_session("Another", at)


def test_events_carry_device_site_and_clock_state(store):
    desk = DoorDesk(store, clock_synced=lambda: False)
    from kiosk.domain.events import DeviceIdentity

    desk.device = DeviceIdentity("kiosk-9", "site-9")
    family = register(desk, uid=None)
    assert family.family_id.startswith("F-")
    [event] = list(store.events())
    assert (event.device_id, event.site_id, event.clock_synced) == ("kiosk-9", "site-9", False)
    assert event.seq == 1
    assert event.at.utcoffset().total_seconds() == 0
