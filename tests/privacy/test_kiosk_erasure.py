"""Erasure reaches the kiosks: at their next roster pull a real LocalStore forgets the family
(record, cards, personal fields of kept events), seqs and attendance counts stay, and events
of the family not yet sent still go, scrubbed, and still count on the server."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from central.app import create_app
from central.db import CentralDB, attendances
from central.privacy.erase import erase_family
from kiosk.domain.erasure import is_erased
from sync.protocol import (
    DEVICE_PATH,
    EVENTS_PATH,
    GAPS_PATH,
    ROSTER_PATH,
    BatchResponse,
    DeviceInfo,
    GapAnswer,
    GapReport,
    RosterResponse,
)
from sync.syncer import PassReport, Syncer
from tests.privacy.helpers import leaks
from tests.sync.servers import MONDAY, door

SARAH_CARD, TOM_CARD = "04A23B1C", "04B7C2D3"


class InProcessClient:
    """``sync.client.SyncClient``'s methods over the real HTTP API, in this process."""

    def __init__(self, http: TestClient, token: str) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {token}"}

    def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        response = self.http.get(path, params=params, headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()

    def send_events(self, events: Sequence[dict]) -> BatchResponse:
        response = self.http.post(EVENTS_PATH, json={"events": list(events)}, headers=self.headers)
        assert response.status_code == 200, response.text
        return BatchResponse.model_validate(response.json())

    def roster(
        self, cursor: int, own_through: int = 0, erasures_after: int | None = None
    ) -> RosterResponse:
        params: dict[str, Any] = {"cursor": cursor}
        if own_through:
            params["own_through"] = own_through
        if erasures_after is not None:
            params["erasures_after"] = erasures_after
        return RosterResponse.model_validate(self._get(ROSTER_PATH, params))

    def whoami(self) -> DeviceInfo:
        return DeviceInfo.model_validate(self._get(DEVICE_PATH))

    def report_gaps(self, gaps: Sequence[Any]) -> GapAnswer:
        body = GapReport(gaps=list(gaps)).model_dump(mode="json")
        response = self.http.post(GAPS_PATH, json=body, headers=self.headers)
        return GapAnswer.model_validate(response.json())


def store_files_text(folder: Path) -> str:
    """Every file under the store's folder, as text."""
    return "\n".join(
        p.read_text(encoding="utf-8", errors="replace") for p in folder.rglob("*") if p.is_file()
    )


def test_a_kiosk_forgets_an_erased_family_at_its_next_roster_pull(db: CentralDB, tmp_path):
    db.add_org("lichfield")
    db.add_site("lichfield", "library")
    http = TestClient(create_app(db))
    one = door(tmp_path / "kiosk-1", "kiosk-1", "library")
    two = door(tmp_path / "kiosk-2", "kiosk-2", "library")
    sync_one = Syncer(
        one.store,
        InProcessClient(http, db.add_device("lichfield", "library", "kiosk-1")),
        pull_setup=False,
    )
    sync_two = Syncer(
        two.store,
        InProcessClient(http, db.add_device("lichfield", "library", "kiosk-2")),
        pull_setup=False,
    )
    sarah = one.register_family(
        "Sarahjane",
        "WS11 4QT",
        [("Miabelle", "2024-03"), ("Leonardo", None)],
        MONDAY,
        criteria=["single_parent"],
        consent=True,
        card_uid=SARAH_CARD,
    )
    tom = one.register_family("Tomasz", "WS12 3AB", [("Avaline", None)], MONDAY, card_uid=TOM_CARD)
    for day in range(3):
        one.tap(SARAH_CARD, MONDAY + timedelta(days=day, minutes=40))
        one.tap(TOM_CARD, MONDAY + timedelta(days=day, minutes=45))
    assert sync_one.run_pass().outcome == "ok"
    assert sync_two.run_pass().roster_applied == 4  # kiosk-2 now knows both families
    # Kiosk-2 records Sarah on Thursday; it has not sent it yet.
    assert two.tap(SARAH_CARD, MONDAY + timedelta(days=3, minutes=40)).kind == "welcome"
    secrets = [
        sarah.family_id,
        "Sarahjane",
        "WS11 4QT",
        SARAH_CARD,
        "Miabelle",
        "Leonardo",
        "2024-03",
        *(c.child_id for c in sarah.children),
    ]
    assert all(s in store_files_text(tmp_path / "kiosk-1") for s in secrets)
    seq_one, waiting_two = one.store.highest_seq(), two.store.waiting_count()

    erased = erase_family(db, sarah.family_id, requested_by="alice")

    # Kiosk-1's next pass: the family goes from its store.
    report = sync_one.run_pass()
    assert report.outcome == "ok" and report.erased == 1
    left = store_files_text(tmp_path / "kiosk-1")
    assert [s for s in secrets if s in left] == []
    assert "Tomasz" in left and TOM_CARD in left  # the other family stays
    store = one.store
    assert store.family(sarah.family_id) is None and store.card(SARAH_CARD) is None
    assert store.family(tom.family_id) is not None
    assert store.highest_seq() == seq_one and store.waiting_count() == 0
    kept = store.attendances()
    assert len(kept) == 6
    assert sorted(a.family_id for a in kept if is_erased(a.family_id)) == [erased.token] * 3
    # Nothing to do a second time (already erased), and the door no longer knows the card.
    assert one.tap(SARAH_CARD, MONDAY + timedelta(days=4, minutes=40)).kind == "unknown_card"

    # Kiosk-2 pulls before it sends: its unsent event is scrubbed, then sent, and counts.
    pulled = PassReport()
    sync_two.pull_roster(pulled)
    assert pulled.erased == 1 and two.store.waiting_count() == waiting_two == 1
    assert [s for s in secrets if s in store_files_text(tmp_path / "kiosk-2")] == []
    assert sync_two.run_pass().accepted == 1
    assert db.count(attendances, family_id=erased.token) == 4
    assert leaks(db, secrets) == []


def test_erasure_notices_are_applied_once_and_survive_a_roster_restart(db, tmp_path):
    db.add_org("lichfield")
    db.add_site("lichfield", "library")
    http = TestClient(create_app(db))
    one = door(tmp_path / "kiosk-1", "kiosk-1", "library")
    client = InProcessClient(http, db.add_device("lichfield", "library", "kiosk-1"))
    sync_one = Syncer(one.store, client, pull_setup=False)
    sarah = one.register_family(
        "Sarahjane", "WS11 4QT", [("Miabelle", None)], MONDAY, card_uid=SARAH_CARD
    )
    sync_one.run_pass()
    erase_family(db, sarah.family_id, requested_by="alice")

    assert sync_one.run_pass().erased == 1
    assert one.store.sync_state()["erasure_cursor"] == 1
    assert sync_one.run_pass().erased == 0  # the cursor moved on
    one.store.update_sync_state(erasure_cursor=0)
    assert sync_one.run_pass().erased == 0  # the notice again finds nothing to remove
    page = client.roster(0, erasures_after=0)
    assert page.events == [] and [n.cursor for n in page.erasures] == [1]
    assert page.erasures[0].family_hash and sarah.family_id not in page.model_dump_json()
    assert client.roster(0).erasures is None  # an older kiosk is not sent them
