"""The UI's pure parts: status in plain words, countdowns, the worker, the registration draft."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from kiosk.domain.errors import ValidationError
from kiosk.domain.postcodes import PostcodeError
from kiosk.ui import words
from kiosk.ui.draft import RegistrationDraft
from kiosk.ui.status import connection_light, parse_when, reader_light, store_connection_light
from kiosk.ui.timers import Countdown
from kiosk.ui.worker import Worker

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
JARGON = ("outbox", "http", "sync", "event", "queue", "error", "none", "null")


@pytest.mark.parametrize(
    ("waiting", "last", "text", "ok"),
    [
        (0, NOW - timedelta(minutes=3), "Online: everything is sent", True),
        (4, NOW - timedelta(minutes=3), "Online: sending 4 updates", True),
        (1, None, "Not connected yet: 1 update saved here to send later", False),
        (0, None, "Not connected yet: nothing waiting", False),
        (9, NOW - timedelta(hours=2), "Offline: 9 updates saved here, last sent at 08:00", False),
        (
            9,
            NOW - timedelta(days=1),
            "Offline: 9 updates saved here, last sent yesterday at 10:00",
            False,
        ),
        (2, NOW - timedelta(days=9), "Offline: 2 updates saved here, last sent on 14 Nov", False),
        (0, NOW - timedelta(hours=2), "Offline: nothing waiting, last sent at 08:00", False),
    ],
)
def test_the_connection_is_told_in_plain_words(waiting, last, text, ok):
    light = connection_light(waiting, last, NOW)
    assert (light.text, light.ok) == (text, ok)
    assert not any(j in light.text.casefold() for j in JARGON)


@pytest.mark.parametrize(
    "value",
    ["2026-11-23T09:58:00Z", "2026-11-23T09:58:00+00:00", NOW.timestamp() - 120, NOW],
)
def test_last_success_is_understood_in_any_reasonable_form(value):
    assert parse_when(value) is not None


@pytest.mark.parametrize("value", [None, "", "yesterday", {"a": 1}, float("inf")])
def test_odd_sync_state_values_are_ignored(value):
    assert parse_when(value) is None


def test_a_store_without_sync_methods_still_gets_a_status_line():
    class Bare:
        pass

    class Broken:
        def waiting_count(self):
            raise OSError("disk")

        def sync_state(self):
            return {"unexpected": True}

    assert store_connection_light(Bare(), NOW).text == "Connection not known"
    assert store_connection_light(Broken(), NOW).text == "Connection not known"


def test_the_readers_own_words_are_shown():
    class Health:
        plain_words = "Card reader not answering — check its cable"
        is_ok = False

    assert reader_light(Health()).text.startswith("Card reader not answering")
    assert reader_light(Health()).ok is False
    assert reader_light(None).ok is True


def test_a_countdown_runs_on_the_clock_it_is_given():
    now = [0.0]
    countdown = Countdown(8, lambda: now[0])
    assert not countdown.expired() and countdown.fraction_left() == 1.0
    countdown.restart()
    now[0] = 6.0
    assert countdown.fraction_left() == pytest.approx(0.25)
    countdown.restart()
    now[0] = 13.9
    assert not countdown.expired()
    now[0] = 14.0
    assert countdown.expired()
    countdown.stop()
    assert not countdown.expired()


def test_the_worker_runs_calls_in_order_off_the_calling_thread():
    seen, threads = [], set()
    worker = Worker(post=lambda fn: fn())
    for i in range(5):
        worker.submit(
            lambda i=i: threads.add(threading.current_thread().name) or i, on_done=seen.append
        )
    assert worker.join_idle(5)
    assert seen == [0, 1, 2, 3, 4]
    assert threading.current_thread().name not in threads
    worker.stop()
    worker.stop()


def test_the_worker_hands_exceptions_back_and_carries_on():
    errors, results = [], []
    worker = Worker(post=lambda fn: fn())
    worker.submit(lambda: 1 / 0, on_error=errors.append)
    worker.submit(lambda: "still here", on_done=results.append)
    assert worker.join_idle(5)
    assert isinstance(errors[0], ZeroDivisionError) and results == ["still here"]
    worker.stop()


def test_the_draft_checks_each_answer_as_it_is_given():
    draft = RegistrationDraft()
    assert draft.set_greeting_name("  Sarah   Jane ") == "Sarah Jane"
    with pytest.raises(PostcodeError, match="is not a UK postcode"):
        draft.set_postcode("WS7 1AAA")
    assert draft.set_postcode("ws71aa") == "WS7 1AA"
    draft.add_child("Mia")
    with pytest.raises(ValidationError, match="Mia is already on the list"):
        draft.add_child("mia")
    assert draft.set_adults(9) == 6 and draft.set_adults(0) == 1


def test_criteria_need_consent_and_go_when_it_is_withdrawn():
    draft = RegistrationDraft()
    with pytest.raises(ValidationError, match="agreement"):
        draft.toggle_criterion("young_parent")
    draft.set_consent(True)
    assert draft.toggle_criterion("young_parent") is True
    draft.set_consent(False)
    assert draft.criteria == set()


def test_names_are_joined_as_people_say_them():
    assert words.join_names([]) == ""
    assert words.join_names(["Mia"]) == "Mia"
    assert words.join_names(["Mia", "Leo"]) == "Mia and Leo"
    assert words.join_names(["Mia", "Leo", "Zara"]) == "Mia, Leo and Zara"


def test_domain_messages_become_sentences():
    assert words.sentence("greeting name is empty") == "Greeting name is empty."
    assert words.sentence("done!") == "Done!"
