"""What ``kiosk-admin status`` shows about sync: plain ``key, value`` pairs from the store.

>>> for key, value in sync_status_lines(store):   # doctest: +SKIP
...     print(f"{key:20} {value}")
last_success         2026-11-23T09:41:00Z
last_error           none
waiting              3 event(s), oldest from 2026-11-23T09:40:12Z
...
"""

from __future__ import annotations

from typing import Any

from sync.syncer import SyncStore, iso


def sync_status_lines(store: SyncStore) -> list[tuple[str, str]]:
    """Sync's health as ``(key, value)`` pairs, in the order an admin reads them."""
    state: dict[str, Any] = dict(store.sync_state() or {})
    waiting = store.waiting_count()
    oldest = store.oldest_waiting() if waiting else None
    rejected = len(store.rejected())
    lines = [
        ("last_success", state.get("last_success") or "never"),
        ("last_attempt", state.get("last_attempt") or "never"),
        (
            "last_error",
            f"{state['last_error']} (at {state.get('last_error_at') or '?'})"
            if state.get("last_error")
            else "none",
        ),
        (
            "waiting",
            f"{waiting} event(s)" + (f", oldest from {iso(oldest.at)}" if oldest else ""),
        ),
        (
            "rejected",
            f"{rejected} event(s) set aside by the server (see the rejected list)"
            if rejected
            else "0",
        ),
        ("server_holds_up_to", str(state.get("server_holds_up_to", "unknown"))),
        ("roster_cursor", str(state.get("roster_cursor", 0))),
        ("last_roster_pull", state.get("last_roster_pull") or "never"),
    ]
    if state.get("auth_refused"):
        lines.append(
            (
                "token",
                f"REFUSED by the server since {state['auth_refused']}: nothing is being sent; "
                "replace the token file",
            )
        )
    return lines
