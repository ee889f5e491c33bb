"""Damaged files at start: reported, moved to quarantine (never deleted), the kiosk keeps going."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from kiosk.domain.postcodes import parse_risk_area
from kiosk.domain.timetable import Timetable
from kiosk.store import LocalStore
from tests.store.helpers import (
    MONDAY,
    all_day_timetable,
    at,
    attended,
    card_assigned,
    family,
    registered,
)

TUESDAY = MONDAY + timedelta(days=1)


def _quarantined(data_dir: Path) -> dict[str, bytes]:
    folder = data_dir / "quarantine"
    return {p.name: p.read_bytes() for p in folder.iterdir() if not p.name.endswith(".reason.txt")}


def _populated(open_store) -> tuple[LocalStore, list, object]:
    store = open_store()
    fam = family()
    recorded = store.record([registered(fam), card_assigned("04A23B1C", fam)])
    recorded += store.record([attended(fam)])
    recorded += store.record([attended(family("Tue"), day=TUESDAY)])
    store.close()
    return store, recorded, fam


def test_a_garbled_families_file_is_quarantined_and_rebuilt_from_kept_events(
    open_store, data_dir: Path
) -> None:
    _, _, fam = _populated(open_store)
    path = data_dir / "state" / "families.json"
    garbage = b'{"families": {"1": {"value": {"family_id": "F-X", "greet'
    path.write_bytes(garbage)
    store = open_store()
    assert store.family(fam.family_id) == fam
    [problem] = store.problems()
    assert "state/families.json" in problem
    assert "truncated" in problem
    assert "Rebuilt from the 1 families events" in problem
    assert list(_quarantined(data_dir).values()) == [garbage]
    assert store.sync_state()["roster_cursor"] is None  # so the daemon pulls the whole roster


def test_a_truncated_day_file_is_quarantined_and_the_other_days_stay(
    open_store, data_dir: Path
) -> None:
    _, recorded, fam = _populated(open_store)
    path = data_dir / "events" / f"{TUESDAY}.json"
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])
    store = open_store()
    problems = store.problems()
    assert len(problems) == 1
    assert f"events/{TUESDAY}.json" in problems[0] and "truncated" in problems[0]
    assert "1 event(s) not yet sent (seq 4 to 4)" in problems[0]
    assert [e.event_id for e in store.events()] == [e.event_id for e in recorded[:3]]
    assert list(_quarantined(data_dir).values()) == [whole[: len(whole) // 2]]  # kept as found
    assert store.family(fam.family_id) == fam
    assert store.waiting_count() == 3  # the lost one is no longer counted as waiting
    assert [e.seq for e in store.pending(10)] == [1, 2, 3]


def test_seq_numbers_of_a_quarantined_day_are_never_reused(open_store, data_dir: Path) -> None:
    store = open_store()
    for n in range(3):
        store.record([attended(family(f"F{n}"))])
    store.close()
    path = data_dir / "events" / f"{MONDAY}.json"
    path.write_bytes(path.read_bytes()[:-40])  # the newest events are cut off
    reopened = open_store()
    [ev] = reopened.record([attended(family("After"))])
    assert ev.seq == 4
    assert len(_quarantined(data_dir)) == 1


def test_an_unreadable_sync_file_means_kept_events_are_sent_again(
    open_store, data_dir: Path
) -> None:
    store = open_store()
    recorded = [store.record([attended(family(f"F{n}"))])[0] for n in range(4)]
    store.mark_sent([e.event_id for e in recorded[:3]])
    store.mark_rejected(recorded[3].event_id, "bad")
    store.close()
    (data_dir / "sync.json").write_bytes(b"\x00" * 64)
    reopened = open_store()
    assert [e.seq for e in reopened.pending(10)] == [1, 2, 3]  # the rejected one stays aside
    assert reopened.waiting_count() == 3
    [problem] = reopened.problems()
    assert "sync.json" in problem and "sent again" in problem
    assert list(_quarantined(data_dir).values()) == [b"\x00" * 64]


def test_a_garbled_seq_file_is_rebuilt_and_numbering_goes_on(open_store, data_dir: Path) -> None:
    _, recorded, _ = _populated(open_store)
    (data_dir / "seq.json").write_text("{not json")
    store = open_store()
    assert [e.event_id for e in store.events()] == [e.event_id for e in recorded]
    assert store.record([attended(family("Next"))])[0].seq == 5
    assert any("seq.json" in p for p in store.problems())


def test_an_empty_file_is_reported_as_empty(open_store, data_dir: Path) -> None:
    _populated(open_store)
    (data_dir / "state" / "cards.json").write_bytes(b"")
    store = open_store()
    [problem] = store.problems()
    assert "state/cards.json" in problem and "empty" in problem
    assert store.card("04A23B1C") is not None  # rebuilt from the card.assigned event


def test_leftover_temporary_files_are_removed_at_open(open_store, data_dir: Path) -> None:
    _populated(open_store)
    stray = data_dir / "events" / f".{MONDAY}.json.1234.abcd.tmp"
    stray.write_text('{"events": {}}')
    store = open_store()
    assert not stray.exists()
    assert store.problems() == []


def test_a_garbled_timetable_leaves_no_sessions_but_the_kiosk_starts(
    open_store, data_dir: Path
) -> None:
    store = open_store()
    store.save_timetable(all_day_timetable())
    store.close()
    (data_dir / "state" / "timetable.json").write_text('{"slots": {"1": {"slot_id": "x"}}}')
    reopened = open_store()
    assert reopened.timetable() == Timetable()
    assert "timetable.json" in reopened.problems()[0]
    reopened.save_timetable(all_day_timetable())
    assert reopened.timetable() == all_day_timetable()


def test_an_unreadable_risk_version_falls_back_to_the_newest_readable_one(
    open_store, data_dir: Path
) -> None:
    store = open_store()
    first = store.save_risk_list(frozenset({parse_risk_area("WS7")}), "a.csv", at())
    store.save_risk_list(frozenset({parse_risk_area("WS8")}), "b.csv", at())
    store.close()
    (data_dir / "risk" / "v2.json").write_text("[]")
    reopened = open_store()
    assert reopened.risk_list() == first
    assert any("risk/v2.json" in p for p in reopened.problems())
    third = reopened.save_risk_list(frozenset({parse_risk_area("WS9")}), "c.csv", at())
    assert third.number == 3  # a number once used is never used again


def test_a_day_file_damaged_while_the_kiosk_runs_is_quarantined_when_read(
    open_store, data_dir: Path
) -> None:
    _, recorded, _ = _populated(open_store)
    store = open_store()
    path = data_dir / "events" / f"{TUESDAY}.json"
    damaged = data_dir / "events" / "damaged"
    damaged.write_text("garbage")
    os.replace(damaged, path)  # e.g. restored badly from a backup while the app ran
    assert store.attendances_in(f"{TUESDAY}/stay") == []
    assert any(f"events/{TUESDAY}.json" in p for p in store.problems())
    assert list(_quarantined(data_dir).values()) == [b"garbage"]
    assert store.highest_seq() == 4
    assert store.record([attended(family("Next"), day=TUESDAY)])[0].seq == 5


def test_a_day_damaged_inside_is_caught_when_the_outbox_reads_it(
    open_store, data_dir: Path
) -> None:
    _, recorded, _ = _populated(open_store)
    path = data_dir / "events" / f"{MONDAY}.json"
    path.write_text('{"events": {"1": {"not": "an event"}}}')  # ends whole: passes the quick check
    store = open_store()
    assert store.problems() == []
    assert [e.event_id for e in store.pending(10)] == [recorded[3].event_id]
    [problem] = store.problems()
    assert f"events/{MONDAY}.json" in problem and "not a valid event" in problem
    assert store.waiting_count() == len(store.pending(100)) == 1
    assert store.record([attended(family("Next"))])[0].seq == 5


def test_temporary_files_of_other_modules_in_the_data_folder_are_left_alone(
    open_store, data_dir: Path
) -> None:
    store = open_store()
    store.close()
    ours = data_dir / ".sync.json.99.abcd1234.tmp"
    # its writer (this process) still runs: maybe it is being written right now
    theirs = data_dir / f".volunteers.json.{os.getpid()}.abcd1234.tmp"
    ours.write_text("{}")
    theirs.write_text("{}")
    open_store()
    assert not ours.exists()
    assert theirs.exists()
