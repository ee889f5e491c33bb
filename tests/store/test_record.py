"""Recording events: durable, all or none, idempotent, gap-free seq numbers, day files."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.domain.attendance import replay_attendances
from kiosk.domain.desk import DoorDesk
from kiosk.domain.errors import ValidationError
from kiosk.store import LocalStore
from kiosk.store.durable import AtomicJSONStorage
from kiosk.store.journal import DayJournal
from tests.store.helpers import (
    DEVICE,
    MONDAY,
    amended,
    at,
    attended,
    family,
    on_both_stores,
    registered,
    stay_and_play,
)


@on_both_stores
def test_record_gives_gap_free_seq_numbers_from_one(store: LocalStore) -> None:
    fams = [family(f"F{n}") for n in range(3)]
    first = store.record([attended(fams[0])])
    rest = store.record([attended(fams[1]), attended(fams[2])])
    assert [e.seq for e in first + rest] == [1, 2, 3]
    assert store.highest_seq() == 3


@on_both_stores
def test_a_recorded_event_reads_back_exactly(store: LocalStore) -> None:
    original = attended(family())
    [stored] = store.record([original])
    [read] = list(store.events())
    assert read == stored
    assert read.to_dict() == {**original.to_dict(), "seq": 1}


@on_both_stores
def test_recording_the_same_event_again_returns_the_stored_one(store: LocalStore) -> None:
    original = attended(family())
    [first] = store.record([original])
    [again] = store.record([original])
    assert again == first
    assert again.seq == 1
    assert [e.event_id for e in store.events()] == [original.event_id]
    assert store.highest_seq() == 1


@on_both_stores
def test_an_event_twice_in_one_batch_is_stored_once(store: LocalStore) -> None:
    ev = attended(family())
    result = store.record([ev, ev])
    assert [e.seq for e in result] == [1, 1]
    assert len(list(store.events())) == 1


@on_both_stores
def test_a_re_recorded_event_in_a_mixed_batch_keeps_its_seq(store: LocalStore) -> None:
    a, b = attended(family("A")), attended(family("B"))
    store.record([a])
    result = store.record([a, b])
    assert [e.seq for e in result] == [1, 2]


def test_seq_numbers_continue_without_gaps_after_reopening(open_store) -> None:
    first = open_store()
    first.record([attended(family("A"))])
    first.record([attended(family("B"), day=MONDAY + timedelta(days=1))])
    first.close()
    second = open_store()
    [ev] = second.record([attended(family("C"))])
    assert ev.seq == 3
    assert [e.seq for e in second.events()] == [1, 2, 3]


@on_both_stores
def test_events_come_out_in_seq_order_whatever_their_day(store: LocalStore) -> None:
    later = attended(family("Later"), day=MONDAY + timedelta(days=7))
    earlier = attended(family("Paper"), day=MONDAY - timedelta(days=7))  # typed in afterwards
    today = attended(family("Today"))
    store.record([later])
    store.record([earlier])
    store.record([today])
    assert [e.event_id for e in store.events()] == [
        later.event_id,
        earlier.event_id,
        today.event_id,
    ]
    assert [e.seq for e in store.events()] == [1, 2, 3]


@on_both_stores
def test_events_can_be_limited_to_a_range_of_days(store: LocalStore) -> None:
    evs = [attended(family(f"F{n}"), day=MONDAY + timedelta(days=n)) for n in range(5)]
    for ev in evs:
        store.record([ev])
    picked = list(store.events(since=MONDAY + timedelta(days=1), until=MONDAY + timedelta(days=3)))
    assert [e.event_id for e in picked] == [e.event_id for e in evs[1:4]]


def test_a_batch_over_two_days_that_fails_half_way_is_not_recorded(
    open_store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store()
    store.record([attended(family("Before"))])
    monday, tuesday = attended(family("A")), attended(family("B"), day=MONDAY + timedelta(days=1))
    real_append = DayJournal.append

    def append_then_fail_on_tuesday(self: DayJournal, events):
        if self.day != MONDAY:
            raise OSError(28, "No space left on device")
        return real_append(self, events)

    monkeypatch.setattr(DayJournal, "append", append_then_fail_on_tuesday)
    with pytest.raises(OSError):
        store.record([monday, tuesday])
    monkeypatch.undo()
    reopened = open_store()
    ids = [e.event_id for e in reopened.events()]
    assert monday.event_id not in ids and tuesday.event_id not in ids
    assert reopened.highest_seq() == 1
    [next_event] = reopened.record([attended(family("After"))])
    assert next_event.seq == 2
    # the store that saw the failure repairs itself on its next call too
    assert store.highest_seq() == 2


@on_both_stores
def test_a_batch_over_two_days_is_written_whole(store: LocalStore) -> None:
    monday, tuesday = attended(family("A")), attended(family("B"), day=MONDAY + timedelta(days=1))
    result = store.record([monday, tuesday])
    assert [e.seq for e in result] == [1, 2]
    assert store.attendances_in(f"{MONDAY}/stay")[0].attendance_id == monday.event_id
    assert (
        store.attendances_in(f"{MONDAY + timedelta(days=1)}/stay")[0].attendance_id
        == tuesday.event_id
    )


def test_an_attendance_is_filed_under_its_session_day(store: LocalStore, data_dir: Path) -> None:
    last_week = MONDAY - timedelta(days=7)
    paper = attended(family(), day=last_week, when=at(MONDAY, 15))  # typed in a week later
    store.record([paper])
    assert (data_dir / "events" / f"{last_week}.json").exists()
    assert [a.attendance_id for a in store.attendances_in(f"{last_week}/stay")] == [paper.event_id]


def test_other_events_are_filed_under_their_london_day(store: LocalStore, data_dir: Path) -> None:
    # 23:30 UTC on 2026-06-30 is already 1 July in London (BST)
    from datetime import UTC, datetime

    store.record([registered(family(), datetime(2026, 6, 30, 23, 30, tzinfo=UTC))])
    assert (data_dir / "events" / "2026-07-01.json").exists()


@on_both_stores
def test_attendances_in_a_session_have_amendments_applied(store: LocalStore) -> None:
    fam = family(children=(("Ava", None), ("Ben", None)))
    [rec] = store.record([attended(fam)])
    [att] = store.attendances_in(f"{MONDAY}/stay")
    store.record([amended(att, [fam.children[1].child_id])])
    [after] = store.attendances_in(f"{MONDAY}/stay")
    assert after.attendance_id == rec.event_id
    assert after.children == (fam.children[1].child_id,)
    assert store.attendances_in(f"{MONDAY}/other") == []


@on_both_stores
def test_attendances_between_days_replay_every_kept_session(store: LocalStore) -> None:
    fams = [family(f"F{n}") for n in range(3)]
    for n, fam in enumerate(fams):
        store.record([attended(fam, day=MONDAY + timedelta(days=n))])
    got = store.attendances(since=MONDAY + timedelta(days=1))
    assert [a.family_id for a in got] == [fams[1].family_id, fams[2].family_id]
    assert len(store.attendances()) == 3


@on_both_stores
def test_record_refuses_what_is_not_an_event(store: LocalStore) -> None:
    with pytest.raises(ValidationError):
        store.record([{"type": "attendance.recorded"}])  # type: ignore[list-item]
    assert store.highest_seq() == 0


def test_a_busy_day_is_kept_in_small_parts(open_store, data_dir: Path) -> None:
    store = open_store(events_per_part=5)
    fams = [family(f"F{n}") for n in range(12)]
    for fam in fams:
        store.record([attended(fam)])
    names = sorted(p.name for p in (data_dir / "events").iterdir())
    assert names == [f"{MONDAY}.1.json", f"{MONDAY}.2.json", f"{MONDAY}.json"]
    sizes = [len(json.loads((data_dir / "events" / n).read_text())["events"]) for n in names]
    assert sorted(sizes) == [2, 5, 5]
    assert len(store.attendances_in(f"{MONDAY}/stay")) == 12
    assert len(open_store(events_per_part=5).attendances_in(f"{MONDAY}/stay")) == 12


def test_a_tap_rewrites_one_small_file_only(
    open_store, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(events_per_part=10)
    desk = DoorDesk(store, DEVICE)
    store.save_timetable(stay_and_play())
    uids = [f"04A23B{n:02X}" for n in range(30)]
    for n, uid in enumerate(uids):
        desk.register_family(f"Fam {n}", "WS7 1AA", [("Kid", None)], at(), card_uid=uid)
    written: list[str] = []
    real_replace = AtomicJSONStorage.replace_file

    def spy(self: AtomicJSONStorage, payload: bytes) -> None:
        written.append(self.path)
        real_replace(self, payload)

    monkeypatch.setattr(AtomicJSONStorage, "replace_file", spy)
    for uid in uids:
        written.clear()
        assert desk.tap(uid, at()).kind == "welcome"
        assert len(written) == 1
        assert Path(written[0]).parent == data_dir / "events"
        assert len(json.loads(Path(written[0]).read_text())["events"]) <= 10


@st.composite
def door_days(draw):
    """A random stream of taps and amendments at two sessions."""
    fams = [family(f"F{n}", children=(("A", None), ("B", None))) for n in range(4)]
    steps = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["tap", "amend"]),
                st.integers(0, 3),
                st.sampled_from(["stay", "rhyme"]),
                st.lists(st.sampled_from(["A", "B"]), max_size=2),
            ),
            max_size=25,
        )
    )
    return fams, steps


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(door_days())
def test_attendances_in_match_the_domain_replay(tmp_path_factory, case) -> None:
    fams, steps = case
    with LocalStore(tmp_path_factory.mktemp("replay")) as store:
        for kind, who, slot, kids in steps:
            fam = fams[who]
            key = f"{MONDAY}/{slot}"
            mine = [a for a in store.attendances_in(key) if a.family_id == fam.family_id]
            if kind == "tap" or not mine:
                store.record([attended(fam, slot=slot)])
            else:
                ids = [c.child_id for c in fam.children if c.first_name in kids]
                store.record([amended(mine[0], ids)])
            everything = replay_attendances(store.events())
            for slot_key in (f"{MONDAY}/stay", f"{MONDAY}/rhyme"):
                expected = [a for a in everything.values() if a.session_key == slot_key]
                assert store.attendances_in(slot_key) == expected


def test_seq_survives_a_day_file_written_before_its_run(open_store, data_dir: Path) -> None:
    """A crash after seq.json names a new day but before that day is written wastes no seq."""
    store = open_store()
    store.record([attended(family("A"))])
    tuesday = MONDAY + timedelta(days=1)
    seq_file = data_dir / "seq.json"
    doc = json.loads(seq_file.read_text())
    doc["seq"]["1"]["runs"].append([2, tuesday.isoformat()])  # the run, without its event
    AtomicJSONStorage(seq_file).write(doc)
    reopened = open_store()
    assert reopened.highest_seq() == 1
    [ev] = reopened.record([attended(family("B"), day=MONDAY + timedelta(days=2))])
    assert ev.seq == 2
    assert [e.seq for e in reopened.events()] == [1, 2]
    assert date.fromisoformat(json.loads(seq_file.read_text())["seq"]["1"]["runs"][-1][1]) == (
        MONDAY + timedelta(days=2)
    )
