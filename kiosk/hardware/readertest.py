"""``kiosk-admin reader test``: wait for one tap and say what was read, and by which reader.

For the technician who has just wired the box::

    $ kiosk-admin reader test
    Waiting up to 30 s for a card on the RC522 on /dev/spidev0.0, reset GPIO25. Tap a card now.
    Card 04A23B1C read by the rc522 reader.

Exit status: 0 a card was read, 1 no card within the time, 2 the reader is broken or missing
(with a plain message saying what to check).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

from kiosk.hardware.base import BadCardData, CardReader, ReaderError, ReaderUnavailable
from kiosk.hardware.select import ReaderConfig, describe_reader, open_reader

EXIT_TAP_READ = 0
EXIT_TIMED_OUT = 1
EXIT_READER_BROKEN = 2

POLL_INTERVAL = 0.1


def reader_test(
    config: ReaderConfig,
    timeout: float,
    out: TextIO,
    *,
    opener: Callable[[ReaderConfig], CardReader] = open_reader,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Wait up to *timeout* seconds for a tap on the configured reader and report it.

    Returns :data:`EXIT_TAP_READ`, :data:`EXIT_TIMED_OUT` or :data:`EXIT_READER_BROKEN`.
    A reader that fails once is reset and tried again before it is called broken; a bad read
    (garbage from a USB reader) is reported and the wait goes on.
    """
    where = describe_reader(config)
    try:
        reader = opener(config)
    except ReaderUnavailable as exc:
        print(f"The card reader ({where}) cannot be used: {exc}", file=out)
        return EXIT_READER_BROKEN
    except ReaderError as exc:
        print(f"The card reader ({where}) is not working: {exc}", file=out)
        return EXIT_READER_BROKEN
    with reader:
        print(
            f"Waiting up to {timeout:g} s for a card on the {where}. Tap a card now.",
            file=out,
            flush=True,
        )
        deadline = clock() + timeout
        retried = False
        while True:
            remaining = deadline - clock()
            if remaining <= 0:
                break
            started = clock()
            try:
                uid = reader.read_uid(min(POLL_INTERVAL, remaining))
            except BadCardData as exc:
                print(f"Read something that is not a card number: {exc}", file=out, flush=True)
                uid = None
            except ReaderError as exc:
                if retried:
                    print(f"The card reader is not working: {exc}", file=out)
                    return EXIT_READER_BROKEN
                retried = True
                try:
                    reader.reset()
                except ReaderError as reset_exc:
                    print(f"The card reader is not working: {reset_exc}", file=out)
                    return EXIT_READER_BROKEN
                continue
            else:
                retried = False
            if uid is not None:
                print(f"Card {uid} read by the {reader.name} reader.", file=out)
                return EXIT_TAP_READ
            pause = POLL_INTERVAL - (clock() - started)
            if pause > 0:
                sleep(min(pause, max(0.0, deadline - clock())))
    print(
        f"No card was read in {timeout:g} s. Hold the card flat on the reader for a second; "
        "if it still reads nothing, check the wiring (see firmware-notes).",
        file=out,
    )
    return EXIT_TIMED_OUT
