"""What the fuzz harnesses check, as plain functions of bytes (importable without atheris).

Each target turns the fuzzer's bytes into the input a person or a kiosk could send, runs the
parser, and checks its contract: a result that reads back as itself, or the parser's own
documented error. Anything else raised (or a failed check) is a crash the fuzzer keeps.

    >>> for name, target in TARGETS.items():
    ...     target(b"WS7 1AA")
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from datetime import UTC
from typing import Any

import pydantic_core

from kiosk.admin_commands import parse_at, parse_day
from kiosk.domain.desk import KIOSK_TZ
from kiosk.domain.errors import ValidationError
from kiosk.domain.postcodes import PostcodeError, is_valid_postcode, parse_postcode, parse_risk_area
from kiosk.domain.risk import ParsedRiskFile, parse_risk_file
from kiosk.domain.timetable import make_slot, parse_hhmm, parse_weekday
from sync.protocol import MAX_SEQ, BatchRequest, EventResult, validate_event

DEVICE_ID, SITE_ID = "kiosk-1", "library"


def _text(data: bytes) -> str:
    # surrogateescape: bytes that are not UTF-8 become lone surrogates, which a str may hold.
    return data.decode("utf-8", "surrogateescape")


def postcodes(data: bytes) -> None:
    text = _text(data)
    try:
        pc = parse_postcode(text)
    except PostcodeError as exc:
        assert "is not a UK postcode" in str(exc) or "must be text" in str(exc), str(exc)
        assert len(str(exc)) < 400
        assert not is_valid_postcode(text)
    else:
        assert parse_postcode(str(pc)) == pc
        assert is_valid_postcode(text)
        assert str(pc).startswith(pc.sector) and pc.sector.startswith(pc.district)
    try:
        area = parse_risk_area(text)
    except PostcodeError as exc:
        assert "is not a UK" in str(exc), str(exc)
        assert len(str(exc)) < 400
    else:
        assert parse_risk_area(area.value) == area


def risk_file(data: bytes) -> None:
    text = _text(data)
    parsed = parse_risk_file(text)
    assert isinstance(parsed, ParsedRiskFile)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1
    assert list(parsed.problems) == sorted(parsed.problems)
    for number, message in parsed.problems:
        assert 1 <= number <= lines, (number, lines)
        assert message
    for area in parsed.areas:
        assert parse_risk_area(area.value) == area


def _storable(raw: Any) -> None:
    """What the server writes for an event (its raw JSON, the answer) can be written."""
    checked = validate_event(raw, DEVICE_ID, SITE_ID)
    pydantic_core.to_json(checked.raw)
    EventResult(
        event_id=checked.event_id,
        status="accepted" if checked.ok else "rejected",
        reason=checked.reason,
    ).model_dump_json()
    if not checked.ok:
        assert checked.reason and ": " in checked.reason, checked.reason
        return
    event = checked.event
    assert event is not None
    assert 1 <= event.seq <= MAX_SEQ
    event.at.astimezone(UTC)
    event.at.astimezone(KIOSK_TZ)


def wire(data: bytes) -> None:
    """The body of ``POST /api/v1/events`` as the server reads it (json.loads of the bytes)."""
    try:
        body = json.loads(data)
    except (ValueError, RecursionError):  # the server answers 400 or 422
        return
    _storable(body)  # the whole body, as if it were one event
    try:
        batch = BatchRequest.model_validate(body)
    except pydantic_core.ValidationError:  # the server answers 422
        return
    for raw in batch.events:
        _storable(raw)


def admin_times(data: bytes) -> None:
    """``--at``, ``--from``/``--to``, ``--start``/``--end``, ``--weekday`` and ``--date``."""
    text = _text(data)
    try:
        at = parse_at(text)
    except ValidationError:
        pass
    else:
        assert at.tzinfo is not None
        at.astimezone(UTC)  # every event is stored in UTC...
        at.astimezone(KIOSK_TZ)  # ...and the session is found in local time
    with contextlib.suppress(ValidationError):
        parse_day(text, "--from")
    try:
        parsed = parse_hhmm(text)
    except ValidationError:
        pass
    else:
        assert parse_hhmm(parsed.strftime("%H:%M")) == parsed
    with contextlib.suppress(ValidationError):
        parse_weekday(text)
    parts = (text.split("|") + ["", "", "", ""])[:4]
    name, start, end, when = parts
    try:
        slot = make_slot("fuzz", name, start, end, weekday=when or None, on_date=None)
    except ValidationError:
        pass
    else:
        assert slot.start < slot.end
    with contextlib.suppress(ValidationError):
        make_slot("fuzz", name, start, end, weekday=None, on_date=when)


TARGETS: dict[str, Callable[[bytes], None]] = {
    "postcodes": postcodes,
    "risk_file": risk_file,
    "wire": wire,
    "admin_times": admin_times,
}
