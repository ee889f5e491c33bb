"""The gettext catalogues: complete, consistent with the code, compiled, and honest about review.

Plain Python: nothing here starts Kivy.
"""

from __future__ import annotations

import gettext
import io

import pytest

from kiosk import i18n
from kiosk.i18n import LANGUAGES
from kiosk.locale import catalogues
from kiosk.locale.catalogues import (
    NEEDS_REVIEW,
    NEEDS_REVIEW_NOTE,
    REVIEW_FIELD,
    KioskCatalog,
    compile_mo,
    entries,
    extract,
    format_po,
    forms,
    mo_path,
    msgid,
    parse_po,
    placeholders,
    plural,
    po_path,
    read_po,
    translated,
)
from kiosk.locale.kv import extract_kv

CODES = [lang.code for lang in LANGUAGES]
DRAFTS = [code for code in CODES if code != i18n.DEFAULT_LANGUAGE]


@pytest.fixture(scope="module")
def messages():
    return extract()


def test_the_catalogues_have_no_problems(messages):
    """Every word in the code is in every catalogue, translated, with its {placeholders};
    nothing is fuzzy or stale; the plural rules are right; the .mo files match the .po files."""
    assert catalogues.problems(messages) == []


def test_the_code_has_words_to_translate(messages):
    msgids = {msgid(m) for m in entries(messages)}
    assert len(msgids) > 150
    for door_word in ("Tap your card", "Welcome, {name}!", "We don't know this card yet"):
        assert door_word in msgids
    assert any(plural(m) for m in entries(messages)), "counts use ngettext"


@pytest.mark.parametrize("code", CODES)
def test_every_entry_is_translated_in_every_language(code, messages):
    po = read_po(po_path(code))
    untranslated = [msgid(e) for e in entries(po) if not translated(e)]
    assert untranslated == []
    assert {(msgid(e), plural(e)) for e in entries(po)} == {
        (msgid(m), plural(m)) for m in entries(messages)
    }


def test_english_says_exactly_what_the_code_says():
    po = read_po(po_path("en"))
    for entry in entries(po):
        expected = [msgid(entry)] if plural(entry) is None else [msgid(entry), plural(entry)]
        assert forms(entry) == expected


@pytest.mark.parametrize("code", DRAFTS)
def test_each_draft_is_marked_for_review_by_a_native_speaker(code):
    po = read_po(po_path(code))
    assert po.extra_headers[REVIEW_FIELD] == NEEDS_REVIEW
    assert NEEDS_REVIEW_NOTE in po.header_comment
    assert not any(e.fuzzy for e in entries(po)), "gettext would not show fuzzy entries"
    info = gettext.GNUTranslations(mo_path(code).open("rb")).info()
    assert info["x-review-status"] == NEEDS_REVIEW  # the mark travels into the .mo too


@pytest.mark.parametrize("code", CODES)
def test_placeholders_match_between_words_and_translations(code):
    for entry in entries(read_po(po_path(code))):
        wanted = placeholders(msgid(entry)) | placeholders(plural(entry) or "")
        for form in forms(entry):
            assert placeholders(form) == wanted, (msgid(entry), form)


def test_a_placeholder_lost_in_translation_is_caught(messages):
    po = read_po(po_path("pl"))
    po.get("Welcome, {name}!").string = "Witaj, {imie}!"
    broken = catalogues.problems(messages, override={"pl": po})
    assert any("placeholders" in p and "Welcome" in p for p in broken)


@pytest.mark.parametrize(
    ("code", "n", "form"),
    [
        ("pl", 1, "{n} godzina"),
        ("pl", 2, "{n} godziny"),
        ("pl", 4, "{n} godziny"),
        ("pl", 5, "{n} godzin"),
        ("pl", 12, "{n} godzin"),
        ("pl", 22, "{n} godziny"),
        ("pl", 25, "{n} godzin"),
        ("ro", 1, "{n} oră"),
        ("ro", 2, "{n} ore"),
        ("ro", 19, "{n} ore"),
        ("ro", 20, "{n} de ore"),
        ("ro", 101, "{n} ore"),
        ("ur", 1, "{n} گھنٹہ"),
        ("ur", 3, "{n} گھنٹے"),
        ("en", 1, "{n} hour"),
        ("en", 3, "{n} hours"),
    ],
)
def test_counts_take_the_right_plural_form(code, n, form):
    """Polish and Romanian have three forms, Urdu and English two."""
    assert i18n.catalogue(code).ngettext("{n} hour", "{n} hours", n) == form


@pytest.mark.parametrize("code", CODES)
def test_the_compiled_catalogue_is_what_gettext_reads(code):
    po = read_po(po_path(code))
    assert mo_path(code).read_bytes() == compile_mo(po)
    loaded = gettext.GNUTranslations(mo_path(code).open("rb"))
    for entry in entries(po):
        if plural(entry) is None:
            assert loaded.gettext(msgid(entry)) == forms(entry)[0]


@pytest.mark.parametrize("code", CODES)
def test_the_po_files_are_written_the_way_the_tool_writes_them(code):
    """So ``update`` changes a file only where a word or a place in the code changed."""
    text = po_path(code).read_text(encoding="utf-8")
    assert format_po(parse_po(text)) == text


def test_fuzzy_entries_are_left_out_of_the_compiled_catalogue():
    po = KioskCatalog(locale="pl", fuzzy=False)
    po.add("Done", "Gotowe", flags=["fuzzy"])
    po.add("Back", "Wstecz")
    loaded = gettext.GNUTranslations(io.BytesIO(compile_mo(po)))
    assert loaded.gettext("Done") == "Done"
    assert loaded.gettext("Back") == "Wstecz"


def test_a_kv_layout_gives_its_words_and_the_notes_above_them():
    kv = (
        b"Label:\n"
        b"    # Translators: under a count of families.\n"
        b"    # One line more.\n"
        b'    text: app.ngettext("{n} family", "{n} families", root.n).format(n=root.n)\n'
        b"Button:\n"
        b"    text: app._(\"Back\") if root.first else app._('Next')\n"
    )
    found = list(extract_kv(io.BytesIO(kv), {}, ["Translators:"], {}))
    assert found == [
        (
            4,
            "ngettext",
            ("{n} family", "{n} families"),
            ["Translators: under a count of families.", "One line more."],
        ),
        (6, "_", "Back", []),
        (6, "_", "Next", []),
    ]


def test_urdu_is_written_in_urdu_letters_not_arabic_look_alikes():
    """ک ی ہ are Urdu's keheh, Farsi yeh and heh goal; Arabic's kaf, yeh and heh look alike
    in isolation but join differently, and a reviewer would not see the difference."""
    look_alikes = {"\u0643": "ARABIC KAF", "\u064a": "ARABIC YEH", "\u0647": "ARABIC HEH"}
    for entry in entries(read_po(po_path("ur"))):
        for form in forms(entry):
            found = [name for ch, name in look_alikes.items() if ch in form]
            assert not found, (form, found)


def test_the_language_names_are_each_in_its_own_language():
    assert [(lang.code, lang.name) for lang in LANGUAGES] == [
        ("en", "English"),
        ("ur", "اردو"),
        ("pl", "Polski"),
        ("ro", "Română"),
    ]
    assert [lang.code for lang in LANGUAGES if lang.rtl] == ["ur"]


def test_an_unknown_language_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="en, ur, pl, ro"):
        i18n.language("xx")
    assert i18n.known_language("xx") is None and i18n.known_language("pl") == "pl"


def test_a_missing_catalogue_shows_english_and_says_so(monkeypatch, tmp_path, caplog):
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.catalogue.cache_clear()
    try:
        assert i18n.catalogue("pl").gettext("Tap your card") == "Tap your card"
        assert "no catalogue" in caplog.text and "pl" in caplog.text
    finally:
        monkeypatch.undo()
        i18n.catalogue.cache_clear()
    assert i18n.catalogue("pl").gettext("Tap your card") == "Przyłóż kartę"
