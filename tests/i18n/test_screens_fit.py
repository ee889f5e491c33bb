"""Every main screen in every language at 800x480: nothing cut off, pictures for people to check.

For each language a family chooses it on the tap screen and a volunteer works in it; on each
screen every label's text is laid out again with no height limit and compared with its box
(``kiosk.ui.fit.overflow``), no text is smaller than 20 px (secondary text included: it is read
at arm's length), and the screen is saved as ``artifacts/screenshots/<lang>/*.png``.
The welcome screens are the README's ``docs/screenshots/welcome-<lang>.png``.
"""

from __future__ import annotations

import pytest
from PIL import Image

from kiosk.i18n import LANGUAGES, translate
from tests.ui.driver import REPO, make_kiosk

pytestmark = pytest.mark.ui

CODES = [lang.code for lang in LANGUAGES]


class Tour:
    """Walks the screens, noting what does not fit and saving each picture."""

    def __init__(self, kiosk, code: str) -> None:
        self.kiosk, self.code = kiosk, code
        self.problems: list[str] = []
        self.seen: list[str] = []

    def check(self, name: str) -> None:
        self.kiosk.settle()
        self.problems += self.kiosk.clipped()
        self.problems += self.kiosk.small_text()
        self.kiosk.shot(f"{self.code}/{name}")
        self.seen.append(self.kiosk.screen)

    def words(self, message: str) -> str:
        return translate(self.code, message)

    def choose_language(self) -> None:
        self.kiosk.press(self.kiosk.current().ids.languages.button(self.code))


@pytest.mark.parametrize("code", CODES)
def test_each_screen_fits_at_800x480(code, kivy_window, tmp_path):
    kiosk = make_kiosk(tmp_path)
    tour = Tour(kiosk, code)
    try:
        # The door: the family chooses their language, then taps.
        tour.choose_language()
        assert kiosk.current().ids.title.text == tour.words("Tap your card")
        tour.check("01-tap")
        kiosk.tap(kiosk.card_of("Priya"))  # three children: the fullest welcome
        assert kiosk.screen == "welcome"
        tour.check("02-welcome")
        kiosk.press(kiosk.current().chips[2])
        tour.check("03-welcome-unticked")
        kiosk.press(kiosk.current().ids.done)
        kiosk.tap(kiosk.card_of("Priya"))  # her language is remembered
        assert kiosk.current().ids.done.text == tour.words("Done")
        tour.check("04-already-in")
        kiosk.press(kiosk.current().ids.done)
        tour.choose_language()
        kiosk.tap("04FFEE01")
        assert kiosk.screen == "door_message"
        tour.check("05-unknown-card")
        kiosk.press(kiosk.current().ids.ok)

        # Volunteer mode, in the language chosen before "Volunteer".
        tour.choose_language()
        kiosk.press(kiosk.current().ids.volunteer)
        tour.check("06-pin")
        kiosk.enter_pin("2468")
        assert kiosk.screen == "volunteer_home"
        tour.check("07-volunteer-home")
        kiosk.press(kiosk.current().ids.register_family)
        tour.check("08-register-name")
        kiosk.type("chloe")
        kiosk.press(kiosk.current().ids.header.ids.action)
        kiosk.type("ws71aa")
        kiosk.press(kiosk.current().ids.header.ids.action)
        kiosk.type("ruby")
        kiosk.press_key("\n")
        tour.check("09-register-children")
        kiosk.press(kiosk.current().ids.header.ids.action)
        tour.check("10-register-about")
        kiosk.press(kiosk.current().ids.header.ids.action)
        kiosk.press(kiosk.current().ids.consent)
        tour.check("11-register-consent")
        kiosk.press(kiosk.current().ids.header.ids.action)
        kiosk.tap("04AB12CD", answered=False)
        tour.check("12-register-card")
        kiosk.press(kiosk.current().ids.register)
        assert kiosk.screen == "volunteer_message"
        tour.check("13-registered")
        kiosk.press(kiosk.current().ids.done)
        kiosk.press(kiosk.current().ids.today)
        assert kiosk.screen == "today"
        tour.check("14-todays-register")
        kiosk.press(kiosk.current().ids.header.ids.back)
        kiosk.press(kiosk.current().ids.sign_in)
        tour.check("15-family-picker")
        kiosk.press(kiosk.current().ids.header.ids.back)
        kiosk.press(kiosk.current().ids.header.ids.back)  # lock
        assert kiosk.screen == "tap"

        # After the session: no session on.
        kiosk.clock.advance(4 * 3600)
        kiosk.app.refresh_status()
        tour.choose_language()
        kiosk.tap(kiosk.card_of("Tom"))
        assert kiosk.current().kind == "no_session"
        tour.check("16-no-session")
    finally:
        kiosk.close()
    assert not tour.problems, "\n".join(tour.problems)


@pytest.mark.parametrize("code", CODES)
def test_the_readme_shows_the_welcome_screen_in_each_language(code):
    path = REPO / "docs" / "screenshots" / f"welcome-{code}.png"
    assert path.is_file(), f"{path} is missing: copy artifacts/screenshots/{code}/02-welcome.png"
    assert Image.open(path).size == (800, 480)
