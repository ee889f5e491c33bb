"""Tell systemd how the sync daemon is doing (``sd_notify``), after piwheels' ``systemd.py``.

Sends ``READY=1``, ``WATCHDOG=1``, ``STATUS=...`` and ``STOPPING=1`` datagrams to
``$NOTIFY_SOCKET``; does nothing at all when there is no such socket (run by hand, in tests).
A unit with ``Type=notify`` and ``WatchdogSec=`` restarts the daemon if its loop hangs.

    >>> notifier = Notifier(env={})      # not under systemd: every call is a no-op
    >>> notifier.ready(); notifier.available
    False
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Mapping


class Notifier:
    """A connection to systemd's notification socket, if there is one."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        self._address: str | bytes | None = None
        self._socket: socket.socket | None = None
        addr = env.get("NOTIFY_SOCKET", "")
        if addr:
            # A leading "@" is Linux's abstract namespace: a NUL byte on the wire.
            self._address = b"\0" + addr[1:].encode() if addr.startswith("@") else addr
            self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        usec = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        watched = usec.isdigit() and (not pid or pid == str(os.getpid()))
        self.watchdog_period: float | None = int(usec) / 1_000_000 if watched else None

    @property
    def available(self) -> bool:
        return self._socket is not None

    def notify(self, state: str) -> None:
        if self._socket is None or self._address is None:
            return
        # systemd going away must never take the daemon down with it.
        with contextlib.suppress(OSError):
            self._socket.sendto(state.encode("utf-8"), self._address)

    def ready(self) -> None:
        self.notify("READY=1")

    def status(self, text: str) -> None:
        self.notify("STATUS=" + text.replace("\n", " ")[:200])

    def watchdog_ping(self) -> None:
        self.notify("WATCHDOG=1")

    def stopping(self) -> None:
        self.notify("STOPPING=1")

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
