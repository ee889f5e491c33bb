"""The timetable: weekly and one-off sessions, any day and hour, no overlaps."""

from __future__ import annotations

import pytest

from kiosk.domain.errors import TimetableError, ValidationError
from kiosk.domain.timetable import Timetable, make_slot, slot_id_for
from tests.helpers import local_time


def weekly(slot_id="a", day="mon", start="09:30", end="11:30", name="Stay and Play"):
    return make_slot(slot_id, name, start, end, weekday=day)


def test_session_found_from_fifteen_minutes_before_until_the_end():
    tt = Timetable().add(weekly())
    assert tt.session_at(local_time("2026-11-23 09:14")) is None
    assert tt.session_at(local_time("2026-11-23 09:15")).name == "Stay and Play"
    assert tt.session_at(local_time("2026-11-23 11:29")).key == "2026-11-23/a"
    assert tt.session_at(local_time("2026-11-23 11:30")) is None
    assert tt.session_at(local_time("2026-11-24 10:00")) is None  # Tuesday


def test_evening_and_weekend_sessions():
    tt = (
        Timetable()
        .add(weekly("eve", "wed", "18:00", "20:30"))
        .add(weekly("sun", "sun", "07:00", "08:00"))
    )
    assert tt.session_at(local_time("2026-11-25 20:00")).slot_id == "eve"
    assert tt.session_at(local_time("2026-11-29 06:50")).slot_id == "sun"


def test_one_off_session_runs_only_on_its_date():
    tt = Timetable().add(make_slot("x", "Xmas Party", "14:00", "16:00", on_date="2026-12-19"))
    assert tt.session_at(local_time("2026-12-19 15:00")).name == "Xmas Party"
    assert tt.session_at(local_time("2026-12-26 15:00")) is None


def test_back_to_back_sessions_early_arrival_goes_to_the_next():
    tt = Timetable().add(weekly("a", end="11:00")).add(weekly("b", start="11:00", end="12:00"))
    assert tt.session_at(local_time("2026-11-23 10:44")).slot_id == "a"
    assert tt.session_at(local_time("2026-11-23 10:50")).slot_id == "b"


def test_session_ending_before_it_starts_is_refused():
    with pytest.raises(TimetableError, match=r"ends \(09:00\) before it starts \(10:00\)"):
        weekly(start="10:00", end="09:00")
    with pytest.raises(TimetableError, match="before it starts"):
        weekly(start="10:00", end="10:00")


def test_overlapping_sessions_are_refused_with_both_named():
    tt = Timetable().add(weekly())
    with pytest.raises(TimetableError, match="Baby Music.*overlaps Stay and Play"):
        tt.add(weekly("b", start="11:00", end="12:00", name="Baby Music"))
    with pytest.raises(TimetableError, match="overlaps"):
        tt.add(make_slot("c", "One-off", "10:00", "10:30", on_date="2026-11-23"))  # a Monday
    assert tt.add(make_slot("d", "One-off", "10:00", "10:30", on_date="2026-11-24")).slots


def test_bad_times_days_and_dates_say_what_was_wrong():
    with pytest.raises(ValidationError, match="start time '9.30' must be a 24-hour time"):
        make_slot("a", "S", "9.30", "10:00", weekday="mon")
    with pytest.raises(ValidationError, match="weekday 'funday'"):
        make_slot("a", "S", "09:30", "10:00", weekday="funday")
    with pytest.raises(ValidationError, match="date '2026-02-30'"):
        make_slot("a", "S", "09:30", "10:00", on_date="2026-02-30")
    with pytest.raises(TimetableError, match="either --weekday or --date"):
        make_slot("a", "S", "09:30", "10:00")


def test_duplicate_id_and_remove():
    tt = Timetable().add(weekly())
    with pytest.raises(TimetableError, match="already exists"):
        tt.add(weekly(day="tue"))
    assert tt.remove("a").slots == ()
    with pytest.raises(TimetableError, match="no session with id 'zz'"):
        tt.remove("zz")


def test_round_trip_through_list_form():
    tt = (
        Timetable()
        .add(weekly())
        .add(make_slot("x", "Party", "14:00", "16:00", on_date="2026-12-19"))
    )
    assert Timetable.from_list(tt.to_list()) == tt


def test_clocks_going_forward_keep_local_session_times():
    tt = Timetable().add(weekly("s", "sun", "09:30", "11:30"))
    # 2027-03-28 is the Sunday British Summer Time starts.
    assert tt.session_at(local_time("2027-03-28 09:20")).slot_id == "s"


def test_a_new_sessions_id_comes_from_its_name_and_day_and_is_unique():
    assert slot_id_for("Stay & Play", "Monday", None, set()) == "stay-play-mon"
    assert slot_id_for("Stay & Play", "mon", None, {"stay-play-mon"}) == "stay-play-mon-2"
    assert slot_id_for("Party", None, "2026-12-19", ()) == "party-2026-12-19"
    assert slot_id_for("!!!", "tue", None, ()) == "session-tue"
