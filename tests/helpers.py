"""Small helpers the tests share."""

from __future__ import annotations

from datetime import datetime

from kiosk.domain.desk import KIOSK_TZ


def local_time(text: str) -> datetime:
    """``2026-11-23 10:00`` as a Europe/London time."""
    return datetime.fromisoformat(text).replace(tzinfo=KIOSK_TZ)
