"""Putting today's register right, in the desk and both stores: which session
the register shows, undoing a sign-in, signing out, and amendments from before these keys."""

from __future__ import annotations

import pytest

from kiosk.domain.attendance import amended, amendment_data
from kiosk.domain.errors import ValidationError
from tests.helpers import local_time

MONDAY = "2026-11-23"
KEY = f"{MONDAY}/stay-play"


def sarah(desk):
    desk.register_family(
        "Sarah",
        "WS7 1AA",
        [("Mia", None), ("Leo", None)],
        local_time(f"{MONDAY} 09:00"),
        card_uid="04A23B1C",
    )
    return desk.tap("04A23B1C", local_time(f"{MONDAY} 09:40"))


@pytest.mark.parametrize(
    ("clock", "shown", "live"),
    [
        ("08:00", "Stay and Play", False),  # none started yet: the first of the day
        ("09:40", "Stay and Play", True),
        ("11:35", "Stay and Play", False),  # a few minutes after the end
        ("22:00", "Stay and Play", False),
    ],
)
def test_the_register_shows_the_session_on_now_else_the_latest(desk, clock, shown, live):
    sarah(desk)
    register = desk.register(local_time(f"{MONDAY} {clock}"))
    assert register is not None
    assert (register.session.name, register.live) == (shown, live)
    assert [line.greeting_name for line in register.lines] == ["Sarah"]


def test_no_register_on_a_day_without_sessions(desk):
    assert desk.register(local_time("2026-11-24 10:00")) is None


def test_an_undone_sign_in_leaves_the_register_and_counts_no_children(desk, store):
    tap = sarah(desk)
    desk.undo_sign_in(KEY, tap.attendance_id, local_time(f"{MONDAY} 09:45"), "Jo")
    [att] = store.attendances_in(KEY)
    assert att.undone and att.children == ()
    register = desk.register(local_time(f"{MONDAY} 09:50"))
    assert (register.families, register.children) == (0, 0)
    again = desk.tap("04A23B1C", local_time(f"{MONDAY} 10:00"))
    assert (again.kind, again.attendance_id) == ("welcome", tap.attendance_id)
    [att] = store.attendances_in(KEY)
    assert not att.undone and len(att.children) == 2


def test_signing_out_is_a_time_on_the_attendance_never_after_the_end(desk, store):
    tap = sarah(desk)
    desk.sign_out(KEY, tap.attendance_id, local_time(f"{MONDAY} 14:00"), "Jo")
    [att] = store.attendances_in(KEY)
    assert att.signed_out_at == local_time(f"{MONDAY} 11:30")
    assert len(att.children) == 2
    desk.undo_sign_out(KEY, tap.attendance_id, local_time(f"{MONDAY} 14:01"), "Jo")
    [att] = store.attendances_in(KEY)
    assert att.signed_out_at is None


def test_an_undone_sign_in_cannot_be_signed_out(desk):
    tap = sarah(desk)
    desk.undo_sign_in(KEY, tap.attendance_id, local_time(f"{MONDAY} 09:45"))
    with pytest.raises(ValidationError, match="undone"):
        desk.sign_out(KEY, tap.attendance_id, local_time(f"{MONDAY} 10:00"))


def test_an_amendment_from_before_is_signed_in_and_not_undone(desk, store):
    tap = sarah(desk)
    [att] = store.attendances_in(KEY)
    old = {
        "attendance_id": att.attendance_id,
        "session_key": KEY,
        "family_id": att.family_id,
        "children": [att.children[0]],
        "volunteer": None,
    }
    after = amended(att, old)
    assert after.children == att.children[:1]
    assert (after.signed_out_at, after.undone) == (None, False)
    with pytest.raises(ValueError, match="no children"):
        amendment_data(att, att.children, None, undone=True)
    assert tap.kind == "welcome"
