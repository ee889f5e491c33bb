"""A sync pass against an in-memory store and a scripted server: what is sent, what is marked."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kiosk.domain.events import DeviceIdentity
from sync.client import AuthRefused, BatchTooLarge, ProtocolMismatch, ServerUnreachable
from sync.protocol import EventResult, RosterResponse
from sync.status import sync_status_lines
from sync.syncer import Syncer
from tests.fakes.store import MemoryStore
from tests.sync.fakes import T0, ScriptedClient, registration, taps

DEVICE = DeviceIdentity("k1", "s1")


@pytest.fixture
def store():
    return MemoryStore()


@pytest.fixture
def client():
    return ScriptedClient(DEVICE)


def test_pending_events_go_oldest_first_in_bounded_batches(store, client):
    recorded = store.record(taps(DEVICE, 25))
    report = Syncer(store, client, batch_size=10).run_pass()
    assert report.outcome == "ok"
    assert [len(b) for b in client.batches] == [10, 10, 5]
    assert [e["seq"] for b in client.batches for e in b] == [e.seq for e in recorded]
    assert store.waiting_count() == 0
    assert report.accepted == 25


def test_events_are_marked_sent_only_when_the_answer_names_them(store, client):
    store.record(taps(DEVICE, 6))
    client.answer = lambda batch, results: results[:4]  # the server "forgets" two
    report = Syncer(store, client, batch_size=10).run_pass()
    assert isinstance(report.error, ProtocolMismatch)
    assert "did not answer for 2 of 6" in str(report.error)
    assert store.waiting_count() == 2  # the four named were marked sent
    assert [e.seq for e in store.pending(10)] == [5, 6]


def test_duplicates_are_marked_sent_like_accepted_ones(store, client):
    events = store.record(taps(DEVICE, 5))
    client.held = {e.event_id: e.to_dict() for e in events[:3]}  # the server already has 3
    report = Syncer(store, client).run_pass()
    assert (report.accepted, report.duplicate) == (2, 3)
    assert store.waiting_count() == 0


def test_rejected_events_are_set_aside_with_the_reason_and_not_sent_again(store, client):
    events = store.record(taps(DEVICE, 5))
    bad = events[2].event_id

    def reject_one(batch, results):
        return [
            EventResult(event_id=r.event_id, status="rejected", reason="data.qualifies: bad")
            if r.event_id == bad
            else r
            for r in results
        ]

    client.answer = reject_one
    report = Syncer(store, client).run_pass()
    assert report.rejected == 1
    # Set aside, and not marked sent (that would take it off the list: the server holds it).
    refused = [(r["event"], r["reason"], r["kind"]) for r in store.rejected()]
    assert refused == [(events[2].to_dict(), "data.qualifies: bad", "refused")]
    assert store.waiting_count() == 0

    client.batches.clear()
    Syncer(store, client).run_pass()
    assert client.batches == []  # nothing re-sent blindly


def test_413_halves_the_batch_down_to_one(store, client):
    store.record(taps(DEVICE, 9))
    client.max_batch = 2
    report = Syncer(store, client, batch_size=16).run_pass()
    assert [len(b) for b in client.batches] == [9, 8, 4, 2, 2, 2, 2, 1]
    assert report.outcome == "ok"
    assert store.waiting_count() == 0


def test_an_event_refused_as_too_large_even_alone_is_set_aside_not_retried_for_ever(store, client):
    events = store.record(taps(DEVICE, 3))
    client.fail = [BatchTooLarge("HTTP 413")] * 2  # 3 -> 1, then that one alone is too big
    report = Syncer(store, client, batch_size=3).run_pass()
    assert report.rejected == 1
    assert "too large" in store.rejected()[0]["reason"]
    assert store.rejected()[0]["event"]["event_id"] == events[0].event_id
    assert store.waiting_count() == 0  # the other two went through


def test_server_unreachable_marks_nothing_and_records_the_error(store, client):
    store.record(taps(DEVICE, 4))
    client.fail = [ServerUnreachable("cannot reach central: connection refused")]
    report = Syncer(store, client).run_pass()
    assert report.outcome == "unreachable"
    assert store.waiting_count() == 4  # nothing marked sent
    state = store.sync_state()
    assert state["last_error"].startswith("unreachable: cannot reach central")
    assert state["backlog"] == 4
    assert "last_success" not in state


def test_a_refused_token_stops_sending_and_says_so(store, client):
    store.record(taps(DEVICE, 4))
    client.fail = [AuthRefused("the server refused this kiosk's token (HTTP 401)", 401)]
    syncer = Syncer(store, client, batch_size=2)
    report = syncer.run_pass()
    assert report.outcome == "auth"
    assert len(client.batches) == 1  # stopped after the first refusal
    assert store.waiting_count() == 4  # nothing marked sent
    assert "token" in store.sync_state()["last_error"]
    assert store.sync_state()["auth_refused"]
    assert syncer.identity is None  # asked again once the token is fixed


def test_a_token_issued_to_another_kiosk_sends_nothing(store, client):
    store.record(taps(DeviceIdentity("kiosk-other", "s1"), 3))
    report = Syncer(store, client).run_pass()
    assert report.outcome == "auth"
    assert "belongs to device 'k1'" in str(report.error)
    assert client.batches == []
    assert store.rejected() == []


def test_nothing_to_send_is_a_quiet_success(store, client):
    report = Syncer(store, client).run_pass()
    assert report.outcome == "ok"
    assert client.batches == [] and client.whoami_calls == 0
    assert store.sync_state()["last_success"]


def test_success_after_failure_clears_the_error_and_records_the_servers_watermark(store, client):
    store.record(taps(DEVICE, 3))
    client.fail = [ServerUnreachable("down")]
    Syncer(store, client).run_pass()
    Syncer(store, client).run_pass()
    state = store.sync_state()
    assert state["last_error"] is None
    assert state["server_holds_up_to"] == 3
    assert state["backlog"] == 0


def test_the_roster_is_pulled_page_by_page_and_the_cursor_kept(store, client):
    other = DeviceIdentity("k2", "s2")
    family, events = registration(other, T0, uid="0A0B0C0D")
    raw = [e.with_seq(i + 1).to_dict() for i, e in enumerate(events)]
    client.roster_pages = [
        RosterResponse(events=raw[:1], cursor=7, more=True),
        RosterResponse(events=raw[1:], cursor=9, more=False),
    ]
    report = Syncer(store, client).run_pass()
    assert report.roster_applied == 2
    assert client.roster_cursors == [0, 7]
    assert store.sync_state()["roster_cursor"] == 9
    assert store.card("0A0B0C0D").family_id == family.family_id

    Syncer(store, client).run_pass()
    assert client.roster_cursors[-1] == 9


def test_a_malformed_roster_event_is_skipped_not_fatal(store, client):
    _, events = registration(DeviceIdentity("k2", "s2"), T0)
    good = events[0].with_seq(1).to_dict()
    client.roster_pages = [RosterResponse(events=[{"type": "nonsense"}, good], cursor=2)]
    report = Syncer(store, client).run_pass()
    assert report.outcome == "ok"
    assert report.roster_applied == 1


def test_status_lines_show_what_an_admin_needs(store, client):
    events = store.record(taps(DEVICE, 4))
    client.answer = lambda batch, results: [
        EventResult(event_id=r.event_id, status="rejected", reason="nope")
        if r.event_id == events[0].event_id
        else r
        for r in results
    ]
    Syncer(store, client).run_pass()
    store.record(taps(DEVICE, 1, start=T0 + timedelta(hours=1)))
    lines = dict(sync_status_lines(store))
    assert lines["last_error"] == "none"
    assert lines["last_success"].endswith("Z")
    assert lines["waiting"].startswith("1 event(s), oldest from 2026-11-23T10:30:00Z")
    assert lines["rejected"].startswith("1 event(s) set aside")
    assert lines["server_holds_up_to"] == "4"
    assert "token" not in lines


def test_status_lines_before_any_sync_and_after_a_refused_token(store, client):
    assert dict(sync_status_lines(store))["last_success"] == "never"
    store.record(taps(DEVICE, 1))
    client.fail = [AuthRefused("refused", 403)]
    Syncer(store, client).run_pass()
    lines = dict(sync_status_lines(store))
    assert lines["token"].startswith("REFUSED by the server")
    assert lines["last_error"].startswith("auth: refused")


def test_a_stop_request_ends_the_pass_between_batches(store, client):
    store.record(taps(DEVICE, 10))
    stop = {"now": False}

    def answer(batch, results):
        stop["now"] = True
        return results

    client.answer = answer
    Syncer(store, client, batch_size=3, should_stop=lambda: stop["now"]).run_pass()
    assert len(client.batches) == 1
    assert store.waiting_count() == 7


def test_batch_size_is_bounded(store, client):
    with pytest.raises(ValueError):
        Syncer(store, client, batch_size=0)
    with pytest.raises(ValueError):
        Syncer(store, client, batch_size=100_000)


def test_the_watchdog_heartbeat_beats_after_every_request(store, client):
    store.record(taps(DEVICE, 7))
    beats = []
    Syncer(store, client, batch_size=3, heartbeat=lambda: beats.append(1)).run_pass()
    assert len(client.batches) == 3
    assert len(beats) == 3 + 1  # three batches and one roster page
