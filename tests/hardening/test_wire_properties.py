"""The wire format (sync.protocol): whatever JSON the server can receive is either validated
into a model or refused with a reason naming the field, never an exception; what is accepted
fits the central database (column sizes, no NUL, a UTC timestamp, a 64-bit seq) and what is
refused can still be stored as refused; ``Event.to_dict``/``from_dict`` round-trip.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pydantic_core
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy import String

from central import db as central_db
from kiosk.domain.desk import KIOSK_TZ
from kiosk.domain.events import EVENT_TYPES, DeviceIdentity, Event
from kiosk.domain.timetable import parse_hhmm
from sync.protocol import (
    MAX_SEQ,
    BatchRequest,
    Checked,
    EventResult,
    validate_event,
)
from tests.sync.fakes import amendment, attendance, registration

DEVICE = DeviceIdentity("kiosk-1", "library")
ENVELOPE = ("event_id", "seq", "type", "device_id", "site_id", "at", "clock_synced", "data")
_BIGINT = 2**63 - 1
_INT = 2**31 - 1


def valid_events() -> list[dict[str, Any]]:
    family, reg = registration(DEVICE, uid="04A23B1C")
    recorded = attendance(DEVICE, family)
    amended = amendment(
        DEVICE, recorded, [family.children[0].child_id], recorded.at + timedelta(minutes=5)
    )
    updated = Event(
        type="member.updated",
        at=reg[0].at,
        data=reg[0].data,
        device_id=DEVICE.device_id,
        site_id=DEVICE.site_id,
    )
    revoked = Event(
        type="card.revoked",
        at=reg[1].at,
        data=reg[1].data,
        device_id=DEVICE.device_id,
        site_id=DEVICE.site_id,
    )
    events = [*reg, updated, revoked, recorded, amended]
    return [e.with_seq(n).to_dict() for n, e in enumerate(events, start=1)]


VALID = valid_events()
assert {e["type"] for e in VALID} == set(EVENT_TYPES)

# -- strategies ------------------------------------------------------------------------------
#: Text as JSON can carry it: any code point, lone surrogates included ("\ud800" is valid JSON).
json_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=30)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    json_text,
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(json_text, inner, max_size=4)
    ),
    max_leaves=20,
)


def _nested(depth: int) -> Any:
    value: Any = "deep"
    for _ in range(depth):
        value = [value]
    return value


#: Values chosen to hit the edges: long text, NUL, huge numbers, odd dates, deep nesting.
edge_values = st.one_of(
    st.sampled_from(
        [
            "",
            "\x00",
            "A\x00B",
            "\ud800",
            "x" * 17,
            "x" * 65,
            "x" * 201,
            "09:30\n",
            "2026-11-23\n",
            "2026W481",
            "20261123",
            "٠٩:٣٠",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-01:00",
            "0001-01-01T00:00:00Z",
            "2026-11-23T09:30:00",
            "2026-11-23T09:30:00+25:00",
            2**63,
            2**63 - 1,
            2**64,
            -1,
            0,
            1.5,
            True,
            [],
            {},
        ]
    ),
    st.integers(min_value=2**31 - 2, max_value=2**70),
    st.integers(0, 600).map(_nested),
    st.text(min_size=1, max_size=3).map(lambda t: t * 30),
)
mutation_values = st.one_of(edge_values, json_values)


def _paths(value: Any, prefix: str = "") -> list[str]:
    """Every path into a JSON object (``data.family.children.0.born``)."""
    out = []
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, inner in items:
        path = f"{prefix}{key}"
        out.append(path)
        if isinstance(inner, dict | list) and inner:
            out.extend(_paths(inner, path + "."))
    return out


def _set(raw: dict[str, Any], path: str, value: Any, delete: bool) -> dict[str, Any]:
    out = copy.deepcopy(raw)
    *parents, last = path.split(".")
    target: Any = out
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    key: Any = int(last) if isinstance(target, list) else last
    if delete:
        del target[key]
    else:
        target[key] = value
    return out


@st.composite
def mutated_events(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    """A valid event with one field replaced, removed or added; returns it and the path."""
    raw = draw(st.sampled_from(VALID))
    path = draw(st.sampled_from(_paths(raw)))
    how = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
    if how == "add":
        parent = path.rsplit(".", 1)[0] if "." in path else ""
        target = raw
        for part in parent.split(".") if parent else []:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if not isinstance(target, dict):
            how = "replace"
        else:
            key = draw(json_text.filter(lambda k: "." not in k and k not in target))
            path = f"{parent}.{key}" if parent else key
    value = draw(mutation_values)
    return _set(raw, path, value, delete=how == "delete"), path


# -- the checks every outcome must pass ------------------------------------------------------
_FIELD = re.compile(r"^.+?: \S", re.DOTALL)  # "field.path: what is wrong"


def _column_lengths() -> dict[tuple[str, str], int]:
    return {
        (table.name, column.name): column.type.length
        for table in central_db.metadata.tables.values()
        for column in table.columns
        if isinstance(column.type, String) and column.type.length
    }


LENGTHS = _column_lengths()


def _fits(table: str, column: str, value: Any) -> None:
    if value is None:
        return
    assert isinstance(value, str), (table, column, value)
    assert "\x00" not in value, (table, column)
    limit = LENGTHS.get((table, column))
    if limit is not None:
        assert len(value) <= limit, (table, column, len(value), limit)


def _assert_storable(checked: Checked) -> None:
    """What the server would write for this outcome can be written, whatever the database."""
    raw_json = pydantic_core.to_json(checked.raw)  # the events/rejections ``raw`` column
    assert json.loads(raw_json) is not None
    result = EventResult(
        event_id=checked.event_id,
        status="accepted" if checked.ok else "rejected",
        reason=checked.reason,
    )
    result.model_dump_json()  # the answer to the kiosk
    if not checked.ok:
        assert checked.reason and _FIELD.match(checked.reason), checked.reason
        assert "\x00" not in checked.reason
        return
    ev = checked.event
    assert ev is not None
    assert 1 <= ev.seq < _BIGINT
    assert ev.at.tzinfo is not None
    ev.at.astimezone(UTC)
    ev.at.astimezone(KIOSK_TZ)  # reports show times in local time
    for column in ("event_id", "device_id", "site_id", "type"):
        _fits("events", column, getattr(ev, column))
    data = ev.data
    if ev.type.startswith("member."):
        fam = data.family
        for column in ("family_id", "greeting_name", "postcode", "heard_from", "language"):
            _fits("families", column, getattr(fam, column))
        assert 0 <= fam.adults <= _INT
        if fam.consent_date:
            assert date.fromisoformat(fam.consent_date).isoformat() == fam.consent_date
        for child in fam.children:
            for column in ("child_id", "first_name", "born"):
                _fits("children", column, getattr(child, column))
    elif ev.type.startswith("card."):
        _fits("cards", "uid", data.uid)
        _fits("cards", "family_id", data.family_id)
    elif ev.type == "attendance.recorded":
        session = data.session
        _fits("attendances", "session_key", session.key)
        _fits("attendances", "session_name", session.name)
        _fits("attendances", "slot_id", session.slot_id)
        _fits("attendances", "family_id", data.family_id)
        _fits("attendances", "volunteer", data.volunteer)
        _fits("attendances", "risk_version", data.risk_version)
        for child in data.children:
            _fits("attendance_children", "child_id", child)
        assert date.fromisoformat(session.date).isoformat() == session.date
        for text in (session.start, session.end):
            # The kiosk reads these back with its own parser: the same time, written the same.
            assert parse_hhmm(text).strftime("%H:%M") == text
    elif ev.type == "attendance.amended":
        _fits("events", "subject_id", data.attendance_id)
        for child in data.children:
            _fits("attendance_children", "child_id", child)


def check(raw: Any) -> Checked:
    checked = validate_event(raw, DEVICE.device_id, DEVICE.site_id)
    _assert_storable(checked)
    return checked


# -- the properties --------------------------------------------------------------------------
def test_every_kind_of_event_the_kiosk_writes_passes_every_check():
    for raw in VALID:
        assert check(raw).ok, check(raw).reason


@settings(max_examples=500, deadline=None)
@given(json_values)
def test_any_json_value_is_validated_or_refused_never_raises(value):
    assert not check(value).ok or isinstance(value, dict)


@settings(max_examples=1500, deadline=None)
@given(mutated_events())
@example(({**VALID[0], "seq": 2**63}, "seq"))
@example(({**VALID[0], "at": "0001-01-01T00:00:00+01:00"}, "at"))
@example(({**VALID[0], "event_id": "\ud800"}, "event_id"))
@example(({**VALID[0], "extra": _nested(400)}, "extra"))
@example(({**VALID[0], "extra": "\ud800"}, "extra"))
@example(({**VALID[0], "\x00": "\ud800"}, "\x00"))  # a NUL in the field name the reason quotes
@example(({**VALID[0], "data": {**VALID[0]["data"], "\x00\ud800": "\ud800"}}, "data"))
@example((_set(VALID[0], "data.family.postcode", "x" * 17, False), "data.family.postcode"))
@example((_set(VALID[0], "data.family.greeting_name", "A\x00B", False), "data.family"))
@example((_set(VALID[0], "data.family.children.0.born", "2024-03-01", False), "data.family"))
@example((_set(VALID[4], "data.session.start", "09:30\n", False), "data.session.start"))
def test_a_valid_event_with_any_one_field_changed_is_checked_field_by_field(case):
    raw, path = case
    checked = check(raw)
    if not checked.ok:
        top = path.split(".")[0]
        named = [part.split(":")[0] for part in checked.reason.split("; ")]
        # The reason names the changed field, a field holding it, or the whole event.
        assert any(n == "event" or n.split(".")[0] == top or top not in ENVELOPE for n in named), (
            path,
            checked.reason,
        )


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(VALID), json_values), max_size=5))
def test_any_batch_body_is_either_a_batch_or_a_validation_error(items):
    body = {"events": items}
    try:
        request = BatchRequest.model_validate(body)
    except ValidationError as exc:  # answered 422, naming the item: FastAPI's own errors
        assert all(err["loc"][:1] == ("events",) for err in exc.errors())
        assert not all(isinstance(item, dict) for item in items)
        return
    for raw in request.events:
        check(raw)


aware_datetimes = st.datetimes(
    min_value=datetime(1970, 1, 2),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, KIOSK_TZ]),
)


@settings(max_examples=500, deadline=None)
@given(
    st.sampled_from(VALID),
    aware_datetimes,
    st.integers(1, MAX_SEQ),
    st.booleans(),
    st.dictionaries(st.text(max_size=8), st.one_of(st.text(max_size=8), st.integers())),
)
def test_event_to_dict_and_from_dict_round_trip(template, at, seq, synced, extra):
    data = {**template["data"], **{f"x_{k}": v for k, v in extra.items()}}
    event = Event(
        type=template["type"],
        at=at,
        data=data,
        device_id=DEVICE.device_id,
        site_id=DEVICE.site_id,
        clock_synced=synced,
        seq=seq,
    )
    wire = event.to_dict()
    through_json = json.loads(json.dumps(wire))
    again = Event.from_dict(through_json)
    # Compared in UTC: Python never finds an aware time in October's repeated hour equal to
    # one in another zone, even at the same instant.
    assert replace(again, at=again.at.astimezone(UTC)) == replace(event, at=at.astimezone(UTC))
    assert again.at.utcoffset() == timedelta(0)
    assert again.to_dict() == wire
    checked = check(through_json)
    assert checked.ok, checked.reason
    assert checked.event.at.astimezone(UTC) == at.astimezone(UTC)
    assert checked.event.seq == seq
