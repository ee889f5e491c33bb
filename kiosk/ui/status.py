"""What the volunteer sees at a glance: the session, the card reader, and the connection.

Pure functions from what the store and the reader report to a short sentence and a traffic
light (``ok``), with no technical words: "Online, everything is sent", not "outbox 0, HTTP 200".
The store's sync state is written by the sync daemon; every key may be missing (a kiosk that was
never connected), so everything here tolerates absent or odd values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from kiosk.domain.desk import KIOSK_TZ
from kiosk.i18n import N_, _, ngettext
from kiosk.ui.words import clock, day_and_month

#: A last successful send older than this means the kiosk is treated as offline.
ONLINE_WITHIN = timedelta(minutes=15)


@dataclass(frozen=True)
class Light:
    """One line of the status panel: the words and whether all is well."""

    text: str
    ok: bool


def parse_when(value: Any) -> datetime | None:
    """A datetime from what the sync state holds (datetime, ISO text, epoch seconds), or None."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, datetime):
            when = value
        elif isinstance(value, int | float):
            when = datetime.fromtimestamp(value, UTC)
        else:
            when = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


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
    waiting = _call(store, "waiting_count", None)
    state = _call(store, "sync_state", None)
    last = state.get("last_success") if isinstance(state, Mapping) else None
    try:
        waiting = int(waiting) if waiting is not None else None
    except (TypeError, ValueError):
        waiting = None
    return waiting, last


def store_connection_light(store: object, now: datetime) -> Light:
    """``connection_light`` from a store that may lack ``waiting_count`` or ``sync_state``."""
    return connection_light(*connection_state(store), now)


def reader_light(health: object | None) -> Light:
    """The reader's own plain words (``ReaderHealth.plain_words``), or a sensible default."""
    if health is None:
        return Light(_("Card reader working"), True)
    words = getattr(health, "plain_words", None) or READER_WORDS[-1]
    return Light(_(str(words)), bool(getattr(health, "is_ok", True)))


def _call(obj: object, name: str, default: Any) -> Any:
    method: Callable[[], Any] | None = getattr(obj, name, None)
    if method is None:
        return default
    try:
        return method()
    except Exception:  # noqa: BLE001 - a status line must never take the screen down
        return default
