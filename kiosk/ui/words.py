"""Everything the kiosk says to a person, in plain words (no codes, no jargon), in any language.

Kept out of the .kv files so that the words are tested, and so that the same sentence is used
wherever the same thing happens. Each function returns its words in the language in use
(``kiosk.i18n``): call it when the words are shown, not once at import.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time

from kiosk.domain.families import HEARD_FROM, THEMATIC_CRITERIA
from kiosk.domain.timetable import SessionOccurrence
from kiosk.i18n import DEFAULT_LANGUAGE, N_, _, current_language, isolate, ngettext
from kiosk.ui.draft import DraftProblem

HEARD_FROM_WORDS: dict[str, str] = {
    "health_visitor": N_("Health visitor"),
    "birth_registration": N_("Birth registration"),
    "leaflet": N_("Leaflet or poster"),
    "friend": N_("Friend or family"),
    "social_media": N_("Social media"),
    "school_or_nursery": N_("School, nursery"),
    "other": N_("Somewhere else"),
}
assert set(HEARD_FROM_WORDS) == set(HEARD_FROM), "every HEARD_FROM code needs words"

CRITERIA_WORDS: dict[str, str] = {
    "young_parent": N_("Young parent"),
    "single_parent": N_("Single parent"),
    "sen": N_("Special educational needs"),
}
assert set(CRITERIA_WORDS) == set(THEMATIC_CRITERIA), "every criterion needs words"

#: Month names for "last sent on 14 Nov" (January first).
MONTHS = (
    N_("Jan"),
    N_("Feb"),
    N_("Mar"),
    N_("Apr"),
    # Translators: the month of May, short (as in "last sent on 14 May").
    N_("May"),
    N_("Jun"),
    N_("Jul"),
    N_("Aug"),
    N_("Sep"),
    N_("Oct"),
    N_("Nov"),
    N_("Dec"),
)


def heard_from(code: str) -> str:
    return _(HEARD_FROM_WORDS[code])


def criterion(code: str) -> str:
    return _(CRITERIA_WORDS[code])


# -- the door --------------------------------------------------------------------------------
def unknown_card_title() -> str:
    return _("We don't know this card yet")


def unknown_card_body() -> str:
    return _("Please see a volunteer. They can set up your card in a moment.")


def no_session_body() -> str:
    return _("Nothing has been recorded. Please see a volunteer if you think there should be.")


def error_title() -> str:
    return _("Sorry, that didn't work")


def error_body() -> str:
    return _("Please tap your card again. If it keeps happening, please see a volunteer.")


def unreadable_card_body() -> str:
    return _(
        "That card could not be read properly. Please tap your card again. "
        "If it keeps happening, please see a volunteer."
    )


def waiting_title() -> str:
    return _("Just a moment...")


def waiting_body() -> str:
    return _("We're saving your visit. It will only take a few seconds.")


def reader_down() -> str:
    return _("The card reader isn't working. Please see a volunteer.")


def welcome_title(greeting_name: str) -> str:
    return _("Welcome, {name}!").format(name=isolate(greeting_name))


def already_in_title(greeting_name: str) -> str:
    return _("You're already signed in, {name}").format(name=isolate(greeting_name))


def no_session_title(greeting_name: str | None) -> str:
    if greeting_name:
        return _("Hello, {name}. There's no session on right now").format(
            name=isolate(greeting_name)
        )
    return _("There's no session on right now")


def welcome_hint(has_children: bool) -> str:
    if not has_children:
        return _("You're signed in. Have a lovely session!")
    return _("You're signed in. Tap a name to untick a child who isn't here today.")


def already_in_hint(has_children: bool) -> str:
    if not has_children:
        return _("You don't need to tap again. Enjoy the session!")
    return _("No need to tap again. Tap a name to add a child who has just arrived.")


def child_note(here: bool) -> str:
    return _("Here today") if here else _("Not here today")


def children_not_saved_title() -> str:
    return _("Sorry, we couldn't save who came")


def children_not_saved_body(greeting_name: str) -> str:
    return _("{name}, please tell a volunteer which children are here today.").format(
        name=isolate(greeting_name)
    )


def demo_new_card() -> str:
    # Translators: in the demo's hint "press keys 1 Sarah, 2 Aisha, ... 0 a new card": key 0
    # taps a card that no family has yet.
    return _("a new card")


def demo_hint(cards: Sequence[tuple[str, str]]) -> str:
    """Which key taps whose card: "1 Sarah, 2 Aisha and 3 Tom", a list like any other (in
    Urdu its items run right to left, each one kept to itself: ``join_names``), with a no-break
    space so that a key never ends a line without its name."""
    keys = join_names([f"{key}\u00a0{name}" for key, name in cards])
    return _("Demo: press keys {cards} to tap a card. Volunteer PIN 1234.").format(cards=keys)


# -- putting words together ---------------------------------------------------------------------
def join_names(names: Sequence[str]) -> str:
    """``Mia``, ``Mia and Leo``, ``Mia, Leo and Zara`` (in the language in use)."""
    names = [isolate(name) for name in names]
    if not names:
        return ""
    joined = names[0]
    for name in names[1:-1]:
        # Translators: a list of names so far, and one more (not the last): "Mia, Leo".
        joined = _("{names}, {name}").format(names=joined, name=name)
    if len(names) > 1:
        # Translators: a list of names, and the last one: "Mia, Leo and Zara".
        joined = _("{names} and {name}").format(names=joined, name=names[-1])
    return joined


def kids_or_none(names: Sequence[str]) -> str:
    return join_names(names) or _("no children")


def clock(t: time | datetime) -> str:
    """``10:05`` (24-hour, as the timetable is written)."""
    return f"{t:%H:%M}"


def day_and_month(when: datetime) -> str:
    """``14 Nov``, with the month in the language in use."""
    # Translators: a day of the month and a month name, as in "14 Nov".
    return _("{day} {month}").format(day=when.day, month=_(MONTHS[when.month - 1]))


def session_words(session: SessionOccurrence | None) -> str:
    if session is None:
        return no_session_now()
    # Translators: a session's name and hours: "Stay and Play, 09:00 to 12:00".
    return _("{session}, {start} to {end}").format(
        session=isolate(session.name), start=clock(session.start), end=clock(session.end)
    )


def no_session_now() -> str:
    return _("No session on right now")


def sentence(message: str) -> str:
    """A domain message as a sentence: capital first letter, full stop at the end."""
    text = " ".join(str(message).split())
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?)\u06d4\u061f" else text + "."


def problem(exc: BaseException, otherwise: str) -> str:
    """What went wrong, for the volunteer: the message itself when it is in the language on
    screen, else ``otherwise`` (already translated).

    The domain (``kiosk.domain``) explains a wrong answer in English ("WS7 1AAA is not a UK
    postcode..."); the registration draft explains its own in the language on screen.
    """
    if isinstance(exc, DraftProblem) or current_language().code == DEFAULT_LANGUAGE:
        return sentence(str(exc))
    return otherwise


def grown_ups(n: int) -> str:
    return ngettext("{n} grown-up", "{n} grown-ups", n).format(n=n)


# -- the family picker -----------------------------------------------------------------------
def already_in_mark() -> str:
    """On a family's row in the picker: signed in to the session on now."""
    # Translators: a mark on a family's row in the volunteer's list: they are signed in to the
    # session that is on now. Keep it short (a few words).
    return _("Already in")
