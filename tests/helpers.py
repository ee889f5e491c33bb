"""Small helpers the tests share."""

from __future__ import annotations

import contextlib
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from kiosk.domain.desk import KIOSK_TZ


def local_time(text: str) -> datetime:
    """``2026-11-23 10:00`` as a Europe/London time."""
    return datetime.fromisoformat(text).replace(tzinfo=KIOSK_TZ)


def wait_for(condition: Callable[[], object], what: str, timeout: float = 60.0) -> None:
    """Wait until ``condition()`` is true: for a real process, server or thread to reach a state.

    Not a timing assertion: the deadline is only there so a broken test fails with ``what``
    instead of hanging the run, and it is generous for a loaded, shared machine. The condition
    is checked every 20 ms.
    """
    pace = threading.Event()
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:.0f} s waiting for {what}")
        pace.wait(0.02)


def stop_process(process: subprocess.Popen | None) -> None:
    """Stop a server the test started: SIGTERM, then SIGKILL if it has not gone in 10 s."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


@contextlib.contextmanager
def statements_run(engine: Any) -> Iterator[list[str]]:
    """The SQL ``engine`` sends while in the block, one entry per statement (an executemany
    once): for tests that count a request's round trips to the database."""
    from sqlalchemy import event

    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
