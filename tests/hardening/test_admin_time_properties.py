"""The admin's times and dates (``kiosk-admin tap --at``, ``export --from/--to``): any text is
a usable time or a ValidationError naming the option, never a traceback later on."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from hypothesis import example, given, settings
from hypothesis import strategies as st

from kiosk.admin_commands import parse_at, parse_day
from kiosk.domain.desk import KIOSK_TZ
from kiosk.domain.errors import ValidationError

offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
typed_times = st.one_of(
    st.datetimes(timezones=st.one_of(st.none(), offsets)).map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat(timespec="minutes")),
    st.text(alphabet="0123456789-:T+Z .", max_size=30),
    st.text(max_size=30),
)


@settings(max_examples=500)
@given(typed_times)
@example("0001-01-01T00:00+01:00")  # before year 1 in UTC
@example("9999-12-31T23:59-01:00")  # after year 9999 in UTC
@example("0001-01-01T00:00")  # year 1 in London is before year 1 in UTC (London was +0:01)
@example("2026-11-23T10:05")
@example("2026-11-23T10:05Z")
def test_at_is_a_time_the_kiosk_can_record_or_a_validation_error(text: str):
    try:
        at = parse_at(text)
    except ValidationError as exc:
        assert str(exc).startswith("--at ")
        return
    assert at.tzinfo is not None
    # What DoorDesk does with it: store it in UTC, find the session in local time.
    at.astimezone(UTC)
    at.astimezone(KIOSK_TZ)


@given(st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)))
def test_a_local_time_without_a_zone_is_the_kiosks_wall_clock(moment: datetime):
    at = parse_at(moment.isoformat(timespec="minutes"))
    assert at.replace(tzinfo=None) == moment.replace(second=0, microsecond=0)
    assert at.tzinfo == KIOSK_TZ


@settings(max_examples=300)
@given(st.one_of(st.dates().map(date.isoformat), st.text(max_size=12)))
def test_a_day_is_a_date_or_a_validation_error_naming_the_option(text: str):
    try:
        day = parse_day(text, "--from")
    except ValidationError as exc:
        assert str(exc).startswith("--from ")
    else:
        assert isinstance(day, date)
