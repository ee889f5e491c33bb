"""Timetable, risk-list versions and the store's housekeeping calls."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tinydb import TinyDB

from kiosk.domain.errors import ValidationError
from kiosk.domain.postcodes import parse_risk_area
from kiosk.domain.risk import RiskList
from kiosk.domain.timetable import Timetable, make_slot
from kiosk.store import LocalStore, StoreBusyError, StoreError
from kiosk.store.durable import AtomicJSONStorage
from tests.store.helpers import (
    MONDAY,
    all_day_timetable,
    attended,
    family,
    on_both_stores,
    registered,
)

WHEN = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def _areas(*entries: str) -> frozenset:
    return frozenset(parse_risk_area(e) for e in entries)


def test_the_timetable_round_trips_and_survives_reopening(open_store) -> None:
    store = open_store()
    assert store.timetable() == Timetable()
    timetable = all_day_timetable()
    store.save_timetable(timetable)
    assert store.timetable() == timetable
    assert open_store().timetable() == timetable


@on_both_stores
def test_a_one_off_session_is_kept_with_its_date(store: LocalStore) -> None:
    timetable = Timetable().add(make_slot("once", "Party", "10:00", "12:00", on_date="2026-12-20"))
    store.save_timetable(timetable)
    assert store.timetable().slots[0].on_date.isoformat() == "2026-12-20"


@on_both_stores
def test_no_risk_list_means_version_zero(store: LocalStore) -> None:
    assert store.risk_list() == RiskList()
    assert store.risk_list().version == "v0-none"
    assert store.risk_history() == []


def test_each_risk_import_is_a_new_version_and_old_ones_are_kept(
    open_store, data_dir: Path
) -> None:
    store = open_store()
    first = store.save_risk_list(_areas("WS7 1AA", "WS7 2"), "jan.csv", WHEN)
    second = store.save_risk_list(_areas("WS7"), "feb.csv", WHEN)
    assert (first.number, second.number) == (1, 2)
    assert store.risk_list() == second
    reopened = open_store()
    assert reopened.risk_list() == second
    assert [r.number for r in reopened.risk_history()] == [1, 2]
    assert reopened.risk_history()[0].areas == _areas("WS7 1AA", "WS7 2")
    assert reopened.risk_history()[0].source == "jan.csv"
    assert sorted(p.name for p in (data_dir / "risk").iterdir()) == [
        "current.json",
        "v1.json",
        "v2.json",
    ]


def test_a_risk_import_cut_short_before_it_was_put_in_force_is_completed(
    open_store, data_dir: Path
) -> None:
    store = open_store()
    store.save_risk_list(_areas("WS7"), "a.csv", WHEN)
    newer = RiskList(2, _areas("WS8"), WHEN, "b.csv")
    AtomicJSONStorage(data_dir / "risk" / "v2.json").write({"risk": {"1": newer.to_dict()}})
    store.close()
    assert open_store().risk_list() == newer


def test_size_bytes_counts_the_whole_folder(store: LocalStore, data_dir: Path) -> None:
    before = store.size_bytes()
    store.record([registered(family())])
    on_disk = sum(p.stat().st_size for p in data_dir.rglob("*") if p.is_file())
    assert store.size_bytes() == on_disk
    assert store.size_bytes() > before


def test_close_is_safe_twice_and_later_use_says_the_store_is_closed(open_store) -> None:
    store = open_store()
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.record([attended(family())])
    with pytest.raises(StoreError, match="closed"):
        store.family("F-X")


def test_the_store_works_as_a_context_manager(data_dir: Path) -> None:
    with LocalStore(data_dir) as store:
        store.record([attended(family())])
    with pytest.raises(StoreError):
        store.highest_seq()


@pytest.mark.parametrize("days", [0, -3, 1.5, True])
def test_the_retention_window_must_be_a_positive_number_of_days(data_dir: Path, days) -> None:
    with pytest.raises(ValidationError, match="retention_days"):
        LocalStore(data_dir, retention_days=days)


def test_the_data_folder_is_laid_out_as_designed(store: LocalStore, data_dir: Path) -> None:
    store.record([registered(family()), attended(family())])
    assert {p.name for p in data_dir.iterdir()} >= {
        ".lock",
        "events",
        "state",
        "risk",
        "quarantine",
        "seq.json",
    }
    assert (data_dir / "events" / f"{MONDAY}.json").exists()
    assert (data_dir / "state" / "families.json").exists()


def test_every_file_is_a_plain_tinydb_database(store: LocalStore, data_dir: Path) -> None:
    fam = family()
    store.record([registered(fam), attended(fam)])
    with TinyDB(data_dir / "events" / f"{MONDAY}.json", access_mode="r") as db:
        assert [doc["event_id"] for doc in db.table("events").all()] != []
        assert db.table("events").get(doc_id=1)["type"] == "member.registered"
    with TinyDB(data_dir / "state" / "families.json", access_mode="r") as db:
        assert db.table("families").all()[0]["value"] == fam.to_dict()
    assert json.loads((data_dir / "seq.json").read_text())["seq"]["1"]["high_water"] >= 0


def test_a_lock_held_too_long_by_another_process_is_reported(data_dir: Path) -> None:
    import filelock

    store = LocalStore(data_dir, lock_timeout=0.2)
    other = filelock.FileLock(str(data_dir / ".lock"))
    with other, pytest.raises(StoreBusyError, match="locked by another kiosk process"):
        store.record([attended(family())])
    assert store.record([attended(family())])[0].seq == 1
    store.close()
