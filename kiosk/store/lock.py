"""The data folder's lock: one ``.lock`` file that the app, the sync daemon and kiosk-admin share.

It is filelock's native lock (``fcntl.flock`` on Unix), so it also excludes any tool that takes
``filelock.FileLock("<data>/.lock")``. The lock is taken on a descriptor kept open for the
store's lifetime (``filelock.lock_descriptor``) rather than by opening, locking and closing the
file through ``FileLock`` on every call, because it sits on the tap path
(``bench/tap_latency.py``). The kernel drops the lock when a process dies, so a kill never
leaves it held.

A read-only store (``kiosk-admin status`` on a full disk or a read-only mount) opens the lock
file for reading only and never creates it: ``flock`` works the same on such a descriptor. With
no lock file at all, no kiosk process has used the folder yet and there is nothing to wait for.
"""

from __future__ import annotations

import os
import time

from filelock import lock_descriptor, unlock_descriptor

from kiosk.store.errors import StoreBusyError

_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


class FolderLock:
    """An exclusive, non-reentrant lock on ``path``; waits up to ``timeout`` seconds.

    ``read_only``: never create nor write the lock file (see the module's note).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        timeout: float,
        poll: float,
        *,
        read_only: bool = False,
    ) -> None:
        self.path = os.fspath(path)
        self.timeout = timeout
        self.poll = poll
        self.read_only = read_only
        self._fd: int | None = None
        self._absent = False  # read-only, and there is no lock file to lock

    def acquire(self) -> None:
        if self._fd is None and not self._absent:
            if self.read_only:
                try:
                    self._fd = os.open(self.path, os.O_RDONLY | _O_CLOEXEC)
                except FileNotFoundError:
                    self._absent = True
            else:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | _O_CLOEXEC, 0o644)
        if self._fd is None:  # no lock file to lock (read-only)
            return
        if lock_descriptor(self._fd, blocking=False):
            return
        deadline = time.monotonic() + self.timeout
        delay = self.poll
        while not lock_descriptor(self._fd, blocking=False):
            if time.monotonic() >= deadline:
                raise self._busy()
            time.sleep(delay)
            delay = min(delay * 2, 0.02)

    def release(self) -> None:
        if self._fd is not None:
            unlock_descriptor(self._fd)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # also drops the lock, were it held
            self._fd = None

    def _busy(self) -> StoreBusyError:
        folder = os.path.dirname(self.path)
        return StoreBusyError(
            f"the data folder {folder} stayed locked by another kiosk process for "
            f"{self.timeout:g} s; try again, or look for a stuck process (systemctl status)"
        )
