"""Giving a card to a family: a confirm step first, then "Undo" for a few
seconds, which takes the card back (``card.assigned`` then ``card.revoked``)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.ui

NEW_CARD = "04C0FFEE"


def card_events(kiosk) -> list[tuple[str, str, str]]:
    return [
        (e.type, e.data["uid"], e.data["family_id"])
        for e in kiosk.store.events()
        if e.type.startswith("card.") and e.data["uid"] == NEW_CARD
    ]


def pick_family_for_new_card(kiosk, name: str) -> None:
    kiosk.tap(NEW_CARD)
    kiosk.press(kiosk.button("I'm a volunteer"))
    kiosk.enter_pin("2468")
    assert kiosk.screen == "family_picker"
    kiosk.press_text(name)


def family_of(kiosk, uid: str) -> str | None:
    card = kiosk.store.card(uid)
    if card is None or not card.active:
        return None
    return kiosk.store.family(card.family_id).greeting_name


def test_one_tap_on_a_family_only_asks_and_cancel_gives_nothing(kiosk):
    pick_family_for_new_card(kiosk, "Tom")

    assert kiosk.screen == "volunteer_message"
    assert "Give this card to Tom?" in kiosk.texts()
    assert kiosk.button("Yes, give it to Tom").style == "primary"
    kiosk.shot("give-card/01-confirm")
    assert family_of(kiosk, NEW_CARD) is None
    assert card_events(kiosk) == []

    kiosk.press_text("Cancel")
    assert kiosk.screen == "family_picker"  # to choose the right family
    assert kiosk.app.last_unknown_card == NEW_CARD
    assert card_events(kiosk) == []


def test_undo_takes_the_card_back_and_it_can_go_to_the_right_family(kiosk):
    pick_family_for_new_card(kiosk, "Tom")
    kiosk.press_text("Yes, give it to Tom")
    assert "The card is now Tom's" in kiosk.texts()
    assert family_of(kiosk, NEW_CARD) == "Tom"
    kiosk.shot("give-card/02-given-with-undo")

    kiosk.press_text("Undo")
    assert "Undone: the card is not Tom's" in kiosk.texts()
    assert family_of(kiosk, NEW_CARD) is None
    tom = next(f.family_id for f in kiosk.store.families() if f.greeting_name == "Tom")
    assert card_events(kiosk) == [
        ("card.assigned", NEW_CARD, tom),
        ("card.revoked", NEW_CARD, tom),
    ]
    kiosk.shot("give-card/03-undone")

    kiosk.press_text("Give it to a family")
    assert kiosk.screen == "family_picker"
    kiosk.press_text("Magda")
    kiosk.press_text("Yes, give it to Magda")
    assert family_of(kiosk, NEW_CARD) == "Magda"

    kiosk.press_text("Done")
    kiosk.press(kiosk.current().ids.header.ids.back)  # lock
    kiosk.tap(NEW_CARD)
    assert "Welcome, Magda!" in kiosk.texts()


def test_the_undo_button_goes_after_fifteen_seconds(kiosk):
    pick_family_for_new_card(kiosk, "Tom")
    kiosk.press_text("Yes, give it to Tom")
    kiosk.advance(14)
    assert kiosk.button("Undo")
    kiosk.advance(2)
    assert not [b for b in kiosk.buttons() if b.text == "Undo"]
    assert family_of(kiosk, NEW_CARD) == "Tom"
    kiosk.shot("give-card/04-undo-gone")
