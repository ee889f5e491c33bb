"""The outbox: pending oldest first, marked sent or rejected durably, pruned after retention."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kiosk.domain.errors import NotFoundError
from kiosk.store import LocalStore
from kiosk.store.durable import AtomicJSONStorage
from tests.store.helpers import MONDAY, at, attended, family, on_both_stores


def _taps(store: LocalStore, n: int, day=MONDAY) -> list:
    return [store.record([attended(family(f"F{i}"), day=day)])[0] for i in range(n)]


@on_both_stores
def test_pending_lists_the_oldest_first_up_to_the_limit(store: LocalStore) -> None:
    recorded = _taps(store, 5)
    assert [e.seq for e in store.pending(3)] == [1, 2, 3]
    assert store.pending(10) == recorded
    assert store.pending(0) == []


@on_both_stores
def test_pending_keeps_seq_order_when_days_interleave(store: LocalStore) -> None:
    a = store.record([attended(family("A"))])[0]
    b = store.record([attended(family("B"), day=MONDAY - timedelta(days=3))])[0]
    c = store.record([attended(family("C"))])[0]
    assert [e.event_id for e in store.pending(10)] == [a.event_id, b.event_id, c.event_id]


def test_events_marked_sent_leave_the_outbox_for_good(open_store) -> None:
    store = open_store()
    recorded = _taps(store, 4)
    store.mark_sent([e.event_id for e in store.pending(2)])
    assert [e.seq for e in store.pending(10)] == [3, 4]
    assert store.waiting_count() == 2
    reopened = open_store()
    assert [e.seq for e in reopened.pending(10)] == [3, 4]
    assert reopened.oldest_waiting() == recorded[2]


@on_both_stores
def test_acknowledgements_out_of_order_keep_the_counts_right(store: LocalStore) -> None:
    recorded = _taps(store, 5)
    store.mark_sent([recorded[3].event_id, recorded[1].event_id])
    assert [e.seq for e in store.pending(10)] == [1, 3, 5]
    assert store.waiting_count() == 3
    store.mark_sent([recorded[0].event_id, recorded[2].event_id])
    assert [e.seq for e in store.pending(10)] == [5]
    assert store.waiting_count() == 1


@on_both_stores
def test_marking_sent_ignores_unknown_and_repeated_ids(store: LocalStore) -> None:
    recorded = _taps(store, 2)
    store.mark_sent(["not-an-event", recorded[0].event_id])
    store.mark_sent([recorded[0].event_id])
    assert store.waiting_count() == 1
    assert store.pending(10) == [recorded[1]]


def test_marking_sent_rewrites_only_the_small_sync_file(
    store: LocalStore, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _taps(store, 60)
    written: list[str] = []
    real_replace = AtomicJSONStorage.replace_file
    monkeypatch.setattr(
        AtomicJSONStorage,
        "replace_file",
        lambda self, payload: written.append(self.path) or real_replace(self, payload),
    )
    store.mark_sent([e.event_id for e in store.pending(50)], at=at(hour=12))
    assert written == [str(data_dir / "sync.json")]
    assert (data_dir / "sync.json").stat().st_size < 300
    assert store.waiting_count() == 10


def test_a_rejected_event_is_kept_aside_with_its_reason(open_store) -> None:
    store = open_store()
    recorded = _taps(store, 3)
    store.mark_rejected(recorded[1].event_id, "unknown session")
    assert [e.seq for e in store.pending(10)] == [1, 3]
    assert store.waiting_count() == 2
    [entry] = open_store().rejected()
    assert entry["event"] == recorded[1].to_dict()
    assert entry["reason"] == "unknown session"
    assert datetime.fromisoformat(entry["at"].replace("Z", "+00:00")).tzinfo is not None


@on_both_stores
def test_an_event_the_server_says_it_holds_is_refused_no_longer(store: LocalStore) -> None:
    first, refused, last = _taps(store, 3)
    store.mark_rejected(refused.event_id, "unknown session")
    [entry] = store.rejected()
    assert (entry["event"]["event_id"], entry["kind"]) == (refused.event_id, "refused")
    assert store.oldest_waiting() == first
    store.mark_sent([first.event_id, refused.event_id])  # a later answer: the server holds it
    assert store.rejected() == []
    assert store.oldest_waiting() == last
    assert store.requeue_from(1) == 2  # the server lost them: both wait again
    assert [e.seq for e in store.pending(10)] == [1, 2, 3]


@on_both_stores
def test_sync_notes_change_only_the_keys_given(store: LocalStore) -> None:
    store.update_sync_state(last_success=datetime(2026, 11, 23, 10, 0, tzinfo=UTC), cursor=7)
    store.update_sync_state(last_error="timeout", cursor=8)
    assert store.sync_state() == {
        "last_success": "2026-11-23T10:00:00+00:00",
        "cursor": 8,
        "last_error": "timeout",
    }


@on_both_stores
def test_rejecting_the_same_event_twice_keeps_one_entry(store: LocalStore) -> None:
    [ev] = _taps(store, 1)
    store.mark_rejected(ev.event_id, "first reason")
    store.mark_rejected(ev.event_id, "second reason")
    assert [r["reason"] for r in store.rejected()] == ["second reason"]


@on_both_stores
def test_rejecting_an_unknown_event_says_so(store: LocalStore) -> None:
    with pytest.raises(NotFoundError, match="no event"):
        store.mark_rejected("nope", "whatever")


def test_prune_drops_only_old_days_that_are_fully_acknowledged(open_store, data_dir: Path) -> None:
    store = open_store(retention_days=30)
    old_acked = _taps(store, 3, day=MONDAY - timedelta(days=40))
    old_waiting = _taps(store, 1, day=MONDAY - timedelta(days=35))
    recent = _taps(store, 2, day=MONDAY - timedelta(days=5))
    store.mark_sent([e.event_id for e in old_acked + recent])
    dropped = store.prune(at(MONDAY))
    assert dropped == 3
    kept_ids = {e.event_id for e in store.events()}
    assert kept_ids == {e.event_id for e in old_waiting + recent}
    assert not (data_dir / "events" / f"{MONDAY - timedelta(days=40)}.json").exists()
    assert store.pending(10) == old_waiting
    assert open_store(retention_days=30).waiting_count() == 1
    assert store.prune(at(MONDAY)) == 0


def test_the_retention_window_is_configurable(open_store) -> None:
    store = open_store(retention_days=90)
    events = _taps(store, 2, day=MONDAY - timedelta(days=40))
    store.mark_sent([e.event_id for e in events])
    assert store.prune(at(MONDAY)) == 0
    assert open_store(retention_days=30).prune(at(MONDAY)) == 2


def test_rejected_events_survive_pruning(store: LocalStore) -> None:
    old = _taps(store, 2, day=MONDAY - timedelta(days=200))
    store.mark_sent([old[0].event_id])
    store.mark_rejected(old[1].event_id, "bad family")
    assert store.prune(at(MONDAY)) == 2
    assert [r["event"]["event_id"] for r in store.rejected()] == [old[1].event_id]


def test_seq_keeps_rising_after_every_day_is_pruned(open_store) -> None:
    store = open_store()
    old = _taps(store, 3, day=MONDAY - timedelta(days=200))
    store.mark_sent([e.event_id for e in old])
    assert store.prune(at(MONDAY)) == 3
    assert list(store.events()) == []
    reopened = open_store()
    assert reopened.highest_seq() == 3
    assert reopened.record([attended(family("New"))])[0].seq == 4
    assert reopened.waiting_count() == 1


@on_both_stores
def test_requeue_sends_kept_events_again_after_the_server_lost_them(store: LocalStore) -> None:
    recorded = _taps(store, 5)
    store.mark_sent([e.event_id for e in recorded])
    store.mark_rejected(recorded[3].event_id, "bad")
    assert store.waiting_count() == 0
    assert store.requeue_from(3) == 2  # seq 3 and 5; 4 stays rejected
    assert [e.seq for e in store.pending(10)] == [3, 5]
    assert store.waiting_count() == 2


def test_sync_notes_round_trip_and_survive_reopening(open_store) -> None:
    store = open_store()
    when = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    store.update_sync_state(last_success=when, roster_cursor="abc", last_error=None)
    store.update_sync_state(server_holds_up_to=12)
    expected = {
        "last_success": when.isoformat(),
        "roster_cursor": "abc",
        "last_error": None,
        "server_holds_up_to": 12,
    }
    assert store.sync_state() == expected
    assert open_store().sync_state() == expected


def test_sync_notes_do_not_disturb_the_outbox(store: LocalStore, data_dir: Path) -> None:
    recorded = _taps(store, 3)
    store.mark_sent([recorded[0].event_id])
    store.update_sync_state(last_error="timeout")
    assert store.waiting_count() == 2
    assert json.loads((data_dir / "sync.json").read_text())["outbox"]["1"]["acked_through"] == 1


@on_both_stores
def test_an_empty_store_has_nothing_waiting(store: LocalStore) -> None:
    assert store.waiting_count() == 0
    assert store.oldest_waiting() is None
    assert store.pending(5) == []
    assert store.highest_seq() == 0
    assert store.rejected() == []
    assert store.sync_state() == {}
