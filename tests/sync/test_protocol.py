"""Each event is checked on its own, and a refusal names the bad field."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from central.db.records import dumps
from kiosk.domain.events import ATTENDANCE_METHODS, EVENT_TYPES, DeviceIdentity
from sync.protocol import DATA_MODELS, Method, WireType, validate_event
from tests.sync.fakes import amendment, attendance, registration

DEVICE = DeviceIdentity("kiosk-1", "library")


def _valid_events() -> list[dict]:
    family, reg = registration(DEVICE, uid="04A23B1C")
    recorded = attendance(DEVICE, family)
    amended = amendment(
        DEVICE, recorded, [family.children[0].child_id], recorded.at + timedelta(minutes=5)
    )
    updated = reg[0].__class__(
        type="member.updated",
        at=reg[0].at,
        data=reg[0].data,
        device_id=DEVICE.device_id,
        site_id=DEVICE.site_id,
    )
    events = [*reg, updated, recorded, amended]
    return [e.with_seq(n).to_dict() for n, e in enumerate(events, start=1)]


def _check(raw):
    return validate_event(raw, DEVICE.device_id, DEVICE.site_id)


def test_every_kind_of_event_the_kiosk_writes_is_valid():
    events = _valid_events()
    assert {e["type"] for e in events} == {
        "member.registered",
        "member.updated",
        "card.assigned",
        "attendance.recorded",
        "attendance.amended",
    }
    for raw in events:
        checked = _check(raw)
        assert checked.ok, checked.reason
        assert checked.event.event_id == raw["event_id"]


def test_a_valid_event_carries_the_json_text_the_server_keeps_and_a_refused_one_none():
    raw = _valid_events()[0]
    checked = _check(raw)
    assert checked.text is not None
    assert json.loads(checked.text) == raw
    assert checked.text == dumps(raw)  # what ingest would otherwise encode a second time
    refused = _check({**raw, "seq": "one"})
    assert not refused.ok and refused.text is None


def _attendance() -> dict:
    return next(e for e in _valid_events() if e["type"] == "attendance.recorded")


def _with(raw: dict, path: str, value) -> dict:
    out = copy.deepcopy(raw)
    *parents, last = path.split(".")
    target = out
    for p in parents:
        target = target[p]
    if value is _DELETE:
        del target[last]
    else:
        target[last] = value
    return out


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        ("type", "attendance.deleted", "type:"),
        ("at", "yesterday", "at: 'yesterday' is not an ISO 8601 timestamp"),
        ("at", "2026-11-23T09:30:00", "at: '2026-11-23T09:30:00' has no time zone"),
        ("at", "2026-02-30T09:30:00Z", "at:"),
        ("at", 1763890200, "at:"),
        ("event_id", "not-a-uuid", "event_id: 'not-a-uuid' is not a UUID"),
        ("event_id", _DELETE, "event_id: Field required"),
        ("seq", 0, "seq:"),
        ("seq", "7", "seq:"),
        ("clock_synced", "yes", "clock_synced:"),
        ("data.qualifies", "yes", "data.qualifies: Input should be a valid boolean"),
        ("data.qualifies", 1, "data.qualifies:"),
        ("data.method", "bicycle", "data.method:"),
        ("data.children", "Ben", "data.children:"),
        ("data.children", [1, 2], "data.children.0:"),
        ("data.reasons", _DELETE, "data.reasons: Field required"),
        ("data.risk_version", None, "data.risk_version:"),
        ("data.family_id", _DELETE, "data.family_id: Field required"),
        ("data.session.date", "2026-13-01", "data.session.date:"),
        ("data.session.start", "9.30", "data.session.start:"),
        ("data.session.key", "2026-11-23/other", "data.session: Value error"),
        ("data.session", _DELETE, "data.session: Field required"),
    ],
)
def test_a_bad_field_is_named_in_the_reason(path, value, named):
    checked = _check(_with(_attendance(), path, value))
    assert not checked.ok
    assert named.replace("Value error", "") in checked.reason


def test_an_event_from_another_device_or_site_is_refused_with_the_reason():
    raw = _attendance()
    other_device = validate_event(raw, "kiosk-2", "library")
    other_site = validate_event(raw, "kiosk-1", "leisure-centre")
    assert other_device.reason.startswith("device_id: 'kiosk-1' is not the device this token")
    assert other_site.reason.startswith("site_id: 'library' is not the site")


def test_something_that_is_not_an_object_is_refused():
    checked = _check(["not", "an", "event"])
    assert checked.reason == "event: must be a JSON object, not list"
    assert checked.event_id == ""


def test_a_card_uid_must_be_upper_case_hex():
    card = next(e for e in _valid_events() if e["type"] == "card.assigned")
    assert "data.uid" in _check(_with(card, "data.uid", "04:a2:3b:1c")).reason


def test_unknown_extra_fields_from_a_newer_kiosk_are_allowed():
    raw = _with(_attendance(), "data.weather", "rain")
    assert _check(raw).ok


_FIELDS = [
    "event_id",
    "seq",
    "type",
    "at",
    "clock_synced",
    "data.qualifies",
    "data.family_id",
    "data.method",
    "data.children",
    "data.session.date",
]
# Wrong for every field above: no string, boolean or empty list is among them.
_WRONG = st.one_of(
    st.none(),
    st.lists(st.integers(), min_size=1, max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=1),
    st.floats(allow_nan=False),
)


@settings(max_examples=150, deadline=None)
@given(field=st.sampled_from(_FIELDS), value=_WRONG)
def test_any_wrongly_typed_field_is_refused_and_named(field, value):
    checked = _check(_with(_attendance(), field, value))
    assert not checked.ok
    assert checked.reason.split(":")[0].startswith(field.split(".")[0])


def test_timestamps_with_offsets_are_real_timestamps():
    raw = _with(_attendance(), "at", "2026-11-23T09:30:00+01:00")
    checked = _check(raw)
    assert checked.ok
    assert checked.event.at == datetime(2026, 11, 23, 8, 30, tzinfo=UTC)


def test_the_wire_knows_exactly_the_domains_event_types_and_methods():
    assert get_args(WireType) == EVENT_TYPES == tuple(DATA_MODELS)
    assert get_args(Method) == ATTENDANCE_METHODS
    assert {e["type"] for e in _valid_events()} == set(EVENT_TYPES) - {"card.revoked"}
    refused = _check({**_valid_events()[0], "type": "member.deleted"})
    assert not refused.ok
    assert f"must be one of {', '.join(EVENT_TYPES)}" in refused.reason
