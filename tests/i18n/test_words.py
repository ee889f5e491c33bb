"""The kiosk's sentences in each language: put together with the language's own grammar."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from kiosk import i18n
from kiosk.app import build_parser
from kiosk.domain.errors import ValidationError
from kiosk.ui import words
from kiosk.ui.draft import DraftProblem, RegistrationDraft
from kiosk.ui.status import connection_light, reader_light
from tests.ui.driver import REPO, SCREENSHOTS

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
RLM = "\u200f"


@pytest.fixture
def speak():
    def use(code: str) -> None:
        i18n.set_language(code)

    yield use
    i18n.set_language(i18n.DEFAULT_LANGUAGE)


@pytest.mark.parametrize(
    ("code", "joined"),
    [
        ("en", "Mia, Leo and Zara"),
        ("pl", "Mia, Leo i Zara"),
        ("ro", "Mia, Leo și Zara"),
        ("ur", f"{RLM}Mia{RLM}، {RLM}Leo{RLM} اور {RLM}Zara{RLM}"),
    ],
)
def test_names_are_joined_as_each_language_says_them(speak, code, joined):
    speak(code)
    assert words.join_names(["Mia", "Leo", "Zara"]) == joined


@pytest.mark.parametrize(
    ("code", "waiting", "text"),
    [
        ("pl", 1, "Offline: 1 aktualizacja zapisana tutaj, ostatnio wysłano o 08:00"),
        ("pl", 3, "Offline: 3 aktualizacje zapisane tutaj, ostatnio wysłano o 08:00"),
        ("pl", 5, "Offline: 5 aktualizacji zapisanych tutaj, ostatnio wysłano o 08:00"),
        ("ro", 1, "Offline: 1 actualizare salvată aici, ultima trimitere la 08:00"),
        ("ro", 7, "Offline: 7 actualizări salvate aici, ultima trimitere la 08:00"),
        ("ro", 25, "Offline: 25 de actualizări salvate aici, ultima trimitere la 08:00"),
        ("ur", 1, "آف لائن: 1 اپ ڈیٹ یہاں محفوظ ہے، آخری بار 08:00 پر بھیجا"),
        ("ur", 4, "آف لائن: 4 اپ ڈیٹس یہاں محفوظ ہیں، آخری بار 08:00 پر بھیجا"),
    ],
)
def test_the_connection_is_told_with_the_right_plural(speak, code, waiting, text):
    speak(code)
    assert connection_light(waiting, NOW - timedelta(hours=2), NOW).text == text


def test_an_old_send_is_dated_with_the_languages_month(speak):
    speak("pl")
    light = connection_light(2, NOW - timedelta(days=9), NOW)
    assert light.text.endswith("ostatnio wysłano 14 lis")


def test_the_readers_own_words_are_translated_when_known(speak):
    class Down:
        plain_words = "Card reader not answering — check its cable"
        is_ok = False

    speak("ro")
    assert reader_light(Down()).text == "Cititorul de carduri nu răspunde — verificați cablul"
    Down.plain_words = "Something new the reader says"
    assert reader_light(Down()).text == "Something new the reader says"  # shown as it is


def test_a_session_name_stays_in_one_piece_in_urdu(speak):
    class Session:
        name = "Stay and Play"
        start = datetime(2026, 11, 23, 9, 0)
        end = datetime(2026, 11, 23, 12, 0)

    speak("ur")
    assert words.session_words(Session()) == f"{RLM}Stay and Play{RLM}، 09:00 سے 12:00 تک"
    speak("en")
    assert words.session_words(Session()) == "Stay and Play, 09:00 to 12:00"  # nothing added


def test_the_draft_explains_in_the_language_on_screen(speak):
    speak("pl")
    draft = RegistrationDraft()
    with pytest.raises(DraftProblem, match="Brak imienia do powitania"):
        draft.set_greeting_name("  ")
    draft.add_child("Mia")
    with pytest.raises(DraftProblem, match="Mia jest już na liście"):
        draft.add_child("mia")


def test_the_domains_english_is_replaced_by_a_translated_fallback(speak):
    problem = ValidationError("WS7 1AAA is not a UK postcode")
    assert words.problem(problem, "fallback") == "WS7 1AAA is not a UK postcode."
    speak("ro")
    assert words.problem(problem, "fallback") == "fallback"
    assert words.problem(DraftProblem("Mia este deja pe listă."), "fallback").startswith("Mia")
    speak("ur")
    assert words.sentence("یہ نام پہلے سے ہے۔") == "یہ نام پہلے سے ہے۔"  # Urdu's full stop


def test_the_door_language_is_a_command_line_option():
    assert build_parser().parse_args(["--language", "ur"]).language == "ur"
    assert build_parser().parse_args([]).language == "en"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--language", "xx"])


@pytest.mark.ui
def test_demo_mode_starts_in_urdu_in_a_process_of_its_own(tmp_path):
    """The fonts and catalogues load where the app really runs (not only in this test run)."""
    shot = tmp_path / "demo-ur.png"
    env = dict(os.environ, KIVY_HOME=str(tmp_path / "kivy-home"), KIVY_NO_FILELOG="1")
    env.pop("KIVY_LOG_MODE", None)
    wrapper = []
    if os.environ.get("DISPLAY") and shutil.which("xvfb-run"):
        wrapper = ["xvfb-run", "-a", "-s", "-screen 0 1024x768x24"]
    result = subprocess.run(
        [*wrapper, sys.executable, "-m", "kiosk.app", "--demo", "--language", "ur"]
        + ["--quit-after", "4", "--screenshot", str(shot)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    image = Image.open(shot).convert("RGB")
    assert image.size == (800, 480)
    assert len(image.getcolors(maxcolors=1 << 20) or []) > 50
    (SCREENSHOTS / "ur").mkdir(parents=True, exist_ok=True)
    image.save(SCREENSHOTS / "ur" / "cli-demo.png")
