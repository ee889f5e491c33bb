"""Volunteer mode: a PIN, the status at a glance, and the jobs a volunteer does at the door."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.fakes.store import MemoryStore
from tests.ui.driver import make_kiosk

pytestmark = pytest.mark.ui

#: Words that would give away whether a family qualifies: never on a door screen.
RISK_WORDS = ("qualif", "risk", "incentive", "deprived", "eligible")


def no_risk_words(kiosk) -> None:
    shown = kiosk.text().casefold()
    assert not any(word in shown for word in RISK_WORDS), shown


def test_the_right_pin_opens_volunteer_mode_with_the_status_at_a_glance(kiosk):
    kiosk.press(kiosk.current().ids.volunteer)
    assert kiosk.screen == "pin"
    assert "Enter your volunteer PIN, then press OK." in kiosk.texts()
    kiosk.shot("10-pin")

    kiosk.enter_pin("2468")

    assert kiosk.screen == "volunteer_home"
    text = kiosk.text()
    assert "Volunteer mode: Jo" in text
    assert "Stay and Play, 09:00 to 12:00" in text
    assert "Card reader working" in text
    assert "Not connected yet" in text and "saved here to send later" in text
    no_risk_words(kiosk)
    kiosk.shot("11-volunteer-home")


def test_a_wrong_pin_is_refused_in_plain_words(kiosk):
    kiosk.unlock("9999")
    assert kiosk.screen == "pin"
    assert "That PIN isn't right. 4 tries left before volunteer mode locks." in kiosk.texts()
    assert kiosk.app.volunteer_name == ""
    kiosk.shot("12-pin-wrong")


def test_a_short_pin_is_explained_before_it_is_checked(kiosk):
    kiosk.unlock("12")
    assert "A PIN has 4 to 8 digits." in kiosk.texts()


def test_five_wrong_pins_lock_volunteer_mode_for_five_minutes(kiosk):
    kiosk.unlock("1111")
    for _ in range(4):
        kiosk.enter_pin("1111")
    message = kiosk.current().message
    assert message.startswith("Too many wrong PINs")
    assert "try again in 5 minutes" in message
    kiosk.shot("13-pin-locked")

    kiosk.enter_pin("2468")  # even the right PIN waits
    assert kiosk.screen == "pin"
    assert "Too many wrong PINs" in kiosk.current().message

    kiosk.advance(5 * 60)
    assert kiosk.screen == "tap"  # the PIN screen went back to the door after 30 s idle
    kiosk.unlock("2468")
    assert kiosk.screen == "volunteer_home"


def test_volunteer_mode_locks_itself_when_nobody_touches_it(kiosk):
    kiosk.unlock("2468")
    kiosk.press(kiosk.button("Today's register"))
    kiosk.advance(100)
    assert kiosk.screen == "today"  # still in use
    kiosk.press(kiosk.current().ids.header.ids.back)  # a touch: the clock starts again
    kiosk.advance(100)
    assert kiosk.screen == "volunteer_home"
    kiosk.advance(30)
    assert kiosk.screen == "tap"
    assert kiosk.app.volunteer_name == ""
    kiosk.press(kiosk.current().ids.volunteer)
    assert kiosk.screen == "pin"  # the PIN is needed again


def test_lock_button_leaves_volunteer_mode(kiosk):
    kiosk.unlock("2468")
    kiosk.press(kiosk.current().ids.header.ids.back)
    assert kiosk.screen == "tap"
    assert kiosk.app.volunteer_name == ""


def test_an_unknown_card_is_given_to_a_family_straight_from_the_message(kiosk):
    new_card = "04C0FFEE"
    kiosk.tap(new_card)
    kiosk.press(kiosk.button("I'm a volunteer"))
    kiosk.enter_pin("2468")

    assert kiosk.screen == "family_picker"
    assert "Whose card is this? Tap the family" in kiosk.texts()
    kiosk.shot("14-assign-card-picker")
    kiosk.press_text("Tom")
    kiosk.press_text("Yes, give it to Tom")

    assert "The card is now Tom's" in kiosk.texts()
    kiosk.shot("15-assign-card-done")
    card = kiosk.store.card(new_card)
    assert card is not None and kiosk.store.family(card.family_id).greeting_name == "Tom"
    assert kiosk.desk.last_unknown_card is None

    kiosk.tap(new_card)
    assert "Welcome, Tom!" in kiosk.texts()


def test_from_volunteer_home_the_last_card_is_assigned_in_three_touches(kiosk):
    kiosk.unlock("2468")
    assert "Give the card just tapped to a family" not in kiosk.text()
    kiosk.tap("04D00D1E")  # a new family taps while the volunteer is there
    kiosk.press(kiosk.current().ids.ok)
    assert kiosk.screen == "volunteer_home"  # back where the volunteer was

    kiosk.press_text("Give the card just tapped to a family")  # touch 1
    kiosk.press_text("Magda")  # touch 2
    kiosk.press_text("Yes, give it to Magda")  # touch 3: the family is checked first

    assert "The card is now Magda's" in kiosk.texts()
    card = kiosk.store.card("04D00D1E")
    assert kiosk.store.family(card.family_id).greeting_name == "Magda"


def test_find_a_family_by_name_and_sign_them_in_choosing_children(kiosk):
    kiosk.unlock("2468")
    kiosk.press_text("Sign a family in")
    assert kiosk.screen == "family_picker"
    names = [b.family.greeting_name for b in kiosk.current().family_buttons]
    assert names == sorted(names, key=str.casefold) and "Priya" in names
    kiosk.shot("16-family-list")

    kiosk.press(kiosk.current().ids.search)
    kiosk.type("pri")
    assert [b.family.greeting_name for b in kiosk.current().family_buttons] == ["Priya"]
    kiosk.shot("17-family-search")
    kiosk.press_text("Priya")

    assert kiosk.screen == "choose_children"
    chips = {c.text: c for c in kiosk.current().chips}
    assert all(c.selected for c in chips.values())
    kiosk.press(chips["Dev"])
    kiosk.shot("18-choose-children")
    kiosk.press(kiosk.current().ids.sign_in)

    assert "Priya is signed in" in kiosk.texts()
    assert any("Arjun and Maya" in t for t in kiosk.texts())
    [attendance] = kiosk.store.attendances()
    assert attendance.method == "manual" and attendance.volunteer == "Jo"
    assert len(attendance.children) == 2
    no_risk_words(kiosk)


def test_a_search_that_finds_nobody_says_what_to_do(kiosk):
    kiosk.unlock("2468")
    kiosk.press_text("Sign a family in")
    kiosk.press(kiosk.current().ids.search)
    kiosk.type("zzz")
    assert any("No family called" in t and "register them" in t for t in kiosk.texts())


def test_signing_in_a_family_already_in_changes_nothing(kiosk):
    kiosk.tap(kiosk.card_of("Sarah"))
    kiosk.press(kiosk.current().ids.done)
    kiosk.unlock("2468")
    kiosk.press_text("Sign a family in")
    kiosk.press_text("Sarah")
    kiosk.press(kiosk.current().ids.sign_in)
    assert "Sarah was already signed in" in kiosk.texts()
    assert len(kiosk.store.attendances()) == 1


def test_register_a_new_family_step_by_step_with_a_new_card(kiosk):
    kiosk.unlock("2468")
    kiosk.press_text("New family")

    # 1. the name to greet them by
    assert kiosk.screen == "reg_name"
    kiosk.press(kiosk.current().ids.header.ids.action)
    assert "Greeting name is empty" in kiosk.current().message
    kiosk.type("chloe ann")
    assert kiosk.current().ids.entry.text == "Chloe Ann"
    kiosk.shot("20-register-name")
    kiosk.press(kiosk.current().ids.header.ids.action)

    # 2. the postcode, checked as it is entered
    assert kiosk.screen == "reg_postcode"
    kiosk.type("WS7 1AAA")
    kiosk.press(kiosk.current().ids.header.ids.action)
    assert kiosk.screen == "reg_postcode"
    assert kiosk.current().error
    assert "is not a UK postcode" in kiosk.current().message
    assert "like 1AA" in kiosk.current().message
    kiosk.shot("21-register-postcode-error")
    kiosk.press(kiosk.current().ids.entry.ids.clear_button)
    kiosk.type("ws71aa")
    kiosk.press(kiosk.current().ids.header.ids.action)

    # 3. the children
    assert kiosk.screen == "reg_children"
    kiosk.type("ruby")
    kiosk.press_key("\n")
    kiosk.type("finn")
    kiosk.press_key("\n")
    assert kiosk.app.draft.children == ["Ruby", "Finn"]
    assert any("Added: Ruby and Finn" in t for t in kiosk.texts())
    kiosk.shot("22-register-children")
    kiosk.press(kiosk.current().ids.header.ids.back)  # the list, to take one off
    kiosk.press(kiosk.current().child_chip("Finn"))
    assert kiosk.app.draft.children == ["Ruby"]
    kiosk.press(kiosk.current().ids.add_child)
    kiosk.type("finn")
    kiosk.press_key("\n")
    kiosk.press(kiosk.current().ids.header.ids.action)

    # 4. grown-ups and how they heard of us
    assert kiosk.screen == "reg_about"
    kiosk.press(kiosk.current().ids.more)
    kiosk.press(kiosk.current().heard_chip("friend"))
    assert kiosk.current().heard_chip("friend").selected
    kiosk.shot("23-register-about")
    kiosk.press(kiosk.current().ids.header.ids.action)

    # 5. criteria only with consent (the letters to tick appear once the family agrees)
    assert kiosk.screen == "reg_consent"
    assert kiosk.current().criterion_chip("young_parent") not in kiosk.buttons()
    kiosk.press(kiosk.current().ids.consent)
    kiosk.press(kiosk.current().criterion_chip("young_parent"))
    kiosk.shot("24-register-consent")
    kiosk.press(kiosk.current().ids.header.ids.action)

    # 6. a new card, tapped on the reader
    assert kiosk.screen == "reg_card"
    kiosk.tap("04AB12CD", answered=False)
    kiosk.settle()
    assert "Card ready: 04AB12CD" in kiosk.texts()
    assert kiosk.app.taps_answered == 0  # taken for the family, not checked in
    kiosk.shot("25-register-card")
    kiosk.press(kiosk.current().ids.register)

    assert kiosk.screen == "volunteer_message"
    assert "Welcome to the family, Chloe Ann!" in kiosk.texts()
    kiosk.shot("26-registered")
    family = next(f for f in kiosk.store.families() if f.greeting_name == "Chloe Ann")
    assert family.postcode == "WS7 1AA"
    assert [c.first_name for c in family.children] == ["Ruby", "Finn"]
    assert family.adults == 2 and family.heard_from == "friend"
    assert family.criteria == {"young_parent"} and family.consent_date is not None
    assert kiosk.store.card("04AB12CD").family_id == family.family_id

    kiosk.press_text("Sign them in now")  # all the children typed in: they came
    assert "Chloe Ann is signed in" in kiosk.texts()
    kiosk.tap("04AB12CD")
    assert "You're already signed in, Chloe Ann" in kiosk.texts()


def test_withdrawing_consent_clears_the_criteria(kiosk):
    kiosk.unlock("2468")
    kiosk.press_text("New family")
    kiosk.type("Dee")
    kiosk.press(kiosk.current().ids.header.ids.action)
    kiosk.type("WS13 6YY")
    kiosk.press(kiosk.current().ids.header.ids.action)
    kiosk.press(kiosk.current().ids.header.ids.action)  # no children come
    kiosk.press(kiosk.current().ids.header.ids.action)
    kiosk.press(kiosk.current().ids.consent)
    kiosk.press(kiosk.current().criterion_chip("single_parent"))
    kiosk.press(kiosk.current().ids.consent)  # they changed their mind
    assert kiosk.current().criterion_chip("single_parent") not in kiosk.buttons()
    assert not kiosk.current().criterion_chip("single_parent").selected
    kiosk.press(kiosk.current().ids.header.ids.action)
    kiosk.press(kiosk.current().ids.register)
    family = next(f for f in kiosk.store.families() if f.greeting_name == "Dee")
    assert family.criteria == frozenset() and family.consent_date is None
    assert family.children == ()


def test_a_card_that_already_belongs_to_a_family_is_refused_at_registration(kiosk):
    kiosk.unlock("2468")
    kiosk.press_text("New family")
    kiosk.type("Eve")
    kiosk.press(kiosk.current().ids.header.ids.action)
    kiosk.type("WS13 6YY")
    for _ in range(4):
        kiosk.press(kiosk.current().ids.header.ids.action)
    kiosk.tap(kiosk.card_of("Sarah"), answered=False)
    kiosk.settle()
    assert kiosk.current().message.startswith("That card already belongs to another family")
    assert kiosk.app.draft.card_uid is None
    kiosk.shot("25b-register-card-taken")
    kiosk.press(kiosk.current().ids.register)
    eve = next(f for f in kiosk.store.families() if f.greeting_name == "Eve")
    assert kiosk.store.card(kiosk.card_of("Sarah")).family_id != eve.family_id


def test_todays_register_shows_who_is_in_with_counts_and_nothing_else(kiosk):
    kiosk.tap(kiosk.card_of("Sarah"))
    kiosk.tap(kiosk.card_of("Priya"))
    kiosk.press(kiosk.current().chips[2])  # Dev stayed home
    kiosk.press(kiosk.current().ids.done)
    kiosk.unlock("2468")
    kiosk.press_text("Today's register")

    screen = kiosk.current()
    assert (screen.families_count, screen.adults_count, screen.children_count) == (2, 2, 4)
    text = kiosk.text()
    assert "Stay and Play, 09:00 to 12:00" in text
    assert "Sarah" in text and "Mia and Leo" in text
    assert "Priya" in text and "Arjun and Maya" in text
    no_risk_words(kiosk)
    kiosk.shot("27-todays-register")


def test_a_family_who_taps_during_volunteer_mode_is_welcomed_then_the_volunteer_carries_on(kiosk):
    kiosk.unlock("2468")
    kiosk.press_text("Today's register")
    kiosk.tap(kiosk.card_of("Tom"))
    assert "Welcome, Tom!" in kiosk.texts()
    kiosk.press(kiosk.current().ids.done)
    assert kiosk.screen == "today"
    assert kiosk.current().families_count == 1
    assert kiosk.app.volunteer_name == "Jo"


def test_start_a_one_off_session_when_none_is_timetabled(kiosk):
    kiosk.clock.advance(4 * 3600)  # 14:15: Stay and Play is over
    kiosk.unlock("2468")
    assert "No session on right now" in kiosk.text()
    kiosk.press_text("Start a session")
    assert kiosk.screen == "start_session"
    kiosk.press(kiosk.current().ids.hours_1)
    kiosk.press(kiosk.current().ids.name)
    kiosk.press(kiosk.current().ids.entry.ids.clear_button)
    kiosk.type("messy play")
    kiosk.shot("28-start-session-typing")
    kiosk.press(kiosk.current().ids.header.ids.action)  # done typing
    kiosk.shot("29-start-session")
    kiosk.press(kiosk.current().ids.start)

    assert "Messy Play has started" in kiosk.texts()
    assert any("It ends at 15:15" in t for t in kiosk.texts())
    kiosk.press(kiosk.current().ids.done)
    assert "Messy Play, 14:15 to 15:15" in kiosk.text()
    assert kiosk.current().ids.start_session.disabled
    kiosk.tap(kiosk.card_of("Aisha"))
    assert "Welcome, Aisha!" in kiosk.texts()


def test_no_session_at_sign_in_offers_to_start_one(kiosk):
    kiosk.clock.advance(4 * 3600)
    kiosk.unlock("2468")
    kiosk.press_text("Sign a family in")
    kiosk.press_text("Aisha")
    kiosk.press(kiosk.current().ids.sign_in)
    assert "No session is on right now" in kiosk.texts()
    kiosk.press_text("Start a session")
    assert kiosk.screen == "start_session"


def test_the_connection_is_described_without_jargon(tmp_path, kivy_window):
    store = MemoryStore(tmp_path / "data")
    kiosk = make_kiosk(tmp_path, store=store)
    try:
        store.mark_sent(e.event_id for e in store.pending(10_000))  # everything is sent
        store.update_sync_state(last_success=kiosk.clock.now() - timedelta(minutes=2))
        kiosk.unlock("2468")
        assert "Online: everything is sent" in kiosk.text()
        assert store.requeue_from(store.highest_seq() - 6) == 7  # the last seven wait again
        store.update_sync_state(last_success=kiosk.clock.now() - timedelta(hours=3))
        kiosk.app.refresh_status()
        kiosk.settle()
        assert "Offline: 7 updates saved here, last sent at 07:15" in kiosk.text()
        kiosk.shot("30-volunteer-home-offline")
        store.update_sync_state(last_success=None)  # a daemon that never ran
        kiosk.app.refresh_status()
        kiosk.settle()
        assert "Not connected yet" in kiosk.text()
    finally:
        kiosk.close()


def test_pins_are_stored_only_as_salted_hashes(kiosk):
    raw = (kiosk.store.data_dir / "volunteers.json").read_text()
    assert "2468" not in raw and "1234" not in raw
    entries = json.loads(raw)["volunteers"]
    assert all(v["pin_hash"].startswith("scrypt$") for v in entries)
