"""The timetable: ``add`` never lets two sessions overlap, refuses only real overlaps, and
``session_at`` agrees with the slots' wall-clock times on every day, clock changes included."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from kiosk.domain.desk import KIOSK_TZ
from kiosk.domain.errors import TimetableError, ValidationError
from kiosk.domain.timetable import (
    EARLY_CHECK_IN,
    WEEKDAYS,
    SessionSlot,
    Timetable,
    make_slot,
    parse_hhmm,
    parse_weekday,
)

#: Days around the UK clock changes (BST starts 2026-03-29 and 2027-03-28, ends 2026-10-25).
CLOCK_CHANGES = [date(2026, 3, 29), date(2026, 10, 25), date(2027, 3, 28), date(2027, 10, 31)]
days = st.one_of(
    st.sampled_from(CLOCK_CHANGES).flatmap(
        lambda d: st.integers(-8, 8).map(lambda n: d + timedelta(days=n))
    ),
    st.dates(date(2026, 1, 1), date(2028, 12, 31)),
)
minutes = st.integers(0, 24 * 60 - 1)


@st.composite
def slots(draw: st.DrawFn, slot_id: str) -> SessionSlot:
    start = draw(st.integers(0, 24 * 60 - 2))
    end = draw(st.integers(start + 1, 24 * 60 - 1))
    weekly = draw(st.booleans())
    return SessionSlot(
        slot_id=slot_id,
        name=f"Session {slot_id}",
        start=time(start // 60, start % 60),
        end=time(end // 60, end % 60),
        weekday=draw(st.integers(0, 6)) if weekly else None,
        on_date=None if weekly else draw(days),
    )


slot_lists = st.integers(1, 12).flatmap(
    lambda n: st.tuples(*(slots(f"s{i}") for i in range(n))).map(list)
)


def _days_of(slot: SessionSlot, around: date) -> list[date]:
    if slot.on_date:
        return [slot.on_date]
    return [around + timedelta(days=n) for n in range(7)]


def _clash(a: SessionSlot, b: SessionSlot) -> bool:
    """Do ``a`` and ``b`` ever run at the same moment? (Brute force over the days they run.)"""
    around = a.on_date or b.on_date or date(2026, 11, 23)
    shared = [d for d in _days_of(a, around) if a.runs_on(d) and b.runs_on(d)]
    return bool(shared) and a.start < b.end and b.start < a.end


def _build(candidates: list[SessionSlot]) -> tuple[Timetable, list[SessionSlot]]:
    timetable, refused = Timetable(), []
    for slot in candidates:
        try:
            timetable = timetable.add(slot)
        except TimetableError as exc:
            assert "overlaps" in str(exc)
            refused.append(slot)
    return timetable, refused


@settings(max_examples=300, deadline=None)
@given(slot_lists)
def test_add_never_accepts_an_overlap_and_refuses_only_overlaps(candidates):
    timetable, refused = _build(candidates)
    kept = list(timetable.slots)
    for i, a in enumerate(kept):
        for b in kept[i + 1 :]:
            assert not _clash(a, b), (a, b)
    for slot in refused:
        assert any(_clash(slot, other) for other in kept), slot
    assert len(kept) + len(refused) == len(candidates)


@settings(max_examples=300, deadline=None)
@given(slot_lists, days)
def test_occurrences_on_any_day_never_overlap(candidates, day):
    timetable, _ = _build(candidates)
    occurrences = timetable.on_day(day)
    assert [o.start for o in occurrences] == sorted(o.start for o in occurrences)
    for first, second in zip(occurrences, occurrences[1:], strict=False):
        assert first.end <= second.start


def _expected(timetable: Timetable, day: date, wall: time):
    """What a person reading the timetable would say: the latest-starting session that is
    open (from 15 minutes before its start until its end) at wall-clock ``wall``."""
    at = datetime.combine(day, wall)
    open_now = [
        o
        for o in timetable.on_day(day)
        if datetime.combine(day, o.start) - EARLY_CHECK_IN <= at < datetime.combine(day, o.end)
    ]
    return max(open_now, key=lambda o: o.start) if open_now else None


@settings(max_examples=300, deadline=None)
@given(slot_lists, days, minutes, st.sampled_from([0, 1]))
def test_session_at_agrees_with_the_wall_clock_on_any_day(candidates, day, minute, fold):
    timetable, _ = _build(candidates)
    wall = time(minute // 60, minute % 60)
    local = datetime.combine(day, wall, KIOSK_TZ).replace(fold=fold)
    found = timetable.session_at(local)
    assert found == _expected(timetable, day, wall)
    if found is not None:
        assert found.day == day
        assert found.key == f"{day.isoformat()}/{found.slot_id}"


@settings(max_examples=300, deadline=None)
@given(slot_lists, st.sampled_from(CLOCK_CHANGES), st.integers(0, 48 * 60 - 1))
def test_every_instant_of_a_clock_change_day_maps_to_its_local_session(
    candidates, change_day, minute
):
    """A tap's UTC instant, shown on the kiosk's clock, finds the session of that wall time;
    the hour that happens twice in October finds the same session both times."""
    timetable, _ = _build(candidates)
    start = datetime.combine(change_day - timedelta(days=1), time(12), KIOSK_TZ)
    instant = start.astimezone(UTC) + timedelta(minutes=minute)
    local = instant.astimezone(KIOSK_TZ)
    found = timetable.session_at(local)
    assert found == _expected(timetable, local.date(), local.time().replace(second=0))
    other_fold = local.replace(fold=1 - local.fold)
    assert timetable.session_at(other_fold) == found


@settings(max_examples=200, deadline=None)
@given(slot_lists)
def test_a_timetable_round_trips_through_its_list_form(candidates):
    timetable, _ = _build(candidates)
    assert Timetable.from_list(timetable.to_list()) == timetable


@given(st.integers(0, 23), st.integers(0, 59))
def test_every_clock_time_round_trips_through_parse_hhmm(hour, minute):
    assert parse_hhmm(f"{hour:02d}:{minute:02d}") == time(hour, minute)
    assert parse_hhmm(f" {hour}:{minute:02d} ") == time(hour, minute)


@settings(max_examples=400)
@given(st.text(max_size=12))
def test_any_text_is_a_time_or_a_validation_error_naming_it(text):
    try:
        parsed = parse_hhmm(text, "start time")
    except ValidationError as exc:
        assert str(exc).startswith(f"start time {text!r}")
    else:
        assert parse_hhmm(parsed.strftime("%H:%M")) == parsed


@settings(max_examples=400)
@given(st.one_of(st.text(max_size=12), st.sampled_from([*WEEKDAYS, "Monday", "SUNDAY"])))
@example("monkey")  # was read as Monday
@example("sunburn")  # was read as Sunday
@example(" Wed ")
@example("Thurs")
def test_a_weekday_is_a_day_name_or_refused(text):
    names = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]
    try:
        day = parse_weekday(text)
    except ValidationError as exc:
        assert "must be one of" in str(exc)
    else:
        key = text.strip().lower()
        assert len(key) >= 3 and names[day].startswith(key), (text, day)
        assert WEEKDAYS[day] == names[day][:3]


@settings(max_examples=200, deadline=None)
@given(
    st.text(max_size=50),
    st.text(max_size=8),
    st.text(max_size=8),
    st.one_of(st.none(), st.text(max_size=12)),
    st.one_of(st.none(), st.text(max_size=12)),
)
def test_make_slot_refuses_bad_admin_input_only_with_validation_errors(
    name, start, end, weekday, on_date
):
    assume(weekday is None or on_date is None)
    try:
        slot = make_slot("x", name, start, end, weekday, on_date)
    except ValidationError:
        return
    assert slot.start < slot.end
