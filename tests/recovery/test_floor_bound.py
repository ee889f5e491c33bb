"""A server that says it knows an absurd seq of this device (a write-off gone wrong before the
server bounded them) does not make the kiosk number its events past the protocol's
maximum, nor build a list of every seq in between."""

from __future__ import annotations

from datetime import UTC, datetime

from kiosk.store import LocalStore
from sync.protocol import MAX_SEQ, DeviceInfo
from sync.recovery import FLOOR_JUMP_MAX, adopt_server_floor
from sync.status import sync_status_lines

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def info(highest: int) -> DeviceInfo:
    return DeviceInfo(
        device_id="kiosk-1", site_id="library", org_id="lichfield", holds_up_to=0,
        highest_seq=highest,
    )  # fmt: skip


def test_an_absurd_highest_seq_is_not_followed(tmp_path):
    store = LocalStore(tmp_path)
    assert adopt_server_floor(store, info(MAX_SEQ), NOW) is None
    assert store.highest_seq() == 0
    refused = store.sync_state()["seq_floor_refused"]
    assert refused["seq"] == MAX_SEQ and refused["was"] == 0
    [line] = [v for k, v in sync_status_lines(store) if k == "seq_floor_refused"]
    assert f"seq up to {MAX_SEQ}" in line and "device undo-gap" in line


def test_a_plausible_highest_seq_is_followed(tmp_path):
    store = LocalStore(tmp_path)
    assert adopt_server_floor(store, info(FLOOR_JUMP_MAX), NOW) == FLOOR_JUMP_MAX
    assert store.highest_seq() == FLOOR_JUMP_MAX
