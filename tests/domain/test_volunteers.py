"""Volunteer PINs: the rules and hashing (kiosk.domain.volunteers), the lockout as a value, and
the volunteer book on disk (kiosk.store.volunteers). No Kivy here."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta

import pytest

from kiosk.domain.errors import NotFoundError, ValidationError
from kiosk.domain.volunteers import (
    LockedOut,
    LockoutPolicy,
    LockoutState,
    PinError,
    check_pin_rules,
    hash_pin,
    verify_pin,
)
from kiosk.store.volunteers import VOLUNTEERS_FILE, VolunteerBook

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize("pin", ["1234", "12345678", "0000"])
def test_pins_of_four_to_eight_digits_are_allowed(pin):
    assert check_pin_rules(pin) == pin


@pytest.mark.parametrize(
    ("pin", "words"),
    [
        ("123", "4 to 8 digits, not 3"),
        ("123456789", "4 to 8 digits, not 9"),
        ("12a4", "only contain the digits"),
        ("", "only contain the digits"),
        ("١٢٣٤", "only contain the digits"),  # Arabic-Indic digits are not on the keypad
    ],
)
def test_other_pins_are_refused_saying_what_a_pin_must_be(pin, words):
    with pytest.raises(PinError, match=words):
        check_pin_rules(pin)


def test_a_pin_hash_is_salted_and_verifies_only_the_same_pin():
    first, second = hash_pin("2468"), hash_pin("2468")
    assert first != second  # a fresh salt each time
    assert first.startswith("scrypt$") and "2468" not in first
    assert verify_pin("2468", first) and verify_pin("2468", second)
    assert not verify_pin("2469", first)


@pytest.mark.parametrize("stored", ["", "scrypt$1$2", "pbkdf2$x$y$z$a$b", "scrypt$a$b$c$!!$!!"])
def test_a_malformed_hash_never_verifies(stored):
    assert verify_pin("2468", stored) is False


def test_five_wrong_pins_in_a_row_lock_for_five_minutes():
    policy = LockoutPolicy()
    state = LockoutState()
    for _ in range(4):
        state = state.after_failure(T0, policy)
        assert not state.is_locked(T0)
    assert state.tries_left(policy) == 1
    state = state.after_failure(T0, policy)
    assert state.is_locked(T0)
    assert state.is_locked(T0 + timedelta(minutes=4, seconds=59))
    assert not state.is_locked(T0 + timedelta(minutes=5))


def test_a_lock_that_has_run_out_gives_a_fresh_set_of_tries():
    policy = LockoutPolicy(max_failures=2, lock_for=timedelta(minutes=1))
    state = LockoutState().after_failure(T0, policy).after_failure(T0, policy)
    later = T0 + timedelta(minutes=2)
    state = state.after_failure(later, policy)
    assert not state.is_locked(later) and state.failures == 1


def test_a_right_pin_clears_the_wrong_ones():
    policy = LockoutPolicy()
    state = LockoutState().after_failure(T0, policy).after_failure(T0, policy)
    assert state.after_success() == LockoutState()


def test_the_lockout_state_round_trips_through_json():
    state = LockoutState(failures=0, locked_until=T0)
    assert LockoutState.from_dict(json.loads(json.dumps(state.to_dict()))) == state


def test_locked_out_says_how_long_to_wait_in_plain_words():
    exc = LockedOut(T0 + timedelta(minutes=4, seconds=10), T0)
    assert exc.plain_wait() == "in 5 minutes"
    assert exc.plain_wait(T0 + timedelta(minutes=4)) == "in 1 minute"
    assert exc.plain_wait(T0 + timedelta(minutes=5)) == "in a moment"


def test_the_book_adds_checks_lists_and_removes_volunteers(tmp_path):
    book = VolunteerBook(tmp_path)
    book.add("Jo", "2468")
    book.add("alex", "13579")
    assert book.names() == ["alex", "Jo"]
    assert book.check("2468", T0) == "Jo"
    assert book.check("13579", T0) == "alex"
    assert book.check("0000", T0) is None
    book.remove("JO")
    assert book.names() == ["alex"]
    assert book.check("2468", T0) is None


def test_the_book_keeps_only_hashes_on_disk(tmp_path):
    VolunteerBook(tmp_path).add("Jo", "2468")
    raw = (tmp_path / VOLUNTEERS_FILE).read_text()
    assert "2468" not in raw
    assert json.loads(raw)["volunteers"][0]["pin_hash"].startswith("scrypt$")


def test_the_book_is_written_atomically_and_leaves_no_temporary_files(tmp_path):
    book = VolunteerBook(tmp_path)
    book.add("Jo", "2468")
    book.add("Sam", "1357")
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []
    assert os.stat(tmp_path / VOLUNTEERS_FILE).st_size > 0


def test_a_second_volunteer_may_not_share_a_pin_or_a_name(tmp_path):
    book = VolunteerBook(tmp_path)
    book.add("Jo", "2468")
    with pytest.raises(ValidationError, match="already uses that PIN"):
        book.add("Sam", "2468")
    with pytest.raises(ValidationError, match="already a volunteer called Jo"):
        book.add("jo", "1357")
    with pytest.raises(PinError):
        book.add("Sam", "12")
    with pytest.raises(ValidationError, match="volunteer name is empty"):
        book.add("  ", "1357")


def test_removing_someone_who_is_not_there_names_who_is(tmp_path):
    book = VolunteerBook(tmp_path)
    book.add("Jo", "2468")
    with pytest.raises(NotFoundError, match="volunteers: Jo"):
        book.remove("Kim")


def test_the_lockout_survives_a_restart_of_the_kiosk(tmp_path):
    VolunteerBook(tmp_path).add("Jo", "2468")
    for _ in range(4):
        assert VolunteerBook(tmp_path).check("1111", T0) is None
    with pytest.raises(LockedOut) as locked:
        VolunteerBook(tmp_path).check("1111", T0)
    assert locked.value.until == T0 + timedelta(minutes=5)
    with pytest.raises(LockedOut):
        VolunteerBook(tmp_path).check("2468", T0 + timedelta(minutes=1))  # new process, still
    assert VolunteerBook(tmp_path).check("2468", T0 + timedelta(minutes=5)) == "Jo"
    assert VolunteerBook(tmp_path).lockout() == LockoutState()


def test_the_policy_can_be_set_for_a_stricter_door(tmp_path):
    book = VolunteerBook(tmp_path, LockoutPolicy(max_failures=2, lock_for=timedelta(hours=1)))
    book.add("Jo", "2468")
    assert book.check("1111", T0) is None
    assert book.tries_left() == 1
    with pytest.raises(LockedOut):
        book.check("1111", T0)


def test_an_unreadable_book_is_reported_with_what_to_do(tmp_path):
    (tmp_path / VOLUNTEERS_FILE).write_text("{not json")
    with pytest.raises(Exception, match="cannot be read.*add the volunteers again"):
        VolunteerBook(tmp_path).names()


def test_an_empty_folder_has_no_volunteers_and_every_pin_is_wrong(tmp_path):
    book = VolunteerBook(tmp_path / "new")
    assert book.names() == []
    assert book.check("1234", T0) is None
