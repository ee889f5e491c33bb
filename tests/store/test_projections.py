"""Families and cards: projections of events, repaired after a crash, fed by the roster too."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from kiosk.domain.desk import DoorDesk
from kiosk.domain.errors import ValidationError
from kiosk.domain.families import Card
from kiosk.store import LocalStore, durable
from kiosk.store.projections import Projection
from tests.store.helpers import (
    DEVICE,
    at,
    card_assigned,
    card_revoked,
    event,
    family,
    on_both_stores,
    registered,
    stay_and_play,
    updated,
)


@on_both_stores
def test_a_registration_with_a_card_is_readable_at_once(store: LocalStore) -> None:
    fam = family()
    store.record([registered(fam), card_assigned("04A23B1C", fam)])
    assert store.family(fam.family_id) == fam
    assert store.card("04A23B1C") == Card("04A23B1C", fam.family_id, True)
    assert store.family("F-NOSUCHFAMILY") is None
    assert store.card("FFFFFFFF") is None


@on_both_stores
def test_an_update_replaces_the_family(store: LocalStore) -> None:
    fam = family()
    store.record([registered(fam)])
    bigger = fam.with_child("Ben")
    store.record([updated(bigger)])
    assert store.family(fam.family_id) == bigger
    assert store.families() == [bigger]


@on_both_stores
def test_a_revoked_card_is_kept_but_inactive(store: LocalStore) -> None:
    fam = family()
    store.record([registered(fam), card_assigned("04A23B1C", fam)])
    store.record([card_revoked("04A23B1C", fam)])
    assert store.card("04A23B1C") == Card("04A23B1C", fam.family_id, False)


@on_both_stores
def test_families_lists_every_family(store: LocalStore) -> None:
    fams = [family(f"Fam {n}") for n in range(5)]
    store.record([registered(f) for f in fams])
    assert sorted(f.family_id for f in store.families()) == sorted(f.family_id for f in fams)


def test_a_crash_between_journal_and_projections_is_repaired_on_open(
    open_store, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store()
    fam = family()

    def power_cut(self, changes, applied_seq):
        raise SystemExit("power cut")

    monkeypatch.setattr(Projection, "write", power_cut)
    with pytest.raises(SystemExit):
        store.record([registered(fam), card_assigned("04A23B1C", fam)])
    monkeypatch.undo()
    assert not (data_dir / "state" / "families.json").exists()  # the cut came before it
    reopened = open_store()
    assert reopened.family(fam.family_id) == fam
    assert reopened.card("04A23B1C") == Card("04A23B1C", fam.family_id, True)
    meta = json.loads((data_dir / "state" / "families.json").read_text())["meta"]["1"]
    assert meta["applied_seq"] == 2
    assert json.loads((data_dir / "seq.json").read_text())["seq"]["1"]["pending"] is None


def test_a_store_already_open_elsewhere_repairs_on_its_next_call(
    open_store, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, daemon = open_store(), open_store()
    fam = family()
    calls = {"n": 0}
    real_write = Projection.write

    def cut_after_families(self, changes, applied_seq):
        calls["n"] += 1
        if calls["n"] == 2:
            raise SystemExit("power cut")
        return real_write(self, changes, applied_seq)

    monkeypatch.setattr(Projection, "write", cut_after_families)
    with pytest.raises(SystemExit):
        app.record([registered(fam), card_assigned("04A23B1C", fam)])
    monkeypatch.undo()
    assert daemon.waiting_count() == 2  # any locked call finishes the interrupted write first
    assert daemon.card("04A23B1C") == Card("04A23B1C", fam.family_id, True)


@on_both_stores
def test_a_bad_registration_is_refused_before_anything_is_written(store: LocalStore) -> None:
    bad = event("member.registered", {"family": {"greeting_name": "No id"}})
    with pytest.raises(ValidationError, match="cannot be applied"):
        store.record([bad])
    assert store.highest_seq() == 0
    assert list(store.events()) == []


@on_both_stores
def test_roster_events_update_families_without_entering_the_outbox(store: LocalStore) -> None:
    fam = family()
    remote = [
        replace(registered(fam), device_id="kiosk-other"),
        replace(card_assigned("04A23B1C", fam), device_id="kiosk-other"),
    ]
    assert store.apply_remote(remote) == 2
    assert store.family(fam.family_id) == fam
    assert store.card("04A23B1C") is not None
    assert store.pending(10) == []
    assert store.waiting_count() == 0
    assert store.highest_seq() == 0
    assert list(store.events()) == []


@on_both_stores
def test_roster_events_applied_twice_change_nothing_the_second_time(store: LocalStore) -> None:
    fam = family()
    remote = [registered(fam), card_assigned("04A23B1C", fam)]
    assert store.apply_remote(remote) == 2
    assert store.apply_remote(remote) == 0
    assert store.families() == [fam]


@on_both_stores
def test_an_older_roster_event_does_not_undo_a_newer_change(store: LocalStore) -> None:
    fam = family()
    newer = fam.with_child("Ben")
    store.record([registered(fam, at()), updated(newer, at(hour=12))])
    stale = updated(replace(fam, greeting_name="Old name"), at(hour=11))
    assert store.apply_remote([stale]) == 0
    assert store.family(fam.family_id) == newer
    fresher = updated(replace(newer, greeting_name="New name"), at(hour=13))
    assert store.apply_remote([fresher]) == 1
    assert store.family(fam.family_id).greeting_name == "New name"


@on_both_stores
def test_a_roster_revocation_stops_the_card(store: LocalStore) -> None:
    fam = family()
    store.record([registered(fam, at()), card_assigned("04A23B1C", fam, at())])
    assert store.apply_remote([card_revoked("04A23B1C", fam, at() + timedelta(hours=1))]) == 1
    assert store.card("04A23B1C").active is False


def test_family_reads_on_the_tap_path_do_not_reparse_files(
    store: LocalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = DoorDesk(store, DEVICE)
    store.save_timetable(stay_and_play())
    uids = [f"04A23B{n:02X}" for n in range(20)]
    for n, uid in enumerate(uids):
        desk.register_family(f"Fam {n}", "WS7 1AA", [("Kid", None)], at(), card_uid=uid)
    parsed: list[str] = []
    real_parse = durable.parse_tables
    monkeypatch.setattr(
        durable, "parse_tables", lambda raw, p: parsed.append(p) or real_parse(raw, p)
    )
    for uid in uids:
        assert desk.tap(uid, at()).kind == "welcome"
        assert desk.tap(uid, at()).kind == "already_in"
    assert parsed == []


def test_a_family_registered_by_another_process_is_seen(open_store) -> None:
    app, admin = open_store(), open_store()
    assert app.families() == []
    fam = family()
    admin.record([registered(fam), card_assigned("04A23B1C", fam)])
    assert app.family(fam.family_id) == fam
    assert app.card("04A23B1C").family_id == fam.family_id
