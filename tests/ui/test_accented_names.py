"""Names are typed in their own letters (Łucja, Ștefan, Zoë, Bogdán).

Every letter of each language's alphabet is typed on the on-screen keyboard, as a volunteer
does it (an accented letter by holding its plain letter down and tapping it in the row that
opens), in both cases; the family is registered, taps their new card, and the welcome greets
them, and shows their children, exactly as typed.
"""

from __future__ import annotations

import pytest
from fontTools.ttLib import TTFont
from kivy.core.text import LabelBase

from kiosk.i18n import translate
from kiosk.ui.letters import ACCENTS, accents, base_letter, cased, every_letter
from tests.ui.driver import make_kiosk

pytestmark = pytest.mark.ui

ALPHABETS = {
    "en": "abcdefghijklmnopqrstuvwxyz",
    "pl": "aąbcćdeęfghijklłmnńoóprsśtuwyzźż",
    "ro": "aăâbcdefghiîjklmnopqrsștțuvwxyz",
}
#: The accented letters of the families' other languages (French, German, Spanish, Czech...).
OTHERS = "".join(
    ch for ch in every_letter() if ch.islower() and ch not in ALPHABETS["pl"] + ALPHABETS["ro"]
)
#: (the language the volunteer works in, the letters typed): the other languages' letters are
#: typed on the Urdu screen, right to left around a keyboard that stays left to right.
CASES = [("en", ALPHABETS["en"]), ("pl", ALPHABETS["pl"]), ("ro", ALPHABETS["ro"]), ("ur", OTHERS)]
RLM = "\u200f"


def names_for(letters: str) -> list[str]:
    """Every letter as a capital and a small letter ("Ąą"), in names the kiosk accepts: the
    greeting name first (at most 40 characters), then children's names as long as a long first
    name (11 characters, like "Aleksandra" or "Maximilian")."""
    pairs = [cased(ch, capital=True) + ch for ch in letters]
    names, per_name = [], [13] + [4] * len(pairs)
    while pairs:
        n = per_name[len(names)]
        names.append(" ".join(pairs[:n]))
        pairs = pairs[n:]
    return names


def test_every_accented_letter_is_in_the_font_in_both_cases():
    roboto = LabelBase._fonts["Roboto"]
    letters = set(every_letter()) | set(ALPHABETS["pl"] + ALPHABETS["ro"])
    letters |= {cased(ch, capital=True) for ch in letters}
    for path in (roboto[0], roboto[2]):  # regular and bold (names are bold on the welcome)
        cmap = TTFont(path).getBestCmap()
        assert sorted(ch for ch in letters if ord(ch) not in cmap) == [], path


def test_each_accented_letter_is_held_under_one_plain_letter():
    held = "".join(ACCENTS.values())
    assert len(held) == len(set(held))
    for ch in "ąćęłńóśźżăâîșțéèëïöüáíñçß":
        assert base_letter(ch) is not None, ch
        assert cased(ch, capital=True) in accents(base_letter(ch))
        assert base_letter(cased(ch, capital=True)) == base_letter(ch)
    assert base_letter("q") is None and accents("Q") == ""
    assert cased("ß", capital=True) == "ß"  # one key, one letter (not "SS")


@pytest.mark.parametrize(("code", "letters"), CASES, ids=[code for code, _ in CASES])
def test_a_name_in_every_letter_of_the_alphabet_is_greeted_exactly(
    code, letters, kivy_window, tmp_path
):
    kiosk = make_kiosk(tmp_path)
    try:
        greeting, *children = names_for(letters)
        assert len(greeting) <= 40 and len(children) <= 8
        kiosk.press(kiosk.current().ids.languages.button(code))
        kiosk.unlock("2468")
        kiosk.press(kiosk.current().ids.register_family)

        kiosk.type(greeting[:4])
        board = kiosk.keyboard()
        held = board.key_button(base_letter(letters[1]) or "A")
        kiosk.hold(held, kiosk.app.timings.long_press)  # the accents open; the finger lifts
        assert board.picker is not None and [k.text for k in board.picker.keys] == [
            board.case_of(ch) for ch in held.accents
        ]
        kiosk.shot(f"accents/{code}-01-held-{held.key}")
        assert not kiosk.clipped() and not kiosk.small_text()
        kiosk.press(kiosk.current().ids.entry.ids.field)  # a tap elsewhere closes them
        assert board.picker is None and kiosk.current().ids.entry.text == greeting[:4]

        kiosk.type(greeting[4:])
        assert kiosk.current().ids.entry.text == greeting
        kiosk.shot(f"accents/{code}-02-typed")
        kiosk.press(kiosk.current().ids.header.ids.action)
        kiosk.type("ws71aa")
        kiosk.press(kiosk.current().ids.header.ids.action)
        for child in children:
            kiosk.type(child)
            kiosk.press_key("\n")
        for _ in range(3):  # children, grown-ups, consent
            kiosk.press(kiosk.current().ids.header.ids.action)
        kiosk.tap("04AB12CD", answered=False)
        kiosk.settle()
        assert kiosk.app.draft.card_uid == "04AB12CD"
        kiosk.press(kiosk.current().ids.register)
        assert kiosk.screen == "volunteer_message"
        [family] = [f for f in kiosk.store.families() if f.greeting_name == greeting]
        assert [c.first_name for c in family.children] == children

        kiosk.press(kiosk.current().ids.done)
        kiosk.press(kiosk.current().ids.header.ids.back)  # lock
        kiosk.press(kiosk.current().ids.languages.button(code))
        kiosk.tap("04AB12CD")
        assert kiosk.screen == "welcome", kiosk.texts()
        title = kiosk.current().ids.title.text
        expected = translate(code, "Welcome, {name}!").format(name=greeting)
        assert title.replace(RLM, "") == expected
        assert [chip.text for chip in kiosk.current().chips] == children
        kiosk.shot(f"accents/{code}-03-welcome")
        assert not kiosk.clipped() and not kiosk.small_text()
    finally:
        kiosk.close()
