"""The erasure rules both sides share (``kiosk.domain.erasure``)."""

from __future__ import annotations

from kiosk.domain.erasure import Erasure, family_hash, redact, scrub_event
from sync.protocol import validate_event

E = Erasure(family_id="F-7K3M9QX2AB", token="erased-0123456789abcdef", salt="s4lt")
ENVELOPE = {
    "event_id": "5b0f3c52-6c1e-4f5e-9d1e-0c6b1e1f2a3b",
    "seq": 7,
    "device_id": "k1",
    "site_id": "s1",
    "at": "2026-11-23T09:40:00Z",
    "clock_synced": True,
}


def test_a_scrubbed_attendance_keeps_the_decision_and_is_still_valid_on_the_wire():
    raw = {
        **ENVELOPE,
        "type": "attendance.recorded",
        "data": {
            "session": {
                "key": "2026-11-23/play",
                "slot_id": "play",
                "name": "Stay and Play",
                "date": "2026-11-23",
                "start": "09:30",
                "end": "11:30",
            },
            "family_id": E.family_id,
            "children": ["C-4D9PZ0R1KT", "C-5E0QZ1S2LV"],
            "adults": 2,
            "method": "card",
            "qualifies": True,
            "reasons": ["postcode"],
            "risk_version": "v3-1a2b3c",
            "greeting_name": "Sarah",  # a newer kiosk's extra field: dropped
        },
    }
    clean = scrub_event(raw, E)

    assert clean["data"]["family_id"] == E.token
    assert clean["data"]["children"] == [E.child("C-4D9PZ0R1KT"), E.child("C-5E0QZ1S2LV")]
    assert len(set(clean["data"]["children"])) == 2
    assert (clean["data"]["qualifies"], clean["data"]["reasons"], clean["seq"]) == (
        True,
        ["postcode"],
        7,
    )
    assert "greeting_name" not in clean["data"]
    assert scrub_event(clean, E) == clean  # twice is once
    assert validate_event(clean, "k1", "s1").ok


def test_scrubbed_member_and_card_events_are_valid_and_hold_nothing_personal():
    member = {
        **ENVELOPE,
        "type": "member.registered",
        "data": {
            "family": {
                "family_id": E.family_id,
                "greeting_name": "Sarah",
                "postcode": "WS7 1AA",
                "criteria": ["young_parent"],
                "children": [{"child_id": "C-4D9PZ0R1KT", "first_name": "Mia"}],
            }
        },
    }
    card = {
        **ENVELOPE,
        "type": "card.assigned",
        "data": {"uid": "04A23B1C", "family_id": E.family_id},
    }
    for raw in (member, card):
        clean = scrub_event(raw, E)
        text = str(clean)
        for secret in (
            "Sarah",
            "WS7 1AA",
            "young_parent",
            "Mia",
            "04A23B1C",
            E.family_id,
            "C-4D9PZ0R1KT",
        ):
            assert secret not in text
        assert validate_event(clean, "k1", "s1").ok


def test_the_hash_and_child_tokens_depend_on_the_salt():
    assert family_hash("a", "F-1") != family_hash("b", "F-1")
    assert Erasure("F-1", "erased-x", "a").child("C-1") != Erasure("F-1", "erased-x", "b").child(
        "C-1"
    )


def test_redact_takes_names_out_of_free_text_whatever_the_case():
    assert redact("SARAH came with mia (F-1)", ["Sarah", "Mia", "F-1", "x"]) == (
        "[erased] came with [erased] ([erased])"
    )
