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
from kiosk.ui.words import plural

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


def _when_words(when: datetime, now: datetime) -> str:
    local, today = when.astimezone(KIOSK_TZ), now.astimezone(KIOSK_TZ).date()
    if local.date() == today:
        return f"at {local:%H:%M}"
    if local.date() == today - timedelta(days=1):
        return f"yesterday at {local:%H:%M}"
    return f"on {local:%d %b}"


def connection_light(waiting: int | None, last_success: Any, now: datetime) -> Light:
    """Online or not, and how much waits to be sent, in words a volunteer understands."""
    when = parse_when(last_success)
    online = when is not None and now - when <= ONLINE_WITHIN
    if waiting is None:
        return Light("Online" if online else "Connection not known", online)
    things = plural(waiting, "update")
    if online and waiting == 0:
        return Light("Online: everything is sent", True)
    if online:
        return Light(f"Online: sending {things}", True)
    if when is None:
        if waiting == 0:
            return Light("Not connected yet: nothing waiting", False)
        return Light(f"Not connected yet: {things} saved here to send later", False)
    if waiting == 0:
        return Light(f"Offline: nothing waiting, last sent {_when_words(when, now)}", False)
    return Light(
        f"Offline: {things} saved here, last sent {_when_words(when, now)}",
        False,
    )


def store_connection_light(store: object, now: datetime) -> Light:
    """``connection_light`` from a store that may lack ``waiting_count`` or ``sync_state``."""
    waiting = _call(store, "waiting_count", None)
    state = _call(store, "sync_state", None)
    last = state.get("last_success") if isinstance(state, Mapping) else None
    try:
        waiting = int(waiting) if waiting is not None else None
    except (TypeError, ValueError):
        waiting = None
    return connection_light(waiting, last, now)


def reader_light(health: object | None) -> Light:
    """The reader's own plain words (``ReaderHealth.plain_words``), or a sensible default."""
    if health is None:
        return Light("Card reader working", True)
    words = getattr(health, "plain_words", None) or "Card reader status not known"
    return Light(str(words), bool(getattr(health, "is_ok", True)))


def _call(obj: object, name: str, default: Any) -> Any:
    method: Callable[[], Any] | None = getattr(obj, name, None)
    if method is None:
        return default
    try:
        return method()
    except Exception:  # noqa: BLE001 - a status line must never take the screen down
        return default
