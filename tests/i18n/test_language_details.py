"""The details a volunteer noticed in Polish, Urdu and Romanian.

- the welcome's heading keeps to one line while it can ("Priya, obecność jest już zapisana"
  wrapped onto two and filled the band);
- the Urdu demo hint lists its keys in order ("1 Sarah، 2 Aisha..."): the leading "1" had been
  put to the right of the names, a key could be left at a line's end without its name, and a
  line starting with a key put it after its name;
- the button that signs a family in and the ones that register a new family use different
  words in every language (in Romanian both said "înregistrați");
- no text on any screen is under 20 px: ``tests/i18n/test_screens_fit.py`` walks every screen in
  every language and checks each label's size (``Kiosk.small_text``).
"""

from __future__ import annotations

import re

import pytest

from kiosk.i18n import LANGUAGES, translate
from kiosk.ui import theme
from kiosk.ui.bidi import visual_line
from kiosk.ui.fit import overflow
from tests.ui.driver import make_kiosk

pytestmark = pytest.mark.ui

CODES = [lang.code for lang in LANGUAGES]


@pytest.mark.parametrize("code", CODES)
def test_the_already_signed_in_heading_keeps_to_one_line(code, kivy_window, tmp_path):
    kiosk = make_kiosk(tmp_path)
    try:
        kiosk.press(kiosk.current().ids.languages.button(code))
        kiosk.tap(kiosk.card_of("Priya"))
        kiosk.press(kiosk.current().ids.done)
        kiosk.tap(kiosk.card_of("Priya"))  # her language is remembered
        assert kiosk.current().mode == "already_in"
        title = kiosk.current().ids.title
        assert overflow(title, title.font_size, max_lines=1) is None, title.text
        assert title.font_size >= theme.FONT_TITLE
        assert not kiosk.clipped() and not kiosk.small_text()
        kiosk.shot(f"language-details/{code}-already-in")
    finally:
        kiosk.close()


def test_a_long_heading_still_wraps_rather_than_shrink_away(kivy_window, tmp_path):
    kiosk = make_kiosk(tmp_path)
    try:
        name = "Mary-Jane Featherstonehaugh-Smith"
        kiosk.desk.register_family(name, "WS7 1AA", [], kiosk.clock.now(), card_uid="04CC0001")
        kiosk.tap("04CC0001")
        title = kiosk.current().ids.title
        assert overflow(title, title.font_size, max_lines=1) is not None  # two lines...
        assert title.font_size >= theme.FONT_TITLE  # ...of big type, all of it showing
        assert not kiosk.clipped()
    finally:
        kiosk.close()


#: A key and the name it taps in the demo hint, with a space or a no-break space between.
PAIR = re.compile(r"(\d)[ \u00a0]([A-Z][a-z]+)")


def test_the_urdu_demo_hint_lists_its_keys_in_order(kivy_window, tmp_path):
    kiosk = make_kiosk(tmp_path, demo=True, language="ur")
    try:
        notice = kiosk.current().ids.notice
        notice.texture_update()
        lines = ["".join(word.text for word in line.words) for line in notice._label._cached_lines]
        assert len(lines) > 1, "the hint wraps: the test needs a list broken across lines"
        # Each pair drawn whole, left to right; the list, like the sentence, reads from the right
        # of each line to its left, then on to the next line.
        drawn = [PAIR.findall(visual_line(line, rtl=True))[::-1] for line in lines]
        # The families' keys (key 0, "a new card", is in Urdu words, not a Latin name).
        cards = kiosk.app.demo_cards.values()
        expected = [(c.key, c.greeting_name) for c in cards if not c.new_card]
        assert [pair for line in drawn for pair in line] == expected, drawn
        for line in lines:  # no key at the end of a line with its name on the next
            assert not re.search(r"\d\s*$", line.replace("\u200e", "").replace("\u200f", ""))
        assert not kiosk.clipped() and not kiosk.small_text()
        kiosk.shot("language-details/ur-demo-hint")
    finally:
        kiosk.close()


#: The noun "family" in each language (a word both kinds of button may share).
FAMILY = {"en": "famil", "pl": "rodzi", "ro": "famil", "ur": "خاندا"}
SIGN_IN = ("Sign a family in", "Sign in", "Sign them in now", "Sign in: {name}")
REGISTER = ("New family", "Register the family", "Family registered")


def stems(texts: list[str]) -> set[str]:
    """The first five letters of each word of five letters or more, in lower case."""
    found = set()
    for text in texts:
        for word in re.findall(r"\w+", text.replace("{name}", "")):
            if len(word) >= 5:
                found.add(word.casefold()[:5])
    return found


@pytest.mark.parametrize("code", CODES)
def test_signing_in_and_registering_are_said_with_different_words(code):
    sign_in = stems([translate(code, m) for m in SIGN_IN])
    register = stems([translate(code, m) for m in REGISTER])
    assert sign_in & register <= {FAMILY[code]}, (
        [translate(code, m) for m in SIGN_IN],
        [translate(code, m) for m in REGISTER],
    )


def test_the_romanian_volunteer_home_has_two_different_buttons(kivy_window, tmp_path):
    kiosk = make_kiosk(tmp_path)
    try:
        kiosk.press(kiosk.current().ids.languages.button("ro"))
        kiosk.unlock("2468")
        home = kiosk.current()
        sign_in = home.ids.sign_in.text
        registering = [home.ids.register_family.text] + [translate("ro", m) for m in REGISTER]
        assert stems([sign_in]) & stems(registering) <= {"famil"}, (sign_in, registering)
        assert not kiosk.clipped() and not kiosk.small_text()
        kiosk.shot("language-details/ro-volunteer-home")
    finally:
        kiosk.close()
