"""What the volunteer sees at a glance: the session, the card reader, and the connection.

Pure functions from what the store and the reader report to a short sentence and a traffic
light (``ok``), with no technical words: "Online, everything is sent", not "outbox 0, HTTP 200".
The store's sync state is written by the sync daemon; every key may be missing (a kiosk that was
never connected), so everything here tolerates absent or odd values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kiosk.domain.desk import KIOSK_TZ
from kiosk.health import ONLINE_WITHIN, Health, assess, parse_when, read_facts
from kiosk.i18n import N_, _, ngettext
from kiosk.ui.words import clock, day_and_month


@dataclass(frozen=True)
class Light:
    """One line of the status panel: the words, whether all is well, and how badly not
    (``warn`` amber: look at it soon; ``fail`` red: something is not being counted)."""

    text: str
    ok: bool
    level: str = ""

    def __post_init__(self) -> None:
        if not self.level:
            object.__setattr__(self, "level", "ok" if self.ok else "fail")


#: What a card reader says about itself (``ReaderHealth.plain_words``), for the catalogues: the
#: reader's words are shown translated when the catalogue has them, else as they are.
READER_WORDS = (
    N_("Card reader working"),
    N_("Card reader not answering — check it is plugged in"),
    N_("Card reader not answering — check its cable"),
    N_("Card reader status not known"),
)


def _when_words(when: datetime, now: datetime) -> str:
    local, today = when.astimezone(KIOSK_TZ), now.astimezone(KIOSK_TZ).date()
    if local.date() == today:
        return _("last sent at {time}").format(time=clock(local))
    if local.date() == today - timedelta(days=1):
        return _("last sent yesterday at {time}").format(time=clock(local))
    return _("last sent on {date}").format(date=day_and_month(local))


def health_light(health: Health, now: datetime) -> Light:
    """The connection line from the kiosk's health (``kiosk.health``): a refused, stuck or
    conflicting record turns it amber or red with a sentence saying what to do, whatever
    the connection is like; otherwise :func:`connection_light`'s words."""
    worst = health.worst
    words = problem_words(worst.code, worst.count) if worst is not None else None
    if worst is not None and words is not None:
        return Light(words, False, worst.level)
    facts = health.facts
    light = connection_light(facts.waiting, facts.last_success, now)
    if worst is not None and not light.ok:
        return Light(light.text, False, worst.level)
    return light


def problem_words(code: str, n: int) -> str | None:
    """What a volunteer reads for a problem ``kiosk.health`` found, and what to do; None
    for those the connection's own words already say (offline, not connected yet)."""
    n = max(1, n)
    if code == "refused":
        text = ngettext(
            "{n} sign-in was refused by the server and is not counted: ask the admin to "
            "check this kiosk",
            "{n} sign-ins were refused by the server and are not counted: ask the admin to "
            "check this kiosk",
            n,
        )
    elif code == "conflict":
        text = ngettext(
            "{n} sign-in differs from the server's copy: ask the admin to check this kiosk",
            "{n} sign-ins differ from the server's copy: ask the admin to check this kiosk",
            n,
        )
    elif code in ("token", "identity"):
        return _("Not sending: the server does not accept this kiosk. Ask the admin to check it")
    elif code == "stuck":
        text = ngettext(
            "Sending is stuck: {n} update is not getting through. Ask the admin",
            "Sending is stuck: {n} updates are not getting through. Ask the admin",
            n,
        )
    elif code == "timetable":
        return _("A session from the server clashes with one made here: ask the admin")
    else:
        return None
    return text.format(n=n)


def connection_light(waiting: int | None, last_success: Any, now: datetime) -> Light:
    """Online or not, and how much waits to be sent, in words a volunteer understands."""
    when = parse_when(last_success)
    online = when is not None and now - when <= ONLINE_WITHIN
    if waiting is None:
        return Light(_("Online") if online else _("Connection not known"), online)
    n = waiting
    if online and n == 0:
        return Light(_("Online: everything is sent"), True)
    if online:
        text = ngettext("Online: sending {n} update", "Online: sending {n} updates", n)
        return Light(text.format(n=n), True)
    if when is None:
        if n == 0:
            return Light(_("Not connected yet: nothing waiting"), False)
        text = ngettext(
            "Not connected yet: {n} update saved here to send later",
            "Not connected yet: {n} updates saved here to send later",
            n,
        )
        return Light(text.format(n=n), False)
    last_sent = _when_words(when, now)
    if n == 0:
        return Light(_("Offline: nothing waiting, {last_sent}").format(last_sent=last_sent), False)
    text = ngettext(
        "Offline: {n} update saved here, {last_sent}",
        "Offline: {n} updates saved here, {last_sent}",
        n,
    )
    return Light(text.format(n=n, last_sent=last_sent), False)


def connection_state(store: object) -> tuple[int | None, Any]:
    """(updates waiting, last successful send) from a store that may lack either method."""
    facts = read_facts(store)
    return facts.waiting, facts.last_success


def store_connection_light(store: object, now: datetime) -> Light:
    """The connection line from a store that may lack any of its methods."""
    return health_light(assess(read_facts(store), now), now)


def reader_light(health: object | None) -> Light:
    """The reader's own plain words (``ReaderHealth.plain_words``), or a sensible default."""
    if health is None:
        return Light(_("Card reader working"), True)
    words = getattr(health, "plain_words", None) or READER_WORDS[-1]
    return Light(_(str(words)), bool(getattr(health, "is_ok", True)))
