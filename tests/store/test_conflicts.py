"""A copy the server holds differently: set aside on the kiosk as a conflict, shown
as a failure everywhere the kiosk's health is shown, never re-sent by 'retry --all', settled by
the admin in the server's favour."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kiosk.domain.desk import DoorDesk
from kiosk.domain.events import DeviceIdentity
from kiosk.domain.timetable import Timetable, make_slot
from kiosk.health import assess, read_facts
from kiosk.i18n import LANGUAGES, catalogue
from kiosk.store import LocalStore

MONDAY = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
CONFLICT_ID = "{n} sign-in differs from the server's copy: ask the admin to check this kiosk"
CONFLICT_PLURAL = "{n} sign-ins differ from the server's copy: ask the admin to check this kiosk"


@pytest.fixture
def store(tmp_path):
    store = LocalStore(tmp_path)
    store.save_timetable(Timetable().add(make_slot("play", "Play", "09:00", "12:00", "mon")))
    desk = DoorDesk(store, DeviceIdentity("kiosk-1", "library"))
    family = desk.register_family("Amy", "WS7 1AA", [("Ben", None)], at=MONDAY, card_uid="04A1B2C3")
    desk.tap("04A1B2C3", MONDAY)
    return store, family


def test_a_conflict_is_set_aside_counted_apart_and_not_retried(store):
    store, _family = store
    events = store.pending(10)
    store.mark_sent([e.event_id for e in events[:-1]])
    came = events[-1]
    store.mark_rejected(came.event_id, "event_id: the server already holds ...", kind="conflict")
    assert store.waiting_count() == 0
    [entry] = store.rejected()
    assert entry["kind"] == "conflict"

    facts = read_facts(store, clock_synced=True)
    assert (facts.conflicts, facts.rejected) == (1, 0)
    health = assess(facts, MONDAY)
    assert health.level == "fail" and health.worst.code == "conflict"
    assert "differ from the copy the server already holds" in health.line()
    assert "kiosk-admin rejected keep-server" in health.line()

    assert store.retry_rejected(None) == []  # --all leaves conflicts for comparing
    assert store.waiting_count() == 0
    with pytest.raises(LookupError):
        store.keep_server_copy(["no-such-event"])
    assert store.keep_server_copy([came.event_id]) == [came.event_id]
    assert store.rejected() == []
    assert assess(read_facts(store, clock_synced=True), MONDAY).ok


@pytest.mark.parametrize("code", [lang.code for lang in LANGUAGES if lang.code != "en"])
def test_the_volunteers_words_for_a_conflict_are_translated(code):
    for n in (1, 2, 5):
        words = catalogue(code).ngettext(CONFLICT_ID, CONFLICT_PLURAL, n)
        assert words and words != (CONFLICT_ID if n == 1 else CONFLICT_PLURAL)
        assert "{n}" in words
