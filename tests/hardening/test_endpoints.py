"""Every endpoint refuses oversized, malformed and out-of-organisation input with a clear 4xx
(or, inside a batch, a per-event refusal naming the field) and changes nothing it should not.

Runs against a real server process on loopback, over SQLite and (with
``KIOSK_TEST_POSTGRES_URL``) PostgreSQL, whose column types are stricter.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
import requests

from kiosk.domain.events import DeviceIdentity, Event
from sync.protocol import (
    DEVICE_PATH,
    EVENTS_PATH,
    GAPS_PATH,
    MAX_BATCH_EVENTS,
    MAX_BODY_BYTES,
    MAX_SEQ,
    ROSTER_PATH,
    SETUP_PATH,
)
from tests.hardening.conftest import World
from tests.sync.fakes import amendment, attendance, registration

#: Tables a batch of refused events may add to: refused events are kept, by design, so the
#: server can say it holds their seqs (DESIGN.md, Sync).
KEEPS_REFUSED = frozenset({"rejections", "devices"})


def _events(world: World, device: DeviceIdentity, events: list[Event]) -> list[dict[str, Any]]:
    start = world.db.highest_seq(device.device_id) + 1
    return [e.with_seq(n).to_dict() for n, e in enumerate(events, start=start)]


def _north_family(world: World) -> list[dict[str, Any]]:
    device = DeviceIdentity(world.north.device, world.north.site)
    _family, events = registration(device, uid="0E0E0E0E")
    return _events(world, device, events)


def _assert_refused(response: requests.Response, status: int, *words: str) -> str:
    assert response.status_code == status, (response.status_code, response.text[:500])
    detail = response.json()["detail"]
    text = detail if isinstance(detail, str) else json.dumps(detail)
    for word in words:
        assert word in text, (word, text[:500])
    return text


# -- whole requests that are too big -----------------------------------------------------------
@pytest.mark.parametrize("path", [EVENTS_PATH, GAPS_PATH])
def test_a_body_over_the_limit_is_413_and_changes_nothing(world: World, path: str):
    before = world.snapshot()
    body = b'{"events": [' + b" " * MAX_BODY_BYTES + b"]}"
    response = world.post(path, data=body, headers={"Content-Type": "application/json"})
    _assert_refused(response, 413, f"larger than {MAX_BODY_BYTES} bytes")
    assert world.snapshot() == before


def test_a_streamed_body_over_the_limit_is_413_and_changes_nothing(world: World):
    before = world.snapshot()
    events = json.dumps(_north_family(world)).encode()

    def chunks():  # no Content-Length: the server counts as it reads
        yield b'{"events": ' + events[:-1]
        for _ in range(MAX_BODY_BYTES // 4096 + 1):
            yield b", " + b" " * 4094
        yield b"]}"

    response = world.post(EVENTS_PATH, data=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert world.snapshot() == before


def test_a_batch_over_the_event_limit_is_413_naming_the_limit(world: World):
    before = world.snapshot()
    device = DeviceIdentity(world.north.device, world.north.site)
    template = _events(world, device, registration(device)[1])[0]
    batch = [{**template, "seq": template["seq"] + n} for n in range(MAX_BATCH_EVENTS + 1)]
    response = world.post(EVENTS_PATH, {"events": batch})
    _assert_refused(response, 413, f"batch of {MAX_BATCH_EVENTS + 1} events", "send fewer")
    assert world.snapshot() == before


def test_too_many_gaps_is_422_naming_the_field(world: World):
    before = world.snapshot()
    gaps = [{"from_seq": n, "to_seq": n, "kind": "lost"} for n in range(1, MAX_BATCH_EVENTS + 2)]
    response = world.post(GAPS_PATH, {"gaps": gaps})
    _assert_refused(response, 422, '"gaps"', "too_long")
    assert world.snapshot() == before


# -- malformed bodies --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b'{"events": [', 422, ["JSON decode error"]),
        (b'{"events": []} trailing', 422, ["JSON decode error"]),
        (b"", 422, ["body", "missing"]),
        (b"null", 422, ["body"]),
        (b"[]", 422, ["body"]),
        (b'"events"', 422, ["body"]),
        (b'{"events": "all of them"}', 422, ['"events"']),
        (b'{"events": [1, "two", null]}', 422, ['"events", 0']),
        (b'{"evnets": []}', 422, ['"events"', "missing"]),
        (b"[" * 100_000 + b"]" * 100_000, 400, []),  # deeper than any JSON parser goes
        (b'{"events": ["\xff\xfe"]}', 400, ["not UTF-8"]),
    ],
)
def test_a_malformed_body_is_4xx_naming_the_problem(world: World, body, status, words):
    before = world.snapshot()
    response = world.post(EVENTS_PATH, data=body, headers={"Content-Type": "application/json"})
    _assert_refused(response, status, *words)
    assert world.snapshot() == before


@pytest.mark.parametrize(
    "body",
    [
        b'{"gaps": [{"from_seq": 5, "to_seq": 1, "kind": "lost"}]}',
        b'{"gaps": [{"from_seq": 1, "to_seq": 2, "kind": "stolen"}]}',
        b'{"gaps": [{"from_seq": 1, "to_seq": 2, "kind": "lost", "extra": 1}]}',
        b'{"gaps": [{"from_seq": 0, "to_seq": 2, "kind": "lost"}]}',
        b'{"gaps": [{"from_seq": "1", "to_seq": 2, "kind": "lost"}]}',
        b'{"gaps": [{"from_seq": 1, "to_seq": 9223372036854775808, "kind": "lost"}]}',
        b'{"gaps": [{"from_seq": 1, "to_seq": 2, "kind": "lost", "events": 4294967296}]}',
        b'{"gaps": [{"from_seq": 1, "to_seq": 2, "kind": "lost", "detail": "'
        + b"x" * 501
        + b'"}]}',
    ],
)
def test_a_malformed_gap_report_is_422_and_writes_nothing_off(world: World, body):
    before = world.snapshot()
    response = world.post(GAPS_PATH, data=body, headers={"Content-Type": "application/json"})
    _assert_refused(response, 422, '"gaps", 0')
    assert world.snapshot() == before


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        None,
    ],
)
@pytest.mark.parametrize("path", [EVENTS_PATH, GAPS_PATH])
def test_a_body_not_declared_as_json_is_415_naming_the_content_type(world, path, content_type):
    before = world.snapshot()
    body = json.dumps({"events": _north_family(world), "gaps": []}).encode()
    headers = {"Content-Type": content_type} if content_type else {}
    session = requests.Session()
    request = requests.Request(
        "POST",
        world.url + path,
        data=body,
        headers={"Authorization": f"Bearer {world.north.token}", **headers},
    ).prepare()
    if content_type is None:
        request.headers.pop("Content-Type", None)
    response = session.send(request, timeout=60)
    shown = repr(content_type.split(";")[0]) if content_type else "(none)"
    _assert_refused(response, 415, f"Content-Type {shown}", "application/json")
    assert world.snapshot() == before


def test_json_with_a_charset_or_a_json_suffix_is_accepted(world: World):
    for content_type in ("application/json; charset=utf-8", "application/vnd.doorstep+json"):
        response = world.post(
            EVENTS_PATH, data=b'{"events": []}', headers={"Content-Type": content_type}
        )
        assert response.status_code == 200, response.text
    # A UTF-8 byte-order mark (Windows editors write one) is read past, as JSON allows.
    response = world.post(
        EVENTS_PATH,
        data=b'\xef\xbb\xbf{"events": []}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text


# -- who is asking -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("header", "status", "words"),
    [
        (None, 401, ["missing bearer token"]),
        ("Bearer ", 401, []),
        ("Bearer dsk_not-a-token", 401, ["unknown device token"]),
        ("Basic a2lvc2s6cGFzcw==", 401, []),
        ("Bearer " + "x" * 10_000, 401, ["unknown device token"]),
    ],
)
@pytest.mark.parametrize("path", [EVENTS_PATH, GAPS_PATH, ROSTER_PATH, DEVICE_PATH, SETUP_PATH])
def test_no_or_a_wrong_token_is_401_and_changes_nothing(world, path, header, status, words):
    before = world.snapshot()
    headers = {"Authorization": header} if header else {}
    if path in (EVENTS_PATH, GAPS_PATH):
        body = {"events": _north_family(world), "gaps": [{"from_seq": 1, "to_seq": 1}]}
        response = requests.post(world.url + path, json=body, headers=headers, timeout=60)
    else:
        response = requests.get(world.url + path, headers=headers, timeout=60)
    _assert_refused(response, status, *words)
    assert world.snapshot() == before


def test_a_revoked_device_is_403_and_changes_nothing(world: World):
    from tests.sync.servers import enrol

    gone = enrol(world.db, "north", "library", "k-north-revoked")
    world.db.revoke_device("k-north-revoked")
    before = world.snapshot()
    device = DeviceIdentity(gone.device, gone.site)
    events = [e.with_seq(n).to_dict() for n, e in enumerate(registration(device)[1], 1)]
    _assert_refused(world.post(EVENTS_PATH, {"events": events}, token=gone.token), 403, "revoked")
    gaps = {"gaps": [{"from_seq": 1, "to_seq": 3, "kind": "lost"}]}
    _assert_refused(world.post(GAPS_PATH, gaps, token=gone.token), 403, "revoked")
    for path in (ROSTER_PATH, DEVICE_PATH, SETUP_PATH):
        _assert_refused(world.get(path, token=gone.token), 403, "revoked")
    assert world.snapshot() == before


# -- out-of-organisation, out-of-site, out-of-device -------------------------------------------
def _reasons(response: requests.Response) -> list[str]:
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert {r["status"] for r in results} == {"rejected"}, results
    return [r["reason"] for r in results]


def test_events_about_another_organisations_family_are_refused_and_change_nothing(world):
    north = DeviceIdentity(world.north.device, world.north.site)
    own, _ = registration(north)  # a family id north may use
    theirs = replace(own, family_id=world.south_family_id, greeting_name="Taken over")
    at = attendance(north, own).at
    # South's attendance, as if north had recorded it, so north can try to amend it.
    south_attendance = replace(attendance(north, own), event_id=world.south_attendance_id)
    events = [
        # Rename south's family, take over its card, sign it in, amend south's register.
        Event("member.updated", at, {"family": theirs.to_dict()}, north.device_id, north.site_id),
        Event(
            "card.assigned",
            at,
            {"uid": world.south_card, "family_id": world.south_family_id, "volunteer": None},
            north.device_id,
            north.site_id,
        ),
        attendance(north, theirs),
        amendment(north, south_attendance, [], at),
    ]
    before = world.snapshot(skip=KEEPS_REFUSED)
    reasons = _reasons(world.post(EVENTS_PATH, {"events": _events(world, north, events)}))
    assert reasons[0].startswith(f"data.family.family_id: family {world.south_family_id} ")
    assert reasons[1].startswith(f"data.family_id: family {world.south_family_id} ")
    assert reasons[2].startswith(f"data.family_id: family {world.south_family_id} ")
    assert reasons[3].startswith(f"data.attendance_id: attendance {world.south_attendance_id} ")
    assert all(r.endswith("belongs to another organisation") for r in reasons), reasons
    assert world.snapshot(skip=KEEPS_REFUSED) == before


def test_events_claiming_another_device_or_site_are_refused_naming_the_field(world: World):
    north = DeviceIdentity(world.north.device, world.north.site)
    cases = {
        "device_id": DeviceIdentity(world.south.device, world.north.site),
        "site_id": DeviceIdentity(world.north.device, world.north_hall.site),
    }
    before = world.snapshot(skip=KEEPS_REFUSED)
    for field, claimed in cases.items():
        events = _events(world, north, registration(claimed)[1])
        reasons = _reasons(world.post(EVENTS_PATH, {"events": events}))
        assert reasons[0].startswith(f"{field}: "), reasons
    # The other organisation's own device, sending as itself, cannot reach north either.
    south_events = _events(
        world,
        DeviceIdentity(world.south.device, world.south.site),
        registration(north)[1],
    )
    reasons = _reasons(world.post(EVENTS_PATH, {"events": south_events}, token=world.south.token))
    assert reasons[0].startswith("device_id: 'k-north' is not the device this token belongs to")
    assert world.snapshot(skip=KEEPS_REFUSED) == before


def test_the_roster_never_shows_another_organisations_families(world: World):
    seen: list[dict] = []
    cursor = 0
    while True:
        page = world.get(ROSTER_PATH, params={"cursor": cursor, "own_through": MAX_SEQ}).json()
        seen.extend(page["events"])
        cursor = page["cursor"]
        if not page["more"]:
            break
    assert all(e["device_id"] != world.south.device for e in seen)
    assert world.south_family_id not in json.dumps(seen)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"cursor": -1}, "cursor"),
        ({"cursor": MAX_SEQ + 1}, "cursor"),
        ({"cursor": "99999999999999999999999"}, "cursor"),
        ({"cursor": "ten"}, "cursor"),
        ({"own_through": 2**63}, "own_through"),
        ({"limit": 0}, "limit"),
        ({"limit": 10_000}, "limit"),
    ],
)
def test_out_of_range_query_parameters_are_422_naming_them(world: World, params, field):
    _assert_refused(world.get(ROSTER_PATH, params=params), 422, f'"{field}"')


def test_an_overlong_risk_version_query_is_422(world: World):
    _assert_refused(world.get(SETUP_PATH, params={"have_risk": "v" * 65}), 422, '"have_risk"')


def test_unknown_methods_are_405_and_unknown_paths_404(world: World):
    assert requests.put(world.url + EVENTS_PATH, timeout=30).status_code == 405
    assert requests.delete(world.url + ROSTER_PATH, timeout=30).status_code == 405
    assert requests.get(world.url + "/api/v1/nothing", timeout=30).status_code == 404


# -- regressions: input that crashed the server (a 500) before this issue ---------------------
def _deep(depth: int) -> Any:
    value: Any = "deep"
    for _ in range(depth):
        value = [value]
    return value


REGRESSIONS = [
    # PostgreSQL refused these with "value too long" (a 500 that stalled the kiosk forever).
    ("data.family.postcode", lambda r: r["data"]["family"].update(postcode="P" * 17)),
    ("data.family.heard_from", lambda r: r["data"]["family"].update(heard_from="h" * 41)),
    ("data.family.language", lambda r: r["data"]["family"].update(language="l" * 21)),
    (
        "data.family.children.0.born",
        lambda r: r["data"]["family"]["children"][0].update(born="2024-03-01"),
    ),
    # PostgreSQL text cannot hold NUL.
    ("data.family.greeting_name", lambda r: r["data"]["family"].update(greeting_name="A\x00B")),
    # Numbers and times the database cannot hold.
    ("seq", lambda r: r.update(seq=2**63)),
    ("at", lambda r: r.update(at="0001-01-01T00:00:00+01:00")),
    ("at", lambda r: r.update(at="9999-12-31T23:59:59-01:00")),
    # JSON the server could parse but not store again as JSON.
    ("data.note", lambda r: r["data"].update(note="\ud800")),
    ("data.note", lambda r: r["data"].update(note=_deep(300))),
]


@pytest.mark.parametrize(("field", "change"), REGRESSIONS, ids=[f for f, _ in REGRESSIONS])
def test_input_that_crashed_the_server_is_refused_naming_the_field(world: World, field, change):
    raw = _north_family(world)[0]
    change(raw)
    before = world.snapshot(skip=KEEPS_REFUSED)
    body = json.dumps({"events": [raw]}, ensure_ascii=True).encode()
    response = world.post(EVENTS_PATH, data=body, headers={"Content-Type": "application/json"})
    (reason,) = _reasons(response)
    assert reason.startswith(f"{field}"), reason
    assert world.snapshot(skip=KEEPS_REFUSED) == before
    # The server still works, and the next good batch from the same kiosk goes in.
    good = _north_family(world)
    answer = world.post(EVENTS_PATH, {"events": good})
    assert [r["status"] for r in answer.json()["results"]] == ["accepted"] * len(good)


def test_a_surrogate_event_id_is_answered_without_echoing_it(world: World):
    raw = _north_family(world)[0]
    raw["event_id"] = "\ud800"
    body = json.dumps({"events": [raw]}, ensure_ascii=True).encode()
    response = world.post(EVENTS_PATH, data=body, headers={"Content-Type": "application/json"})
    (reason,) = _reasons(response)
    assert reason.startswith("event_id: text that is not valid Unicode")


@pytest.mark.parametrize("cursor", [MAX_SEQ + 1, 2**63, 10**30])
def test_a_huge_roster_cursor_is_422_not_500(world: World, cursor: int):
    _assert_refused(world.get(ROSTER_PATH, params={"cursor": cursor}), 422, '"cursor"')
