"""``LocalStore(..., read_only=True)``: it reads what a writer would, and never writes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from filelock import FileLock

from kiosk.domain.events import DeviceIdentity
from kiosk.domain.timetable import Timetable
from kiosk.store import LocalStore, StoreBusyError, StoreReadOnlyError
from kiosk.store.history import SeqHistory
from tests.readonly.helpers import interrupted_kiosk, snapshot

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

#: Every method that changes a store, with arguments it would accept.
CHANGES = {
    "record": ([],),
    "save_timetable": (Timetable(),),
    "save_risk_list": (frozenset(), "x.txt", NOW),
    "mark_sent": (["e"],),
    "mark_rejected": ("e", "no"),
    "keep_server_copy": (["e"],),
    "requeue_from": (1,),
    "rehome": (DeviceIdentity("kiosk-9", "site-9"),),
    "retry_rejected": (None,),
    "update_sync_state": (),
    "merge_seq_history": (SeqHistory(),),
    "raise_seq_floor": (100, "test"),
    "adopt_events": ([],),
    "apply_remote": ([],),
    "apply_erasures": ([],),
    "prune": (NOW,),
}


@pytest.mark.parametrize("method", sorted(CHANGES))
def test_a_read_only_store_refuses_every_change_and_says_why(tmp_path: Path, method: str):
    data = interrupted_kiosk(tmp_path / "data")
    before = snapshot(data)
    with (
        LocalStore(data, read_only=True) as store,
        pytest.raises(StoreReadOnlyError, match=f"opened read-only.*{method}"),
    ):
        getattr(store, method)(*CHANGES[method])
    assert snapshot(data) == before


def test_every_public_change_is_in_the_list_above():
    """A method added later that writes must refuse on a read-only store too."""
    readers = {
        "family", "families", "card", "attendances_in", "risk_list", "timetable",
        "risk_history", "events", "attendances", "pending", "rejected", "waiting_count",
        "oldest_waiting", "sync_state", "highest_seq", "delivered_through", "seq_history",
        "seq_floor", "seq_inventory", "problems", "size_bytes", "close",
    }  # fmt: skip
    public = {
        n for n in vars(LocalStore) if not n.startswith("_") and callable(vars(LocalStore)[n])
    }
    assert public - readers == set(CHANGES)


def test_a_read_only_store_on_a_folder_never_created_reads_as_empty_and_creates_nothing(
    tmp_path: Path,
):
    data = tmp_path / "nothing-here"
    with LocalStore(data, read_only=True) as store:
        assert store.families() == [] and store.waiting_count() == 0
        assert store.risk_list().version == "v0-none" and store.problems() == []
    assert not data.exists()


def test_a_read_only_store_still_waits_for_a_writer_holding_the_folder(tmp_path: Path):
    data = interrupted_kiosk(tmp_path / "data")
    with FileLock(str(data / ".lock")), pytest.raises(StoreBusyError):
        LocalStore(data, read_only=True, lock_timeout=0.01)
