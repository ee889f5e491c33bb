"""Urdu on screen: letters joined, lines right to left, the font has every letter, and the
drawing really is what the shaping says (compared pixel by pixel with Kivy's own drawing)."""

from __future__ import annotations

import re

import pytest
from fontTools.ttLib import TTFont
from kivy.core.text import LabelBase
from kivy.core.text.text_sdl2 import LabelSDL2
from PIL import Image, ImageChops

from kiosk.i18n import LANGUAGES
from kiosk.locale.catalogues import entries, forms, po_path, read_po
from kiosk.ui import shaping
from kiosk.ui.bidi import (
    ARABIC_SCRIPT,
    font_runs,
    has_rtl,
    paragraph_is_rtl,
    reshape,
    visual_line,
)
from kiosk.ui.fonts import make_fonts
from tests.ui.driver import SCREENSHOTS

RLM = "\u200f"


def urdu_texts() -> list[str]:
    texts = [form for e in entries(read_po(po_path("ur"))) for form in forms(e)]
    return texts + [lang.name for lang in LANGUAGES]


# -- the shaping, as text ------------------------------------------------------------------------
def test_letters_are_joined_into_their_contextual_forms():
    # اردو: alef (isolated), re (isolated: alef does not join to the left), dal, waw.
    assert reshape("اردو") == "\ufe8d\ufead\ufea9\ufeed"
    # لگائیں: lam initial, gaf medial, alef final, hamza-yeh initial... noon ghunna final.
    shaped = reshape("لگائیں")
    assert shaped[0] == "\ufedf" and shaped[1] == "\ufb95" and shaped[-1] == "\ufb9f"
    assert not ARABIC_SCRIPT.fullmatch("\u0627") or reshape("ا") == "\ufe8d"


def test_a_line_is_drawn_right_to_left_with_latin_names_left_to_right():
    line = visual_line(f"خوش آمدید، {RLM}Sarah{RLM}!", rtl=True)
    assert line.startswith("!Sarah ،")  # the end of the sentence is at the left
    assert line.endswith(reshape("خوش")[::-1])  # its first word at the right, read leftwards
    # Digits keep their order; a session name keeps to itself (kiosk.i18n.isolate).
    line = visual_line(f"{RLM}Stay and Play{RLM}، 09:00 سے 12:00 تک", rtl=True)
    assert line.endswith("09:00 ،Stay and Play")
    assert line.startswith(reshape("تک")[::-1] + " 12:00")


def test_brackets_in_right_to_left_text_are_mirrored():
    line = visual_line("کیسے پتا چلا؟ (اختیاری)", rtl=True)
    assert line.startswith("(") and ")" in line[1:] and line.index(")") < line.index("؟")
    assert visual_line("Search (tap here)", rtl=False) == "Search (tap here)"


def test_left_to_right_text_is_left_alone():
    for text in ("Tap your card", "Przyłóż kartę", "Atingeți cardul", "10:15"):
        assert not has_rtl(text)
        assert visual_line(text) == text and reshape(text) == text


def test_runs_split_urdu_letters_from_latin_names_and_digits():
    runs = font_runs(visual_line(f"{RLM}Priya{RLM}، آپ کی حاضری درج ہے", rtl=True))
    assert [arabic for _, arabic in runs] == [True, False]
    assert runs[1][0] == "Priya"
    assert " " in runs[0][0], "spaces between Urdu words stay in the Urdu run"


def test_a_paragraph_takes_its_direction_from_its_first_strong_letter():
    assert paragraph_is_rtl("اپنا کارڈ لگائیں")
    assert paragraph_is_rtl(f"{RLM}Priya{RLM}، آپ کی حاضری")  # a name first, marked
    assert not paragraph_is_rtl("Tap your card")
    assert paragraph_is_rtl("[b]سیشن[/b]\nStay", markup=True)


# -- the font ------------------------------------------------------------------------------------
@pytest.mark.parametrize("style", make_fonts.STYLES)
def test_the_urdu_font_has_every_letter_the_kiosk_uses_within_its_line_box(style):
    font = TTFont(make_fonts.target(style))
    cmap, glyf, upem = font.getBestCmap(), font["glyf"], font["head"].unitsPerEm
    up, down = font["hhea"].ascent, -font["hhea"].descent
    assert (up, down) == (round(make_fonts.ASCENT * upem), round(make_fonts.DESCENT * upem))
    needed = set()
    for text in urdu_texts():
        for run in ARABIC_SCRIPT.findall(visual_line(text, rtl=True)):
            needed.update(run)
    assert len(needed) > 60
    missing = sorted(f"U+{ord(ch):04X}" for ch in needed if ord(ch) not in cmap)
    assert missing == []
    for ch in needed:
        glyph = glyf[cmap[ord(ch)]]
        if glyph.numberOfContours:
            assert glyph.yMax <= up and glyph.yMin >= -down, f"U+{ord(ch):04X} leaves the box"


@pytest.mark.parametrize("style", make_fonts.STYLES)
def test_the_urdu_font_is_a_renamed_modified_noto_under_the_ofl(style):
    font = TTFont(make_fonts.target(style))
    names = font["name"]
    assert names.getDebugName(1) == make_fonts.FAMILY
    assert "Noto" not in names.getDebugName(1) + names.getDebugName(6)
    assert "Open Font License" in names.getDebugName(13)
    licence = (make_fonts.HERE / "OFL.txt").read_text()
    assert (
        "SIL OPEN FONT LICENSE Version 1.1" in licence and "Copyright 2019-2020 Google" in licence
    )


@pytest.mark.parametrize("code", ["pl", "ro"])
def test_roboto_has_every_polish_and_romanian_letter(code):
    roboto = LabelBase._fonts["Roboto"]
    letters = {ch for e in entries(read_po(po_path(code))) for form in forms(e) for ch in form}
    letters |= set("ąęłżźśćńóĄĘŁŻŹŚĆŃÓșțăîâȘȚĂÎÂ")
    for path in (roboto[0], roboto[2]):  # regular and bold
        cmap = TTFont(path).getBestCmap()
        missing = sorted(ch for ch in letters if ch.strip() and ord(ch) not in cmap)
        assert missing == [], path


# -- the drawing ---------------------------------------------------------------------------------
def texture_image(core) -> Image.Image:
    core.refresh()
    texture = core.texture
    return Image.frombytes("RGBA", texture.size, texture.pixels)


def ink(image: Image.Image) -> Image.Image:
    """The drawn letters alone: the alpha channel, cropped to where there is any."""
    alpha = image.getchannel("A")
    return alpha.crop(alpha.getbbox())


@pytest.mark.ui
def test_urdu_is_drawn_exactly_as_its_shaped_right_to_left_form(kivy_window):
    assert shaping.installed()
    text = "خوش آمدید"
    drawn = texture_image(shaping.ShapedLabel(text=text, font_size=40, color=(0, 0, 0, 1)))
    # Kivy's own label, given the joined letters in drawing order, in the Urdu font at the size
    # the shaped label draws Urdu at: the same letters must come out, pixel for pixel.
    urdu = {"font_name": shaping.URDU_FONT_FILES[False], "color": (0, 0, 0, 1)}
    expected = LabelSDL2(text=visual_line(text), font_size=40 * shaping.URDU_SCALE, **urdu)
    as_they_come = LabelSDL2(text=text, font_size=40 * shaping.URDU_SCALE, **urdu)
    expected_ink, drawn_ink = ink(texture_image(expected)), ink(drawn)
    assert drawn_ink.size == expected_ink.size
    assert ImageChops.difference(drawn_ink, expected_ink).getbbox() is None
    # ...and not what Kivy alone draws: the letters unjoined, left to right.
    plain_ink = ink(texture_image(as_they_come))
    assert (
        plain_ink.size != expected_ink.size
        or ImageChops.difference(plain_ink, expected_ink).getbbox()
    )
    picture = Image.new("L", (max(drawn_ink.width, plain_ink.width), 2 * drawn_ink.height + 20))
    picture.paste(drawn_ink, (0, 0))
    picture.paste(plain_ink, (0, drawn_ink.height + 20))
    (SCREENSHOTS / "ur").mkdir(parents=True, exist_ok=True)
    Image.eval(picture, lambda v: 255 - v).save(SCREENSHOTS / "ur" / "shaped-vs-kivy-alone.png")


@pytest.mark.ui
def test_latin_text_is_drawn_exactly_as_kivy_draws_it(kivy_window):
    for text in ("Tap your card", "Zażółć gęślą jaźń — șase țânțari", "Sarah\nMia and Leo"):
        options = {"text": text, "font_size": 30, "color": (0, 0, 0, 1)}
        ours, kivys = shaping.ShapedLabel(**options), LabelSDL2(**options)
        assert ImageChops.difference(texture_image(ours), texture_image(kivys)).getbbox() is None


def test_no_urdu_letter_is_left_for_roboto():
    """Every Arabic-script character of the catalogue falls in an Urdu-font run."""
    for text in urdu_texts():
        for piece, arabic in font_runs(visual_line(text, rtl=True)):
            if not arabic:
                assert not re.search("[\u0600-\u06ff\ufb50-\ufdff\ufe70-\ufefc]", piece), text
