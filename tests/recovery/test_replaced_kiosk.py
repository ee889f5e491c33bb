"""A kiosk's SD card died: a new card, the same device enrolled again, ready for the door.

``kiosk-admin enrol --device D --site S --endpoint URL --token-file F`` continues the device's
seq numbers above what the server knows (a durable seq floor), pulls the roster (families
registered at other kiosks, and this device's own from before), the site's timetable and the
organisation's risk list from the server. A family registered elsewhere taps in and is
welcomed by name; every attendance is counted exactly once.
"""

from __future__ import annotations

import shutil
from datetime import timedelta

from central.db import rejections
from kiosk.domain.desk import DoorDesk
from kiosk.domain.events import DeviceIdentity
from kiosk.store import LocalStore
from sync import daemon
from tests.recovery.helpers import (
    attendance_ids,
    kiosk_admin,
    kiosk_desk,
    kiosk_sync,
    status,
)
from tests.sync.servers import MONDAY, register_families, week_of_taps

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def set_up_server(central, tmp_path) -> None:
    """The library's timetable and the organisation's risk list, held by the server."""
    for day in WEEKDAYS:
        done = central.cli(
            "session", "add", "lichfield", "library", "--name", "Stay and Play",
            "--weekday", day, "--start", "09:00", "--end", "12:00",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    risk = tmp_path / "council-list.txt"
    risk.write_text("# the council's list\nWS7 1AA\nB33 8\n")
    done = central.cli("risk", "import", "lichfield", str(risk))
    assert done.returncode == 0, done.stderr
    assert "added: 2" in done.stdout


def test_a_replaced_kiosk_is_enrolled_again_and_ready_for_the_door(central, tmp_path):
    kiosk, token = central.enrol("kiosk-1", "library")
    other, other_token = central.enrol("kiosk-2", "leisure-centre")
    set_up_server(central, tmp_path)

    # kiosk-1's first life: families registered here, taps, all synced.
    data = tmp_path / "kiosk-1"
    desk = kiosk_desk(data, kiosk.device, kiosk.site)
    own_uids = register_families(desk, 8, prefix="A")
    taps = week_of_taps(desk, own_uids)
    assert kiosk_sync(data, central.url, token).returncode == daemon.EXIT_OK
    old_highest = desk.store.highest_seq()
    old_attendances = attendance_ids(desk.store)
    desk.store.close()

    # A family registered at the other kiosk, after kiosk-1's last sync.
    desk2 = kiosk_desk(tmp_path / "kiosk-2", other.device, other.site)
    [their_uid] = register_families(desk2, 1, prefix="C")
    assert kiosk_sync(tmp_path / "kiosk-2", central.url, other_token).returncode == 0

    # The SD card dies: a new card, an empty data folder.
    shutil.rmtree(data)
    enrolled = kiosk_admin(
        data, "enrol", "--device", "kiosk-1", "--site", "library",
        "--endpoint", central.url, "--token-file", str(token),
    )  # fmt: skip

    assert enrolled.returncode == 0, enrolled.stdout + enrolled.stderr
    out = dict(line.split(": ", 1) for line in enrolled.stdout.splitlines() if ": " in line)
    assert out["seq_floor"] == f"{old_highest} (new events continue from {old_highest + 1})"
    assert out["sessions"] == "5"
    assert out["risk_version"].startswith("v1-")
    assert out["families"] == "9"  # its own eight from before, and the other kiosk's one
    assert out["ready"] == "yes"

    # The door on the new card: the app opens the store as it finds it.
    store = LocalStore(data)
    door = DoorDesk(store, DeviceIdentity("kiosk-1", "library"))
    tuesday = MONDAY + timedelta(days=8, minutes=10)
    welcome = door.tap(their_uid, tuesday)
    assert welcome.kind == "welcome" and welcome.greeting_name == "Parent C0"
    again = door.tap(own_uids[0], tuesday + timedelta(minutes=1))
    assert again.kind == "welcome" and again.greeting_name == "Parent A0"
    taps += 2
    # The decision used the server's risk list, under the server's version.
    [recorded] = [e for e in store.events() if e.type == "attendance.recorded"][:1]
    assert recorded.data["risk_version"] == out["risk_version"]
    assert recorded.data["qualifies"] is True
    # New events never reuse a seq of the old card.
    assert min(e.seq for e in store.events()) == old_highest + 1

    result = kiosk_sync(data, central.url, token)

    assert result.returncode == daemon.EXIT_OK, result.stderr
    assert central.attendance_count() == taps
    assert central.db.count(rejections) == 0 and store.rejected() == []
    assert central.seq_clashes("kiosk-1") == 0
    assert central.db.holds_up_to("kiosk-1") == store.highest_seq()
    assert central.db.gaps("kiosk-1") == []
    assert attendance_ids(store).isdisjoint(old_attendances)
    lines = status(data)
    assert lines["seq_floor"][0].startswith(f"{old_highest} (")
    assert lines["missing"] == ["none"] and lines["waiting"] == ["0"]


def test_a_new_card_that_syncs_before_enrolment_still_never_reuses_a_seq(central_sqlite, tmp_path):
    """The daemon does it too: an empty store continues above the server's highest seq."""
    central = central_sqlite
    kiosk, token = central.enrol()
    data = tmp_path / "kiosk-1"
    desk = kiosk_desk(data, kiosk.device, kiosk.site)
    uids = register_families(desk, 3)
    taps = week_of_taps(desk, uids)
    assert kiosk_sync(data, central.url, token).returncode == 0
    highest = desk.store.highest_seq()
    desk.store.close()
    shutil.rmtree(data)

    fresh = kiosk_desk(data, kiosk.device, kiosk.site)
    assert kiosk_sync(data, central.url, token).returncode == 0  # nothing to send yet
    assert fresh.store.highest_seq() == highest
    # The roster brought this kiosk's own families back.
    assert fresh.tap(uids[0], MONDAY + timedelta(days=7, minutes=5)).kind == "welcome"
    assert kiosk_sync(data, central.url, token).returncode == 0
    assert central.attendance_count() == taps + 1
    assert central.db.count(rejections) == 0
