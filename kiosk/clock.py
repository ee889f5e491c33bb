"""Is the system clock synchronised? Every event records the answer (DESIGN.md, Events).

A Pi has no battery-backed clock (except the Pi 5 with its cell fitted): after a power cut with no
network it may start with last shutdown's time. The kernel knows whether NTP has disciplined the
clock (the STA_UNSYNC status flag that ``timedatectl`` reports as "System clock synchronized");
``adjtimex`` with no changes reads it in microseconds, cheap enough for every tap.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os

_TIME_ERROR = 5  # adjtimex's return value when the clock is not synchronised
_TIMEX_SIZE = 512  # larger than struct timex on every Linux ABI; modes (offset 0) = 0: read only


@functools.cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name or "libc.so.6", use_errno=True)
    except OSError:
        return None


def clock_is_synchronised() -> bool:
    """True when the kernel says NTP (or an RTC-trusting daemon) has set the clock.

    ``KIOSK_CLOCK_SYNCED=0/1`` overrides it (tests, and boxes with a trusted RTC and no NTP).
    """
    forced = os.environ.get("KIOSK_CLOCK_SYNCED")
    if forced in ("0", "1"):
        return forced == "1"
    libc = _libc()
    if libc is None or not hasattr(libc, "adjtimex"):
        return False
    buf = ctypes.create_string_buffer(_TIMEX_SIZE)
    state = libc.adjtimex(buf)
    return state not in (-1, _TIME_ERROR)
