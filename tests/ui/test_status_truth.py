"""The volunteer's connection line tells the truth about the kiosk's records, end to end.

The real app, headless, on the real ``LocalStore``, driven as a volunteer would (tap
"Volunteer", enter the PIN, sign a family in), while "the sync daemon" writes to the same store
what ``sync.syncer`` writes after a pass (``mark_sent``, ``mark_rejected``,
``update_sync_state(last_success=...)``). The line on the home screen is checked as words, as
the ``StatusLine``'s ``ok``/``level``, as the colour its dot is drawn with, and as the pixels
on the screen; pictures go to ``artifacts/status-*.png``.

It fails on the old status line, made from the outbox and the last success alone: an event the
server refused leaves the outbox, so that line said green "Online: everything is sent".
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta
from typing import Any

import pytest
from kivy.graphics import Color, Ellipse

from kiosk import health, i18n
from kiosk.i18n import _, ngettext
from kiosk.ui import theme
from kiosk.ui.kioskapp import UiTimings
from kiosk.ui.snapshot import grab_image
from kiosk.ui.widgets import StatusLine
from tests.ui.driver import REPO, Kiosk, make_kiosk, walk

pytestmark = pytest.mark.ui

ARTIFACTS = REPO / "artifacts"
EVERYTHING_SENT = "Online: everything is sent"
#: The refusal sentence's msgids (kiosk.ui.status.problem_words), to find it in each catalogue.
REFUSED_ID = (
    "{n} sign-in was refused by the server and is not counted: ask the admin to check this kiosk"
)
REFUSED_PLURAL_ID = (
    "{n} sign-ins were refused by the server and are not counted: ask the admin to check this kiosk"
)
REFUSED = REFUSED_ID.format(n=1)
LANGUAGES = {"ur": "\u0627\u0631\u062f\u0648", "pl": "Polski", "ro": "Rom\u00e2n\u0103"}
DOTS = {"ok": theme.GOOD, "warn": theme.WARN, "fail": theme.DANGER}
#: An hour passes with the volunteer looking at the home screen: the idle lock waits longer.
TIMINGS = UiTimings(volunteer_idle=3 * 3600.0)


@pytest.fixture
def kiosk(kivy_window, tmp_path):
    driver = make_kiosk(tmp_path, timings=TIMINGS)
    try:
        yield driver
    finally:
        driver.close()


# -- the sync daemon, as sync.syncer.Syncer writes to the store after a pass -------------------
def daemon_pass(kiosk: Kiosk, refuse: Collection[str] = (), reason: str = "") -> list[str]:
    """The server answered: every waiting event is acknowledged but those in ``refuse``, which
    are set aside with ``reason``; the pass succeeded at the kiosk's now. Returns the ids sent."""
    now = kiosk.clock.now()
    waiting = [e.event_id for e in kiosk.store.pending(100_000)]
    done = [i for i in waiting if i not in refuse]
    if done:
        kiosk.store.mark_sent(done, at=now)
    for event_id in refuse:
        kiosk.store.mark_rejected(event_id, reason)
    kiosk.store.update_sync_state(last_success=now, last_error=None, last_error_at=None)
    return waiting


# -- reading the home screen -------------------------------------------------------------------
def connection_line(kiosk: Kiosk) -> StatusLine:
    assert kiosk.screen == "volunteer_home", kiosk.screen
    return kiosk.current().ids.connection


def dot_of(line: StatusLine) -> tuple[Any, tuple[float, ...]]:
    """The dot widget of a status line and the colour its ellipse is drawn in."""
    for widget in walk(line):
        instructions = list(widget.canvas.children)
        if any(isinstance(i, Ellipse) for i in instructions):
            colour = [i for i in instructions if isinstance(i, Color)][-1]
            return widget, tuple(colour.rgba)
    raise AssertionError("the status line has no dot")


def refresh_by_itself(kiosk: Kiosk) -> None:
    """Let the app's own status countdown run out, and wait (bounded) for the new reading to be
    on screen: nothing here calls ``refresh_status``."""
    before = kiosk.app.status.snapshot
    kiosk.advance(kiosk.app.timings.status_refresh)
    kiosk.wait_until(
        lambda: kiosk.app.status.snapshot is not before and kiosk.app.worker.idle,
        what="the status to be read again",
    )
    kiosk.settle()


def assert_line(kiosk: Kiosk, text: str, level: str, shot: str) -> None:
    """The connection line says ``text`` at ``level``: its properties, its dot, its pixels, and
    that it fits its panel at 800x480 (a picture goes to ``artifacts/status-<shot>.png``)."""
    line = connection_line(kiosk)
    assert (kiosk.app.connection_text, kiosk.app.connection_level) == (text, level)
    assert (line.text, line.level, line.ok) == (text, level, level == "ok")
    assert text in line.ids.txt.text and _("Sending to the office") in line.ids.txt.text
    assert any(text in t for t in kiosk.texts())

    dot, colour = dot_of(line)
    assert colour == pytest.approx(tuple(DOTS[level])), f"{level} dot drawn as {colour}"

    kiosk.settle()
    image = grab_image()
    path = ARTIFACTS / f"status-{shot}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    x, y = dot.to_window(*dot.center)
    pixel = image.getpixel((int(x), image.height - 1 - int(y)))
    want = tuple(round(c * 255) for c in DOTS[level][:3])
    assert all(abs(p - w) <= 8 for p, w in zip(pixel, want, strict=True)), (
        f"the {level} dot shows {pixel} on screen, not {want} ({path})"
    )

    assert kiosk.clipped() == []
    panel = kiosk.current().ids.status
    for widget in (line, line.ids.txt):
        assert widget.y >= panel.y and widget.top <= panel.top, (
            f"{widget!r} at {widget.y:.0f}..{widget.top:.0f} spills out of the status panel "
            f"({panel.y:.0f}..{panel.top:.0f}): {path}"
        )
        assert widget.x >= panel.x and widget.right <= panel.right


def test_the_home_screen_says_what_became_of_the_records(kiosk):
    # 1. Everything recorded here is with the server: green, in words and colour.
    daemon_pass(kiosk)
    assert kiosk.store.waiting_count() == 0
    kiosk.press(kiosk.current().ids.volunteer)
    assert kiosk.screen == "pin"
    kiosk.enter_pin("2468")
    assert kiosk.screen == "volunteer_home"
    assert_line(kiosk, EVERYTHING_SENT, "ok", "1-all-sent")

    # 2. The volunteer signs a family in; the server refuses that sign-in.
    kiosk.press_text("Sign a family in")
    kiosk.press_text("Priya")
    kiosk.press(kiosk.current().ids.sign_in)
    assert "Priya is signed in" in kiosk.texts()
    kiosk.press(kiosk.current().ids.done)
    assert connection_line(kiosk).text == "Online: sending 1 update"
    [signed_in] = kiosk.store.pending(10)
    assert signed_in.type.startswith("attendance.")

    daemon_pass(kiosk, refuse={signed_in.event_id}, reason="unknown family on the server")
    assert kiosk.store.waiting_count() == 0  # the old line said "everything is sent" here
    assert [r["event"]["event_id"] for r in kiosk.store.rejected()] == [signed_in.event_id]
    assert connection_line(kiosk).ok  # not read again yet
    refresh_by_itself(kiosk)
    assert_line(kiosk, REFUSED, "fail", "2-refused")
    assert EVERYTHING_SENT not in kiosk.text()

    # In every language the kiosk speaks, the same: red, and the whole sentence fits.
    for code, button in LANGUAGES.items():
        kiosk.press_text(button)
        assert i18n.current_language().code == code
        words = ngettext(REFUSED_ID, REFUSED_PLURAL_ID, 1).format(n=1)
        assert words != REFUSED, f"no {code} words for the refusal"
        assert_line(kiosk, words, "fail", f"2-refused-{code}")
    kiosk.press_text("English")
    assert connection_line(kiosk).text == REFUSED

    # It stays red however often it is read, while the server keeps answering.
    daemon_pass(kiosk)
    refresh_by_itself(kiosk)
    assert connection_line(kiosk).level == "fail"
    assert connection_line(kiosk).text == REFUSED

    # 3. The admin puts it back to be sent (kiosk-admin rejected retry --all); then the network
    # goes and an hour passes: it waits here, safe, amber, neither green nor red.
    assert kiosk.store.retry_rejected() == [signed_in.event_id]
    refresh_by_itself(kiosk)
    assert (connection_line(kiosk).text, connection_line(kiosk).level) == (
        "Online: sending 1 update",
        "ok",
    )
    last_sent = health.parse_when(kiosk.store.sync_state()["last_success"])
    kiosk.advance(health.ONLINE_WITHIN.total_seconds() + 45 * 60)  # an hour, and no pass
    refresh_by_itself(kiosk)
    assert kiosk.clock.now() - last_sent >= timedelta(hours=1)
    assert kiosk.app.volunteer_name == "Jo"
    local = kiosk.desk.local(last_sent)
    offline = f"Offline: 1 update saved here, last sent at {local:%H:%M}"
    assert_line(kiosk, offline, "warn", "3-offline-waiting")

    # 4. The network is back and the server takes it: green again.
    assert daemon_pass(kiosk) == [signed_in.event_id]
    assert kiosk.store.waiting_count() == 0 and kiosk.store.rejected() == []
    refresh_by_itself(kiosk)
    assert_line(kiosk, EVERYTHING_SENT, "ok", "4-green-again")
