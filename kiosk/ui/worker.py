"""One background thread for everything that may block: the store, PIN hashing, the desk.

The UI thread never waits on a disk, a lock or a hash: it ``submit``s a call and gets the result
(or the exception) back on the UI thread through ``post``, which the app sets to Kivy's
``Clock.schedule_once``. One thread, so store writes happen in the order the taps came.

    >>> results = []
    >>> w = Worker(post=lambda fn: fn())   # run callbacks at once (no UI loop here)
    >>> w.submit(lambda: 2 + 2, on_done=results.append)
    >>> w.join_idle(5), results
    (True, [4])
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

Post = Callable[[Callable[[], None]], None]
_STOP = object()


class Worker:
    """Runs submitted calls in order on one daemon thread; results come back through ``post``."""

    def __init__(self, post: Post, name: str = "kiosk-worker") -> None:
        self._post = post
        self._queue: queue.Queue[Any] = queue.Queue()
        self._lock = threading.Lock()
        self._pending = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    @property
    def idle(self) -> bool:
        """True when every submitted call has run and its callback has been delivered."""
        with self._lock:
            return self._pending == 0

    def submit(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        with self._lock:
            self._pending += 1
        self._queue.put((fn, on_done, on_error))

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is _STOP:
                return
            fn, on_done, on_error = job
            try:
                result = fn()
            except Exception as exc:  # noqa: BLE001 - every failure goes back to the UI
                log.exception("background call %r failed", fn)
                self._deliver(on_error, exc)
            else:
                self._deliver(on_done, result)

    def _deliver(self, callback: Callable[[Any], None] | None, value: Any) -> None:
        def run() -> None:
            try:
                if callback is not None:
                    callback(value)
            finally:
                with self._lock:
                    self._pending -= 1

        try:
            self._post(run)
        except Exception:  # noqa: BLE001 - e.g. the UI loop has gone during shutdown
            log.exception("could not hand a result back to the UI")
            with self._lock:
                self._pending -= 1

    def join_idle(self, timeout: float) -> bool:
        """Wait (in this thread) until idle; only for callers whose ``post`` runs at once."""
        deadline = time.monotonic() + timeout
        while not self.idle:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    def stop(self, timeout: float = 5.0) -> None:
        """Finish queued calls, then end the thread. Safe to call twice."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout)
