"""Timetables merge: the server's sessions and the kiosk's own live side by side.

``merge_timetable`` is what a pull of the server's timetable does to the kiosk's. Nothing made
at the kiosk is removed, nothing on now or attended today disappears, and a clash is named.
"""

from __future__ import annotations

from datetime import datetime

from kiosk.domain.timetable import SessionSlot, Timetable, make_slot, merge_timetable
from tests.helpers import local_time

MONDAY_10 = local_time("2026-11-23T10:00")  # a Monday


def server(*slots: SessionSlot) -> Timetable:
    return Timetable.from_list([s.to_dict() for s in slots], "server")


def slot(
    slot_id: str, start: str, end: str, day: str = "mon", name: str = "", origin: str = "kiosk"
):
    made = make_slot(slot_id, name or slot_id, start, end, weekday=day)
    return SessionSlot(**{**made.__dict__, "origin": origin})


def names(table: Timetable) -> dict[str, str]:
    return {s.slot_id: s.origin for s in table.slots}


def test_a_pull_keeps_the_kiosks_own_and_door_sessions():
    door = SessionSlot(
        **{
            **make_slot("once-1", "Drop-in", "13:00", "14:00", on_date="2026-11-23").__dict__,
            "origin": "door",
        }
    )
    local = Timetable(
        (slot("party", "16:00", "17:00"), door, slot("old", "09:00", "09:30", origin="server"))
    )
    merged = merge_timetable(local, server(slot("music", "11:00", "12:00")), MONDAY_10)
    assert names(merged.timetable) == {"party": "kiosk", "once-1": "door", "music": "server"}
    assert merged.left_out == () and merged.kept == ()


def test_a_server_session_on_now_or_attended_today_stays_until_the_day_is_over():
    local = Timetable(
        (
            slot("play", "09:30", "11:30", origin="server"),
            slot("early", "08:00", "09:00", origin="server"),
        )
    )
    merged = merge_timetable(local, server(), MONDAY_10, attended_today={"early"})
    assert names(merged.timetable) == {"play": "server", "early": "server"}
    assert len(merged.kept) == 2
    # Tomorrow, nobody in and nothing on: the server's word stands.
    tuesday = local_time("2026-11-24T10:00")
    assert merge_timetable(merged.timetable, server(), tuesday).timetable.slots == ()


def test_a_session_on_now_that_the_server_moves_away_keeps_its_times_today():
    local = Timetable((slot("play", "09:30", "11:30", origin="server"),))
    moved = merge_timetable(local, server(slot("play", "14:00", "15:00")), MONDAY_10)
    [kept] = moved.timetable.slots
    assert (kept.start.isoformat(), kept.end.isoformat()) == ("09:30:00", "11:30:00")
    longer = merge_timetable(local, server(slot("play", "09:30", "12:30")), MONDAY_10)
    [taken] = longer.timetable.slots
    assert taken.end.isoformat() == "12:30:00"  # still on now, starts no later: the change holds


def test_a_server_session_that_clashes_with_one_made_here_is_left_out_and_named():
    local = Timetable((slot("party", "10:30", "12:00"),))
    merged = merge_timetable(local, server(slot("music", "11:00", "12:00")), MONDAY_10)
    assert names(merged.timetable) == {"party": "kiosk"}
    [note] = merged.left_out
    assert "music" in note and "party" in note


def test_the_same_session_added_on_both_sides_becomes_the_servers():
    local = Timetable((slot("play-mon", "09:30", "11:30", name="Stay and Play"),))
    merged = merge_timetable(
        local,
        server(slot("play-mon", "09:30", "11:30", name="Stay and Play")),
        datetime(2026, 11, 24, 10).astimezone(),
    )
    assert names(merged.timetable) == {"play-mon": "server"}


def test_a_slot_stored_before_origins_were_recorded_counts_as_the_kiosks():
    raw = make_slot("play", "Play", "09:00", "10:00", weekday="mon").to_dict()
    del raw["origin"]
    assert SessionSlot.from_dict(raw).origin == "kiosk"
