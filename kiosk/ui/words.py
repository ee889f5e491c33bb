"""Everything the kiosk says to a person, in plain words (no codes, no jargon).

Kept out of the .kv files so that the words are tested, and so that the same sentence is used
wherever the same thing happens.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time

from kiosk.domain.families import HEARD_FROM, THEMATIC_CRITERIA
from kiosk.domain.timetable import SessionOccurrence

HEARD_FROM_WORDS: dict[str, str] = {
    "health_visitor": "Health visitor",
    "birth_registration": "Birth registration",
    "leaflet": "Leaflet or poster",
    "friend": "Friend or family",
    "social_media": "Social media",
    "school_or_nursery": "School, nursery",
    "other": "Somewhere else",
}
assert set(HEARD_FROM_WORDS) == set(HEARD_FROM), "every HEARD_FROM code needs words"

CRITERIA_WORDS: dict[str, str] = {
    "young_parent": "Young parent",
    "single_parent": "Single parent",
    "sen": "Special educational needs",
}
assert set(CRITERIA_WORDS) == set(THEMATIC_CRITERIA), "every criterion needs words"

# -- the door --------------------------------------------------------------------------------
UNKNOWN_CARD_TITLE = "We don't know this card yet"
UNKNOWN_CARD_BODY = "Please see a volunteer. They can set up your card in a moment."
NO_SESSION_BODY = "Nothing has been recorded. Please see a volunteer if you think there should be."
ERROR_TITLE = "Sorry, that didn't work"
ERROR_BODY = "Please tap your card again. If it keeps happening, please see a volunteer."
WAITING_TITLE = "Just a moment..."
WAITING_BODY = "We're saving your visit. It will only take a few seconds."
READER_DOWN = "The card reader isn't working. Please see a volunteer."


def welcome_title(greeting_name: str) -> str:
    return f"Welcome, {greeting_name}!"


def already_in_title(greeting_name: str) -> str:
    return f"You're already signed in, {greeting_name}"


def no_session_title(greeting_name: str | None) -> str:
    hello = f"Hello, {greeting_name}. " if greeting_name else ""
    return f"{hello}There's no session on right now"


def welcome_hint(has_children: bool) -> str:
    if not has_children:
        return "You're signed in. Have a lovely session!"
    return "You're signed in. Tap a name to untick a child who isn't here today."


def already_in_hint(has_children: bool) -> str:
    if not has_children:
        return "You don't need to tap again. Enjoy the session!"
    return "No need to tap again. Tap a name to add a child who has just arrived."


def join_names(names: Sequence[str]) -> str:
    """``Mia``, ``Mia and Leo``, ``Mia, Leo and Zara``."""
    names = list(names)
    if not names:
        return ""
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]


def clock(t: time | datetime) -> str:
    """``10:05`` (24-hour, as the timetable is written)."""
    return f"{t:%H:%M}"


def session_words(session: SessionOccurrence | None) -> str:
    if session is None:
        return "No session on right now"
    return f"{session.name}, {clock(session.start)} to {clock(session.end)}"


def sentence(message: str) -> str:
    """A domain message as a sentence: capital first letter, full stop at the end."""
    text = " ".join(str(message).split())
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?)" else text + "."


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"
