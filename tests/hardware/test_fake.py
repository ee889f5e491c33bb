"""The fake readers behave like real ones and can be driven like gpiozero's mock pins."""

from __future__ import annotations

import os

import pytest

from kiosk.hardware.base import BadCardData, CardReader, ReaderError
from kiosk.hardware.fake import DEMO_CARDS, FakeReader, KeyboardReader, ScriptedReader


def test_fake_reader_is_a_card_reader():
    assert isinstance(FakeReader(), CardReader)
    assert FakeReader().name == "fake"


def test_present_and_remove_a_card_and_see_it_in_the_history(clock):
    reader = FakeReader(clock=clock)
    reader.present("04:a2:3b:1c")
    first = reader.read_uid(0.1)
    clock.advance(0.1)
    reader.remove()
    second = reader.read_uid(0.1)
    assert (first, second) == ("04A23B1C", None)
    assert [(r.at, r.uid) for r in reader.history] == [(1000.0, "04A23B1C"), (1000.1, None)]


def test_tap_leaves_the_card_for_the_hold_time_only(clock):
    reader = FakeReader(clock=clock)
    reader.tap("04A23B1C", hold=0.3)
    assert reader.card == "04A23B1C"
    clock.advance(0.3)
    assert reader.card is None


def test_fail_n_raises_for_the_next_n_polls_then_works(clock):
    reader = FakeReader(clock=clock)
    reader.present("04A23B1C")
    reader.fail(2, "timed out")
    for _ in range(2):
        with pytest.raises(ReaderError, match="timed out"):
            reader.read_uid(0.1)
    assert reader.read_uid(0.1) == "04A23B1C"
    assert [r.error for r in reader.history] == ["timed out", "timed out", None]


def test_a_broken_reader_fails_polls_and_resets_until_repaired():
    reader = FakeReader()
    reader.break_()
    with pytest.raises(ReaderError):
        reader.read_uid(0.1)
    with pytest.raises(ReaderError):
        reader.reset()
    reader.repair()
    reader.reset()
    assert reader.read_uid(0.1) is None
    assert reader.resets == 2


def test_garbage_cannot_be_put_on_the_fake_reader():
    with pytest.raises(BadCardData):
        FakeReader().present("not a card")


def test_closed_reader_refuses_to_read_and_closes_twice():
    with FakeReader() as reader:
        pass
    reader.close()
    with pytest.raises(ReaderError, match="closed"):
        reader.read_uid(0.1)


def test_scripted_reader_plays_its_taps_at_their_times(clock):
    reader = ScriptedReader([(1.0, "04A23B1C"), (2.0, "DE400111")], clock=clock)
    seen = {}
    for _ in range(50):
        uid = reader.read_uid(0.1)
        if uid and uid not in seen:
            seen[uid] = round(clock() - 1000.0, 1)
        clock.advance(0.1)
    assert seen == {"04A23B1C": 1.0, "DE400111": 3.0}
    assert reader.finished


def test_looping_script_never_finishes(clock):
    reader = ScriptedReader([(0.5, "04A23B1C")], loop=True, clock=clock)
    reads = []
    for _ in range(30):
        reads.append(reader.read_uid(0.1))
        clock.advance(0.1)
    assert not reader.finished
    assert reads.count("04A23B1C") >= 6


def test_keyboard_reader_takes_typed_card_numbers_and_demo_keys():
    read_fd, write_fd = os.pipe()
    with os.fdopen(write_fd, "w") as typing, os.fdopen(read_fd) as stream:
        reader = KeyboardReader(stream)
        assert reader.read_uid(0.01) is None
        typing.write("04a23b1c\n3\nhello\n")
        typing.flush()
        assert reader.read_uid(0.5) == "04A23B1C"
        assert reader.read_uid(0.5) == DEMO_CARDS["3"]
        with pytest.raises(BadCardData, match="not a card number"):
            reader.read_uid(0.5)


def test_keyboard_reader_reports_the_end_of_its_input():
    with open(os.devnull) as empty:
        reader = KeyboardReader(empty)
        with pytest.raises(ReaderError, match="ended"):
            reader.read_uid(0.01)


def test_demo_cards_are_valid_distinct_uids():
    assert len(set(DEMO_CARDS.values())) == 9
    assert all(len(uid) == 8 for uid in DEMO_CARDS.values())
