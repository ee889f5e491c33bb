"""``LocalStore.apply_erasures`` on its own: set-aside events, quarantined copies and a rebuilt
projection keep nothing of the family, and the outbox is as it was."""

from __future__ import annotations

from datetime import timedelta

from kiosk.domain.erasure import family_hash
from kiosk.store import LocalStore
from tests.sync.servers import MONDAY, door

SALT = "0f" * 16
TOKEN = "erased-00112233aabbccdd"


def notice(family_id: str) -> dict:
    return {
        "cursor": 1,
        "token": TOKEN,
        "family_hash": family_hash(SALT, family_id),
        "salt": SALT,
        "erased_at": "2026-11-24T10:00:00Z",
    }


def everything(folder) -> str:
    return "\n".join(
        p.read_text(encoding="utf-8", errors="replace") for p in folder.rglob("*") if p.is_file()
    )


def test_rejected_and_quarantined_copies_are_cleaned_and_the_outbox_kept(tmp_path):
    desk = door(tmp_path / "k", "kiosk-1", "library")
    store = desk.store
    sarah = desk.register_family(
        "Sarahjane", "WS11 4QT", [("Miabelle", None)], MONDAY, card_uid="04A23B1C"
    )
    desk.register_family("Tomasz", "WS12 3AB", [("Avaline", None)], MONDAY, card_uid="04B7C2D3")
    desk.tap("04A23B1C", MONDAY + timedelta(minutes=40))
    refused = store.pending(10)[0]  # Sarah's registration, refused by the server
    store.mark_rejected(refused.event_id, "greeting_name: 'Sarahjane' is too long")
    (store.layout.quarantine / "20261123T0900--state--families.json").write_text(
        '{"families": {"1": {"value": {"family_id": "' + sarah.family_id + '", '
        '"greeting_name": "Sarahjane"'
    )
    waiting, highest = store.waiting_count(), store.highest_seq()
    other = notice("F-SOMEONEELSE")

    assert store.apply_erasures([other, notice(sarah.family_id)]) == 1

    text = everything(tmp_path / "k")
    for secret in (
        sarah.family_id,
        "Sarahjane",
        "WS11 4QT",
        "Miabelle",
        "04A23B1C",
        sarah.children[0].child_id,
    ):
        assert secret not in text, secret
    assert "Tomasz" in text
    assert (store.waiting_count(), store.highest_seq()) == (waiting, highest)
    [entry] = store.rejected()
    assert entry["event"]["data"]["family"]["family_id"] == TOKEN
    assert entry["reason"] == "greeting_name: '[erased]' is too long"
    assert store.apply_erasures([notice(sarah.family_id)]) == 0  # nothing left to find
    store.close()

    # A projection rebuilt from the kept events does not bring back a blank family.
    (tmp_path / "k" / "state" / "families.json").write_text("{broken")
    again = LocalStore(tmp_path / "k")
    assert [f.greeting_name for f in again.families()] == ["Tomasz"]
    again.close()
