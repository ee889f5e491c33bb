"""The family picker tells families apart, and a roster pull does not double them.

Each row shows the greeting name, the postcode district only (the queue may see the screen),
the children's first names and an "Already in" mark for the session on now. The duplicate
"Aisha / Zara" came from two demo kiosks enrolled with one server: each had registered the
sample families under ids of its own, so the roster brought the other kiosk's Aisha (same name,
same child, same card) as a second family. The demo's families now have the same ids on every
kiosk; here two of them exchange rosters through a real server and the picker shows each once.
"""

from __future__ import annotations

import pytest

from central.db import CentralDB
from kiosk.demo import DEMO_FAMILIES, seed_demo
from kiosk.domain.desk import DoorDesk
from kiosk.domain.events import DeviceIdentity
from sync.client import SyncClient
from sync.syncer import Syncer
from tests.sync.servers import CentralServer, database_url, enrol, local_store
from tests.ui.driver import MONDAY_MORNING, make_kiosk

pytestmark = pytest.mark.ui

FULL_POSTCODES = [postcode for _key, _uid, _name, postcode, _kids in DEMO_FAMILIES]


def rows(kiosk) -> dict[str, list[str]]:
    """The picker's row texts by greeting name."""
    found: dict[str, list[str]] = {}
    for button in kiosk.current().family_buttons:
        found.setdefault(button.family.greeting_name, []).append(button.text)
    return found


def open_picker(kiosk) -> None:
    kiosk.unlock("2468")
    kiosk.press_text("Sign a family in")
    assert kiosk.screen == "family_picker"


def no_full_postcode(kiosk, *extra: str) -> None:
    shown = kiosk.text()
    for postcode in (*FULL_POSTCODES, *extra):
        assert postcode not in shown, f"the full postcode {postcode} is on screen"
        assert postcode.split()[1] not in shown, f"the inward part of {postcode} is on screen"


def test_each_row_has_the_district_the_children_and_an_already_in_mark(kiosk):
    kiosk.tap(kiosk.card_of("Sarah"))  # Sarah signs in at the door
    kiosk.press(kiosk.current().ids.done)
    open_picker(kiosk)

    [sarah] = rows(kiosk)["Sarah"]
    [aisha] = rows(kiosk)["Aisha"]
    [priya] = rows(kiosk)["Priya"]
    assert "WS7" in sarah and "Mia and Leo" in sarah and "Already in" in sarah
    assert "WS11" in aisha and "Zara" in aisha and "Already in" not in aisha
    assert "WS14" in priya and "Arjun, Maya and Dev" in priya
    no_full_postcode(kiosk)
    assert kiosk.clipped() == []
    inside = [b for b in kiosk.current().family_buttons if b.already_in]
    assert [b.family.greeting_name for b in inside] == ["Sarah"]
    kiosk.shot("picker/01-district-children-already-in")

    kiosk.press(kiosk.current().ids.search)
    kiosk.type("sar")
    [sarah] = rows(kiosk)["Sarah"]
    assert "Already in" in sarah  # a search keeps the mark
    kiosk.press_text("Sarah")
    kiosk.press(kiosk.current().ids.sign_in)
    assert "Sarah was already signed in" in kiosk.texts()
    assert len(kiosk.store.attendances()) == 1


def test_two_families_with_the_same_name_are_told_apart(kiosk):
    kiosk.desk.register_family("Aisha", "WS13 6YY", [("Noor", None)], kiosk.clock.now())
    open_picker(kiosk)

    first, second = rows(kiosk)["Aisha"]
    assert "WS11" in first and "Zara" in first
    assert "WS13" in second and "Noor" in second
    no_full_postcode(kiosk, "WS13 6YY")
    kiosk.shot("picker/02-two-aishas")

    noor = next(b for b in kiosk.current().family_buttons if "Noor" in b.text)
    kiosk.press(noor)
    assert kiosk.screen == "choose_children"
    assert [c.text for c in kiosk.current().chips] == ["Noor"]


def demo_kiosk_elsewhere(folder, db: CentralDB, url: str) -> None:
    """Another demo kiosk of the same organisation: seeded, enrolled, synced to the server."""
    store = local_store(folder)
    store.data_dir = folder
    seed_demo(store, DoorDesk(store, DeviceIdentity("demo-kiosk", "demo-site")), MONDAY_MORNING)
    other = enrol(db, "lichfield", "library", "kiosk-a")
    store.rehome(DeviceIdentity(other.device, other.site))
    report = Syncer(store, SyncClient(url, other.token)).run_pass()
    assert report.error is None and report.accepted == 2 * len(DEMO_FAMILIES), report
    store.close()


def test_after_a_roster_pull_from_another_demo_kiosk_each_family_is_there_once(
    kivy_window, tmp_path
):
    kiosk = make_kiosk(tmp_path)
    with database_url("sqlite", tmp_path) as db_url:
        db = CentralDB.open(db_url)
        server = CentralServer(db_url, tmp_path / "server.log").start()
        try:
            demo_kiosk_elsewhere(tmp_path / "kiosk-a", db, server.url)
            here = enrol(db, "lichfield", "library", "kiosk-b")
            kiosk.store.rehome(DeviceIdentity(here.device, here.site))
            report = Syncer(kiosk.store, SyncClient(server.url, here.token)).run_pass()
            assert report.error is None, report
            assert report.roster_applied > 0  # kiosk A's families came, as the same families
        finally:
            server.stop()
            db.close()
    try:
        assert len(kiosk.store.families()) == len(DEMO_FAMILIES)
        open_picker(kiosk)
        found = rows(kiosk)
        assert len(found["Aisha"]) == 1, found["Aisha"]
        assert all(len(texts) == 1 for texts in found.values()), found
        kiosk.shot("picker/03-after-a-roster-pull")

        kiosk.press(kiosk.current().ids.header.ids.back)
        kiosk.press(kiosk.button("Lock"))
        kiosk.tap(kiosk.card_of("Aisha"))
        assert "Welcome, Aisha!" in kiosk.texts()
    finally:
        kiosk.close()
