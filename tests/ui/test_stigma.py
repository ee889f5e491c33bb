"""The stigma rule, proven on pixels: two families with the same names, one whose attendance
qualifies for the incentive and one whose does not, see exactly the same screen, hear the same
sound and see the same light, in every language the kiosk speaks."""

from __future__ import annotations

import pytest
from PIL import ImageChops

from kiosk.i18n import LANGUAGES, translate
from kiosk.ui import words
from kiosk.ui.snapshot import grab_image
from tests.ui.driver import SCREENSHOTS

pytestmark = pytest.mark.ui

CODES = [lang.code for lang in LANGUAGES]

QUALIFYING = ("04AA0001", "WS7 1AA")  # on the demo risk list (a full postcode)
NOT_QUALIFYING = ("04AA0002", "WS13 6YY")  # on no list


def register_sam(kiosk, uid: str, postcode: str, criteria=(), language=None) -> None:
    kiosk.desk.register_family(
        "Sam",
        postcode,
        [("Ava", None), ("Noah", None)],
        kiosk.clock.now(),
        card_uid=uid,
        criteria=criteria,
        consent=bool(criteria),
        language=language,
    )


def welcome_pixels(kiosk, uid: str, title: str = "Welcome, Sam!"):
    kiosk.tap(uid)
    assert kiosk.current().title == words.welcome_title("Sam")  # in the family's language
    assert kiosk.current().title.replace("\u200f", "") == title
    assert kiosk.texts().count(kiosk.current().title) == 1
    image = grab_image()
    kiosk.press(kiosk.current().ids.done)
    return image


def test_a_qualifying_and_a_non_qualifying_family_see_identical_welcome_screens(kiosk):
    register_sam(kiosk, *QUALIFYING)
    register_sam(kiosk, *NOT_QUALIFYING)

    qualifying = welcome_pixels(kiosk, QUALIFYING[0])
    not_qualifying = welcome_pixels(kiosk, NOT_QUALIFYING[0])

    decisions = sorted(a.decision.qualifies for a in kiosk.store.attendances())
    assert decisions == [False, True], "the test needs one family of each kind"
    assert qualifying.size == (800, 480)
    assert ImageChops.difference(qualifying, not_qualifying).getbbox() is None
    assert kiosk.feedback.signals == ["welcome", "welcome"]
    qualifying.save(SCREENSHOTS / "stigma-welcome-qualifying.png")
    not_qualifying.save(SCREENSHOTS / "stigma-welcome-not-qualifying.png")

    # The comparison can see a difference: another family's welcome is not the same picture.
    kiosk.tap(kiosk.card_of("Tom"))
    tom = grab_image()
    assert ImageChops.difference(qualifying, tom).getbbox() is not None


def test_already_signed_in_screens_are_identical_too(kiosk):
    register_sam(kiosk, *QUALIFYING, criteria=("young_parent",))
    register_sam(kiosk, *NOT_QUALIFYING)
    for uid, _ in (QUALIFYING, NOT_QUALIFYING):
        kiosk.tap(uid)
        kiosk.press(kiosk.current().ids.done)

    pictures = []
    for uid, _ in (QUALIFYING, NOT_QUALIFYING):
        kiosk.tap(uid)
        assert "You're already signed in, Sam" in kiosk.texts()
        pictures.append(grab_image())
        kiosk.press(kiosk.current().ids.done)

    assert ImageChops.difference(*pictures).getbbox() is None
    assert kiosk.feedback.signals == ["welcome", "welcome", "already_in", "already_in"]


def test_the_register_a_volunteer_sees_shows_both_families_alike(kiosk):
    register_sam(kiosk, *QUALIFYING)
    register_sam(kiosk, *NOT_QUALIFYING)
    for uid, _ in (QUALIFYING, NOT_QUALIFYING):
        kiosk.tap(uid)
        kiosk.press(kiosk.current().ids.done)
    kiosk.unlock("2468")
    kiosk.press_text("Today's register")

    # Each line: the family's words, then its buttons (the same for everyone).
    lines = [[w.text for w in row.children] for row in kiosk.current().ids.lines.children]
    assert len(lines) == 2
    assert lines[0] == lines[1]  # same names, same time, same method: nothing tells them apart


@pytest.mark.parametrize("code", CODES)
def test_in_every_language_both_families_see_the_same_welcome(code, kiosk):
    """Each family's saved language greets them; the pictures still cannot tell them apart."""
    register_sam(kiosk, *QUALIFYING, language=code)
    register_sam(kiosk, *NOT_QUALIFYING, language=code)
    title = translate(code, "Welcome, {name}!").format(name="Sam")

    qualifying = welcome_pixels(kiosk, QUALIFYING[0], title)
    not_qualifying = welcome_pixels(kiosk, NOT_QUALIFYING[0], title)

    decisions = sorted(a.decision.qualifies for a in kiosk.store.attendances())
    assert decisions == [False, True], "the test needs one family of each kind"
    assert ImageChops.difference(qualifying, not_qualifying).getbbox() is None
    assert kiosk.feedback.signals == ["welcome", "welcome"]
    (SCREENSHOTS / code).mkdir(parents=True, exist_ok=True)
    qualifying.save(SCREENSHOTS / code / "stigma-welcome.png")
    # The language really changed the picture (the comparison is not blind to words).
    if code != "en":
        register_sam(kiosk, "04AA0003", "WS13 6YY", language="en")
        english = welcome_pixels(kiosk, "04AA0003")
        assert ImageChops.difference(qualifying, english).getbbox() is not None
