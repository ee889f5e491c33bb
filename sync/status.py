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

from sync.recovery import RecoveryStore, describe_resend
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
        (
            "last_prune",
            f"{state['last_prune']}: {state.get('last_pruned', 0)} acknowledged event(s) past "
            "the retention window dropped"
            if state.get("last_prune")
            else "never",
        ),
    ]
    lines.extend(_recovery_lines(store, state))
    if state.get("identity_problem"):
        lines.append(("identity", f"NOT SENDING: {state['identity_problem']}"))
    if state.get("auth_refused"):
        lines.append(
            (
                "token",
                f"REFUSED by the server since {state['auth_refused']}: nothing is being sent; "
                "replace the token file",
            )
        )
    return lines


def _recovery_lines(store: SyncStore, state: dict[str, Any]) -> list[tuple[str, str]]:
    """Recovery: what was sent again, what is missing for good, seq floor, roster restarts."""
    lines: list[tuple[str, str]] = []
    resend = state.get("last_resend")
    lines.append(("last_resend", describe_resend(resend) if isinstance(resend, dict) else "none"))
    missing = [m for m in state.get("missing") or [] if isinstance(m, dict)]
    if missing:
        lines.extend(("missing", str(m.get("text") or m)) for m in missing)
    else:
        lines.append(("missing", "none"))
    stuck = state.get("resend_stuck")
    if isinstance(stuck, dict):
        lines.append(
            (
                "resend_stuck",
                f"the server still held only up to seq {stuck.get('server_held')} after "
                f"re-sending (at {stuck.get('at')}); trying again hourly",
            )
        )
    floor = store.seq_floor() if isinstance(store, RecoveryStore) else 0
    if floor:
        note = state.get("seq_floor") if isinstance(state.get("seq_floor"), dict) else {}
        lines.append(
            (
                "seq_floor",
                f"{floor} (seqs up to it were given out before this store; new events "
                f"continue above it){' since ' + note['at'] if note.get('at') else ''}",
            )
        )
    refused = state.get("seq_floor_refused")
    if isinstance(refused, dict):
        lines.append(
            (
                "seq_floor_refused",
                f"the server says it knows seq up to {refused.get('seq')} of this device, far "
                f"past this store's {refused.get('was')} (at {refused.get('at')}): not followed; "
                "on the server, 'kiosk-central gaps DEVICE' then 'device undo-gap DEVICE ID'",
            )
        )
    reset = state.get("roster_reset")
    if isinstance(reset, dict):
        lines.append(("roster_reset", f"{reset.get('at')}: {reset.get('why')}"))
    change = state.get("last_setup_change")
    lines.append(("last_setup_pull", state.get("last_setup_pull") or "never"))
    if isinstance(change, dict):
        what = "; ".join(change.get("what", []))
        lines.append(("last_setup_change", f"{what} at {change.get('at')}"))
    return lines
