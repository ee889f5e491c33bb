"""The seams between the kiosk's configuration and the server's, done as an admin would.

Every part is real: a ``kiosk-central serve`` process on a SQLite file, ``kiosk-central``,
``kiosk-admin`` and ``kiosk-sync`` run as the commands an admin types (subprocesses), and the
kiosk's store with the door's rules over it, the way the running app holds them (a ``DoorDesk``
whose identity is the data folder's ``device.json``, read again when it changes). Each test
is something that lost attendances before: taps made before enrolment refused, a wrong enrol
half-applied, the server's timetable deleting the kiosk's sessions.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kiosk.domain.desk import KIOSK_TZ, DoorDesk
from kiosk.domain.events import DeviceIdentity
from kiosk.domain.postcodes import parse_risk_area
from kiosk.domain.timetable import Timetable, make_slot
from kiosk.identity import IDENTITY_FILE, IdentityFile
from kiosk.store import LocalStore
from sync.protocol import validate_event
from tests.sync.servers import (
    KEEP_DATED_EVENTS,
    MONDAY,
    REPO,
    CentralServer,
    command,
    subprocess_env,
)

pytestmark = pytest.mark.slow

DEMO = DeviceIdentity("demo-kiosk", "demo-site")


def run(name: str, module: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [*command(name, module), *args],
        capture_output=True,
        text=True,
        timeout=120,
        # A box whose clock is synchronised (this machine's may not be): a test of the clock
        # itself is tests/appliance/test_doctor.py's.
        env=subprocess_env(KIOSK_CLOCK_SYNCED="1"),
        cwd=REPO,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"{name} {' '.join(args)}: {result.returncode}\n{result.stderr}")
    return result


@dataclass
class Server:
    """A running central server and the admin's ``kiosk-central`` against its database."""

    url: str
    db_url: str
    folder: Path

    def central(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return run("kiosk-central", "central.cli", "--db", self.db_url, *args, check=check)

    def device(self, org: str, site: str, device: str) -> Path:
        token = self.central("device", "add", org, site, device).stdout.strip()
        path = self.folder / f"{device}.token"
        path.write_text(token + "\n")
        path.chmod(0o600)
        return path

    def invoice(self, org: str, month: str) -> list[list[str]]:
        out = self.central("report", "invoice", "--org", org, "--month", month).stdout
        return list(csv.reader(io.StringIO(out)))


@pytest.fixture
def server(tmp_path: Path):
    db_url = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    process = CentralServer(db_url, tmp_path / "server.log").start()
    try:
        yield Server(process.url, db_url, tmp_path)
    finally:
        process.stop()


def organisation(server: Server, org: str, *sites: str) -> None:
    server.central("org", "add", org)
    for site in sites:
        server.central("site", "add", org, site)
    server.central("org", "rate", org, "3.00", "--from", "2026-04-01")


@dataclass
class Kiosk:
    """A kiosk's data folder with the app's desk over it (identity read from device.json)."""

    data: Path
    store: LocalStore
    desk: DoorDesk

    def admin(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return run("kiosk-admin", "kiosk.admin", "--data", str(self.data), *args, check=check)

    def sync(self, server: Server, token: Path, check: bool = True) -> subprocess.CompletedProcess:
        return run(
            "kiosk-sync",
            "sync.daemon",
            *KEEP_DATED_EVENTS,
            "--data",
            str(self.data),
            "--endpoint",
            server.url,
            "--token-file",
            str(token),
            "--once",
            check=check,
        )

    def status(self) -> dict[str, str]:
        lines = self.admin("status").stdout.splitlines()
        return dict(line.split(": ", 1) for line in lines if ": " in line)


def demo_kiosk(folder: Path, slots: list[Any] | None = None) -> Kiosk:
    """A data folder set up like ``kiosk --demo``'s: the demo's name until it is enrolled."""
    store = LocalStore(folder)
    timetable = Timetable()
    if slots is None:
        slots = [
            make_slot(f"play-{day}", "Stay and Play", "09:00", "12:00", day)
            for day in ("mon", "tue", "wed", "thu", "fri")
        ]
    for slot in slots:
        timetable = timetable.add(slot)
    store.save_timetable(timetable)
    store.save_risk_list(frozenset({parse_risk_area("WS7 1AA")}), "council", MONDAY)
    return Kiosk(folder, store, DoorDesk(store, IdentityFile(folder, DEMO)))


def families(kiosk: Kiosk, count: int, prefix: str) -> list[str]:
    uids = []
    for n in range(count):
        uid = f"{prefix}{n + 1:07X}"[-8:]
        kiosk.desk.register_family(
            f"Parent {prefix}{n}",
            "WS7 1AA",
            [("Ben", "2024-03"), ("Cara", None)],
            at=MONDAY,
            card_uid=uid,
        )
        uids.append(uid)
    return uids


def event_of(kiosk: Kiosk, outcome: Any) -> Any:
    """The attendance event a tap recorded."""
    return next(e for e in kiosk.store.events() if e.event_id == outcome.attendance_id)


def counted(rows: list[list[str]]) -> list[list[str]]:
    """The invoice's counted child-session lines (the CSV's header and TOTAL row left out)."""
    header = rows[0]
    status = header.index("status")
    return [r for r in rows[1:] if r and r[0] != "TOTAL" and r[status] == "counted"]


def test_taps_before_enrolment_are_counted_once_on_the_invoice(server, tmp_path):
    organisation(server, "lichfield", "library")
    token = server.device("lichfield", "library", "kiosk-1")
    kiosk = demo_kiosk(tmp_path / "kiosk")
    uids = families(kiosk, 3, "A")
    for n, uid in enumerate(uids):  # Monday, before anyone enrolled the box
        assert kiosk.desk.tap(uid, MONDAY + timedelta(minutes=10 + n)).kind == "welcome"
    # An earlier kiosk-sync (before this fix) had one tap refused for its demo name: the
    # refusal is in the store with the server's own words.
    late = event_of(kiosk, kiosk.desk.tap(uids[0], MONDAY + timedelta(days=1, minutes=5)))
    reason = validate_event(late.to_dict(), "kiosk-1", "library").reason
    assert reason and reason.startswith("device_id:")
    kiosk.store.mark_rejected(late.event_id, reason)
    assert kiosk.status()["rejected"] != "0"

    # The admin enrols the folder (as docs/recovery.md had it), with the app still running.
    out = kiosk.admin("enrol", "--device", "kiosk-1", "--site", "library").stdout
    assert "now belong to kiosk-1 at library" in out and "1 refused" in out
    wednesday = event_of(kiosk, kiosk.desk.tap(uids[1], MONDAY + timedelta(days=2, minutes=5)))
    assert (wednesday.device_id, wednesday.site_id) == ("kiosk-1", "library")  # no restart

    kiosk.sync(server, token)
    status = kiosk.status()
    assert status["rejected"] == "0" and status["waiting"] == "0"
    assert status["health"].startswith("ok:"), status["health"]
    assert status["enrolled"] == "yes" and status["device"] == "kiosk-1"

    lines = counted(server.invoice("lichfield", "2026-11"))
    assert len(lines) == 5 * 2  # five attendances, two children each: every one counted
    total = next(r for r in server.invoice("lichfield", "2026-11") if r and r[0] == "TOTAL")
    assert "30.00" in total

    # Exactly once: syncing again (and re-homing again) changes nothing.
    assert kiosk.store.rehome(DeviceIdentity("kiosk-1", "library")).rewritten == 0
    kiosk.sync(server, token)
    assert len(counted(server.invoice("lichfield", "2026-11"))) == 10


def test_an_enrol_with_the_wrong_name_changes_nothing_and_names_the_device(server, tmp_path):
    organisation(server, "lichfield", "library")
    token = server.device("lichfield", "library", "kiosk-1")
    kiosk = demo_kiosk(tmp_path / "kiosk")
    [uid] = families(kiosk, 1, "B")
    kiosk.desk.tap(uid, MONDAY + timedelta(minutes=5))
    before = kiosk.status()

    wrong = kiosk.admin(
        "enrol",
        *("--device", "kiosk-9", "--site", "library"),
        *("--endpoint", server.url, "--token-file", str(token)),
        check=False,
    )
    assert wrong.returncode == 1
    assert "is device 'kiosk-1'" in wrong.stderr and "nothing was changed" in wrong.stderr
    assert "kiosk-admin enrol --device kiosk-1 --site library" in wrong.stderr
    assert not (kiosk.data / IDENTITY_FILE).exists()
    after = kiosk.status()
    assert (after["device"], after["waiting"]) == (before["device"], before["waiting"])

    # kiosk-sync on the unenrolled folder says what to do, and sends (and refuses) nothing.
    refused = kiosk.sync(server, token, check=False)
    assert refused.returncode != 0
    assert (
        "not enrolled yet" in refused.stderr and "the token is device 'kiosk-1'" in refused.stderr
    )
    assert kiosk.store.rejected() == []

    right = kiosk.admin(
        "enrol",
        *("--device", "kiosk-1", "--site", "library"),
        *("--endpoint", server.url, "--token-file", str(token)),
    )
    assert "ready: yes" in right.stdout
    assert kiosk.status()["waiting"] == "0"
    assert len(counted(server.invoice("lichfield", "2026-11"))) == 2


def now_window() -> tuple[str, str, str]:
    """Today's date and a start and end around the real clock (kiosk-sync reads it)."""
    now = datetime.now(UTC).astimezone(KIOSK_TZ)
    start = max(now - timedelta(minutes=30), now.replace(hour=0, minute=0))
    end = min(now + timedelta(minutes=45), now.replace(hour=23, minute=59))
    return now.date().isoformat(), f"{start:%H:%M}", f"{end:%H:%M}"


def test_the_servers_timetable_never_removes_a_session_made_at_the_kiosk(server, tmp_path):
    organisation(server, "lichfield", "library")
    token = server.device("lichfield", "library", "kiosk-1")
    today, start, end = now_window()
    kiosk = demo_kiosk(tmp_path / "kiosk", slots=[])
    kiosk.admin("enrol", "--device", "kiosk-1", "--site", "library")
    # One made with kiosk-admin (as the README shows), one a volunteer starts at the door.
    kiosk.admin(
        "session", "add", "--name", "Christmas Party", "--date", "2026-12-19",
        "--start", "14:00", "--end", "16:00",
    )  # fmt: skip
    now = datetime.now(UTC)
    drop_in = kiosk.desk.start_one_off_session("Rainy day drop-in", now)
    [uid] = families(kiosk, 1, "C")
    assert kiosk.desk.tap(uid, now).kind == "welcome"
    # The server has a timetable of its own for the site.
    server.central(
        "session", "add", "lichfield", "library", "--name", "Baby Music", "--weekday", "sat",
        "--start", "10:00", "--end", "11:00",
    )  # fmt: skip

    kiosk.sync(server, token)
    slots = {s.name: s.origin for s in kiosk.store.timetable().slots}
    assert slots == {
        "Christmas Party": "kiosk",
        "Rainy day drop-in": "door",
        "Baby Music": "server",
    }
    assert kiosk.desk.session_now(datetime.now(UTC)).slot_id == drop_in.slot_id
    # The door's session reached the server by name: its register and invoice carry it.
    register = server.central("report", "register", "--org", "lichfield", "--date", today)
    assert "Rainy day drop-in" in register.stdout
    assert {r[1] for r in counted(server.invoice("lichfield", today[:7]))} >= {"Rainy day drop-in"}

    # The server's session removed: the kiosk hears it (the list comes even when empty),
    # and keeps its own.
    server.central("session", "remove", "lichfield", "library", "baby-music-sat")
    kiosk.sync(server, token)
    assert sorted(s.name for s in kiosk.store.timetable().slots) == [
        "Christmas Party",
        "Rainy day drop-in",
    ]
    del start, end


def test_a_server_session_on_now_survives_the_server_removing_it_mid_session(server, tmp_path):
    organisation(server, "lichfield", "library")
    token = server.device("lichfield", "library", "kiosk-1")
    today, start, end = now_window()
    server.central(
        "session", "add", "lichfield", "library", "--name", "Stay and Play", "--date", today,
        "--start", start, "--end", end,
    )  # fmt: skip
    kiosk = demo_kiosk(tmp_path / "kiosk", slots=[])
    kiosk.admin("enrol", "--device", "kiosk-1", "--site", "library")
    kiosk.sync(server, token)  # --once pulls the timetable in the same pass
    now = datetime.now(UTC)
    assert kiosk.desk.session_now(now).name == "Stay and Play"
    [uid, other] = families(kiosk, 2, "D")
    assert kiosk.desk.tap(uid, now).kind == "welcome"

    slot_id = kiosk.desk.session_now(now).slot_id
    server.central("session", "remove", "lichfield", "library", slot_id)
    kiosk.sync(server, token)
    # Families still arriving are signed in, not told there is no session.
    assert kiosk.desk.tap(other, datetime.now(UTC)).kind == "welcome"
    kiosk.sync(server, token)
    assert kiosk.status()["health"].startswith("ok:")
    assert len(counted(server.invoice("lichfield", today[:7]))) == 4


def test_rejected_events_turn_the_status_red_until_they_are_retried(server, tmp_path):
    organisation(server, "lichfield", "library")
    token = server.device("lichfield", "library", "kiosk-1")
    kiosk = demo_kiosk(tmp_path / "kiosk")
    kiosk.admin("enrol", "--device", "kiosk-1", "--site", "library")
    [uid] = families(kiosk, 1, "E")
    tap = event_of(kiosk, kiosk.desk.tap(uid, MONDAY + timedelta(minutes=5)))
    kiosk.sync(server, token)
    kiosk.store.mark_rejected(tap.event_id, "data.session: a reason the server gave")
    status = kiosk.status()
    assert status["health"].startswith("fail: 1 event(s) were refused"), status["health"]
    listed = kiosk.admin("rejected", "list").stdout
    assert tap.event_id in listed and "a reason the server gave" in listed

    out = kiosk.admin("rejected", "retry", tap.event_id).stdout
    assert out.startswith("1 refused event(s) back in the outbox")
    kiosk.sync(server, token)  # the server already holds it: answered duplicate, done
    status = kiosk.status()
    assert status["rejected"] == "0" and status["health"].startswith("ok:")
    assert json.loads(json.dumps(kiosk.store.sync_state())).get("last_success")


def device_health(server: Server) -> dict[str, str]:
    """``kiosk-central device health``: each kiosk's first line, by device id."""
    out = server.central("device", "health", "--org", "lichfield", check=False).stdout
    found: dict[str, str] = {}
    for line in out.splitlines():
        for device in ("kiosk-1", "kiosk-2"):
            if device in line and device not in found:
                found[device] = line
    return found


def test_two_kiosks_two_sites_wrong_order_and_a_timetable_change_mid_session(server, tmp_path):
    """The scenario of the seams: every tap counted exactly once, every status truthful."""
    organisation(server, "lichfield", "library", "chase-terrace")
    today, start, end = now_window()
    server.central(
        "session", "add", "lichfield", "library", "--name", "Stay and Play", "--date", today,
        "--start", start, "--end", end,
    )  # fmt: skip
    library = demo_kiosk(tmp_path / "library", slots=[])
    chase = demo_kiosk(tmp_path / "chase", slots=[])
    token_1 = server.device("lichfield", "library", "kiosk-1")
    token_2 = server.device("lichfield", "chase-terrace", "kiosk-2")

    # The library's box: families arrive before anyone enrolled it, and its timetable comes
    # from the server only at the first sync, so a volunteer starts a drop-in at the door.
    now = datetime.now(UTC)
    library.desk.start_one_off_session("Stay and Play (door)", now)
    library_uids = families(library, 2, "F1")
    for uid in library_uids:
        assert library.desk.tap(uid, now).kind == "welcome"
    # Someone runs kiosk-sync before enrolling: it says what to do and refuses nothing.
    early = library.sync(server, token_1, check=False)
    assert early.returncode != 0 and "not enrolled yet" in early.stderr
    assert library.store.rejected() == []
    assert library.status()["health"].startswith("fail: this kiosk is not enrolled yet")

    # Chase Terrace: enrolled offline at the wrong site first.
    chase.admin("enrol", "--device", "kiosk-2", "--site", "library")
    chase_uids = families(chase, 2, "F2")
    drop_in = chase.desk.start_one_off_session("Chase drop-in", now)
    for uid in chase_uids:
        assert chase.desk.tap(uid, now).kind == "welcome"
    wrong_site = chase.sync(server, token_2, check=False)
    assert wrong_site.returncode != 0 and "site 'chase-terrace'" in wrong_site.stderr
    assert chase.store.rejected() == []  # nothing was sent to be refused
    assert not chase.status()["health"].startswith("ok:")

    # Both enrolled right; the library's with the server (a first sync in the same step).
    library.admin(
        "enrol",
        *("--device", "kiosk-1", "--site", "library"),
        *("--endpoint", server.url, "--token-file", str(token_1)),
        check=False,  # ready is "no" only if no session: checked below
    )
    chase.admin("enrol", "--device", "kiosk-2", "--site", "chase-terrace")
    chase.sync(server, token_2)
    for kiosk in (library, chase):
        status = kiosk.status()
        assert (status["rejected"], status["waiting"]) == ("0", "0"), status
    assert chase.status()["health"].startswith("ok:")
    # The server's session clashes with the drop-in the volunteer started at the library's
    # door: the one here wins, the server's is left out, and the kiosk says so (amber).
    library_slots = {s.name: s.origin for s in library.store.timetable().slots}
    assert library_slots == {"Stay and Play (door)": "door"}
    clash = library.status()["health"]
    assert clash.startswith("warn: the server's Stay and Play") and "overlaps" in clash

    # Mid-session the server's timetable changes: its session goes, another is added.
    server.central("session", "remove", "lichfield", "library", "stay-and-play-" + today)
    server.central(
        "session", "add", "lichfield", "chase-terrace", "--name", "Baby Music", "--weekday",
        "sat", "--start", "10:00", "--end", "11:00",
    )  # fmt: skip
    late = families(chase, 1, "F3") + families(library, 1, "F4")
    library.sync(server, token_1)
    chase.sync(server, token_2)
    assert chase.desk.session_now(datetime.now(UTC)).slot_id == drop_in.slot_id
    assert chase.desk.tap(late[0], datetime.now(UTC)).kind == "welcome"
    assert library.desk.tap(late[1], datetime.now(UTC)).kind == "welcome"
    assert {s.name for s in chase.store.timetable().slots} == {"Chase drop-in", "Baby Music"}
    library.sync(server, token_1)
    chase.sync(server, token_2)
    library.sync(server, token_1)  # and again: nothing twice

    lines = counted(server.invoice("lichfield", today[:7]))
    assert len(lines) == (3 + 3) * 2  # three families at each door, two children each
    assert len({(r[-1], r[4]) for r in lines}) == len(lines)  # each child-session once
    assert {r[1] for r in lines} == {"Stay and Play (door)", "Chase drop-in"}
    assert {r[2] for r in lines} == {"library", "chase-terrace"}
    for kiosk in (library, chase):
        status = kiosk.status()
        assert (status["rejected"], status["waiting"]) == ("0", "0")
        assert status["health"].startswith("ok:"), status["health"]
    health = device_health(server)
    assert health["kiosk-1"].startswith("ok") and health["kiosk-2"].startswith("ok"), health


def test_a_changed_copy_of_a_sent_event_is_a_conflict_the_kiosk_and_dashboard_show(
    server, tmp_path
):
    """A restored SD card holds a copy of an event the server has, with other
    content. The server keeps its own, answers ``conflict``; the kiosk sets its copy aside,
    its status says so (red), the dashboard's kiosk health says so, and nothing is counted
    twice. The admin settles it in the server's favour and both are green again."""
    organisation(server, "lichfield", "library")
    token = server.device("lichfield", "library", "kiosk-1")
    kiosk = demo_kiosk(tmp_path / "kiosk")
    kiosk.admin("enrol", "--device", "kiosk-1", "--site", "library")
    [uid] = families(kiosk, 1, "C")
    came = event_of(kiosk, kiosk.desk.tap(uid, MONDAY + timedelta(minutes=5)))
    kiosk.sync(server, token)
    assert kiosk.status()["health"].startswith("ok:")

    # The same data folder, restored from an older copy whose tap listed one child only.
    other = demo_kiosk(tmp_path / "restored")
    other.admin("enrol", "--device", "kiosk-1", "--site", "library")
    registered = [e for e in kiosk.store.events() if e.seq < came.seq]
    adopted, refused = other.store.adopt_events(
        [*registered, replace(came, data={**came.data, "children": came.data["children"][:1]})]
    )
    assert refused == [] and len(adopted) == len(registered) + 1
    other.sync(server, token, check=False)

    status = other.status()
    assert status["conflicts"] == "1" and status["waiting"] == "0"
    assert status["health"].startswith("fail: 1 event(s) differ from the copy the server")
    listed = other.admin("rejected", "list").stdout
    assert came.event_id in listed and listed.rstrip().endswith("conflict")
    health = server.central("device", "health", "--org", "lichfield", check=False)
    assert health.returncode == 1
    assert "differ from the copy the server already holds" in health.stdout
    assert len(counted(server.invoice("lichfield", "2026-11"))) == 2  # its own copy, once

    other.admin("rejected", "keep-server", came.event_id)
    other.sync(server, token)
    assert other.status()["health"].startswith("ok:")
    assert server.central("device", "health", "--org", "lichfield").returncode == 0
