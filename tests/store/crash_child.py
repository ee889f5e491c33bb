"""A kiosk that records as fast as it can until it is killed (for the crash tests).

    python -m tests.store.crash_child DATA_DIR RUN [COUNT]

Opens a LocalStore on DATA_DIR and, for ever (or COUNT rounds), mixes what a kiosk writes:
registrations with a card followed by a tap through DoorDesk, back-dated paper attendances, and
batches spanning two days (which take the multi-file path). Each line is printed, and flushed,
only after the write it names has returned:

    S                           about to open the store (and repair what a kill left)
    F <family_id> <card_uid>    a registration with its card is durable
    E <event_id>                an event is durable

Run ``RUN`` files its taps under day ``BASE + RUN`` and back-dates to the day before, so every
run touches a small, known set of day files. Kept light: the parent starts it hundreds of times.
"""

from __future__ import annotations

import random
import sys
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from kiosk.domain.attendance import attendance_data
from kiosk.domain.desk import DoorDesk
from kiosk.domain.events import DeviceIdentity, Event
from kiosk.domain.risk import IncentiveDecision
from kiosk.domain.timetable import SessionOccurrence
from kiosk.store import LocalStore

LONDON = ZoneInfo("Europe/London")
BASE = date(2026, 1, 5)


def paper_attendance(family_id: str, day: date, device: DeviceIdentity, when: datetime) -> Event:
    slot = f"day-{('mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun')[day.weekday()]}"
    occurrence = SessionOccurrence(slot, "All day", day, time(0, 0), time(23, 59))
    data = attendance_data(
        occurrence, family_id, [], 1, "paper", "Volunteer", IncentiveDecision(False, (), "v0-none")
    )
    return Event(
        "attendance.recorded", when, data, device.device_id, device.site_id, clock_synced=True
    )


def main(argv: list[str]) -> int:
    data_dir, run = argv[1], int(argv[2])
    rounds = int(argv[3]) if len(argv) > 3 else None
    device = DeviceIdentity(f"kiosk-{run}", "site-crash")
    rng = random.Random(run)
    print("S", flush=True)
    store = LocalStore(data_dir)
    desk = DoorDesk(store, device)
    today = BASE + timedelta(days=run)
    when = datetime.combine(today, time(10, 0), tzinfo=LONDON)
    out = sys.stdout
    families: list[str] = []
    n = 0
    while rounds is None or n < rounds:
        n += 1
        roll = rng.random()
        if roll < 0.5 or not families:
            uid = f"{run % 0xFFFF:04X}{n % 0xFFFF:04X}"
            family = desk.register_family(
                f"Family {run}-{n}", "WS7 1AA", [("Kid", None)], when, card_uid=uid
            )
            out.write(f"F {family.family_id} {uid}\n")
            out.flush()
            families.append(family.family_id)
            outcome = desk.tap(uid, when)
            if outcome.kind != "welcome":
                raise SystemExit(f"tap gave {outcome.kind}")
            out.write(f"E {outcome.attendance_id}\n")
        elif roll < 0.75:
            fid = rng.choice(families)
            stored = store.record([paper_attendance(fid, today - timedelta(days=1), device, when)])
            out.write("".join(f"E {e.event_id}\n" for e in stored))
        else:
            fid = rng.choice(families)
            batch = [
                paper_attendance(fid, today - timedelta(days=1), device, when),
                paper_attendance(fid, today, device, when),
            ]
            stored = store.record(batch)
            out.write("".join(f"E {e.event_id}\n" for e in stored))
        out.flush()
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
