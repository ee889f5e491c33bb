"""Console commands end quietly when whoever reads their output stops reading.

``kiosk-admin status | head -1``: ``head`` exits after one line, and the next write to the
pipe raises ``BrokenPipeError``. Tools people are used to (``ls``, ``grep``) just stop; a
traceback there reads like a crash. As the Python documentation recommends (library/signal,
"Note on SIGPIPE"), the error is caught at the top of the command and stdout is pointed at
``/dev/null``, so that the interpreter's own flush at exit does not raise it again.

The exit status is 141 (128 + SIGPIPE), what a shell reports for a tool the signal stopped,
so ``set -o pipefail`` scripts see that the output was cut off, and it is not mistaken for
the command's own "failed" status (``kiosk-admin doctor`` exits 1 when a check fails).

    @quiet_when_stdout_closes
    def main(argv=None) -> int: ...
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import ParamSpec

#: The exit status after the reader went away: 128 + SIGPIPE (13), as a shell reports it.
EXIT_STDOUT_CLOSED = 141

P = ParamSpec("P")


def quiet_when_stdout_closes(main: Callable[P, int]) -> Callable[P, int]:
    """Wrap a console script's ``main``: a closed stdout ends it with status 141, no traceback."""

    @functools.wraps(main)
    def run(*args: P.args, **kwargs: P.kwargs) -> int:
        try:
            status = main(*args, **kwargs)
        except BrokenPipeError:
            _stdout_to_devnull()
            return EXIT_STDOUT_CLOSED
        except SystemExit:  # argparse's --help and usage errors: their output is buffered too
            if not _flushed():
                return EXIT_STDOUT_CLOSED
            raise
        # Buffered output reaches the pipe here, where a closed pipe can still be caught.
        return status if _flushed() else EXIT_STDOUT_CLOSED

    return run


def _flushed() -> bool:
    """Flush stdout; False (and stdout pointed at /dev/null) when nobody reads it any more."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _stdout_to_devnull()
        return False
    return True


def _stdout_to_devnull() -> None:
    """Point stdout at /dev/null so the flush at interpreter exit finds nothing to fail on."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a real file (a test's StringIO): nothing will flush at exit
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)
