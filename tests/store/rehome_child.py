"""Child for tests/store/test_rehome.py: re-home a store, killing itself with SIGKILL right
after its ``KILL_AFTER``-th file write (a power cut at that exact point), or never (0)."""

from __future__ import annotations

import os
import signal
import sys

from kiosk.domain.events import DeviceIdentity
from kiosk.store import LocalStore
from kiosk.store.durable import AtomicJSONStorage


def main(data: str, kill_after: int) -> None:
    store = LocalStore(data, events_per_part=4)
    writes = [0]
    real_write = AtomicJSONStorage.write

    def write(self: AtomicJSONStorage, data: object) -> None:
        real_write(self, data)
        writes[0] += 1
        if writes[0] == kill_after:
            os.kill(os.getpid(), signal.SIGKILL)

    AtomicJSONStorage.write = write  # type: ignore[method-assign]
    done = store.rehome(DeviceIdentity("kiosk-1", "library"))
    print(f"writes={writes[0]} rewritten={done.rewritten} requeued={done.requeued}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
