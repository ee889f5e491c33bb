"""Demo mode's sample data, and the terminal demo of the spine.

``seed_demo`` fills an empty store with a few families, cards, a session that is on now, a risk
list and a volunteer, so a new user sees the whole flow at once. ``run_terminal_demo`` plays a
term of taps through the real DoorDesk and LocalStore and prints what was recorded.
"""

from __future__ import annotations

import random
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TextIO

from kiosk.domain.desk import KIOSK_TZ, DoorDesk
from kiosk.domain.events import DeviceIdentity
from kiosk.domain.postcodes import parse_risk_area
from kiosk.domain.timetable import SessionSlot, Timetable, make_slot

#: Risk areas of the demo: one full postcode, one sector, one district.
DEMO_RISK_AREAS = ("WS7 1AA", "WS11 4", "WS12")

#: (key, uid, greeting name, postcode, children) of the demo families. Keys 1-9 tap them.
DEMO_FAMILIES: tuple[tuple[str, str, str, str, tuple[str, ...]], ...] = (
    ("1", "04A23B1C", "Sarah", "WS7 1AA", ("Mia", "Leo")),
    ("2", "04B7C2D3", "Aisha", "WS11 4BQ", ("Zara",)),
    ("3", "04C1D2E3", "Tom", "WS13 6YY", ("Alfie", "Isla")),
    ("4", "04D4E5F6", "Magda", "WS12 2HN", ("Kuba",)),
    ("5", "04E7F809", "Priya", "WS14 9AB", ("Arjun", "Maya", "Dev")),
    ("6", "04F1A2B3", "Ioana", "WS7 3DE", ("Sofia",)),
)
DEMO_VOLUNTEER = ("Demo", "1234")


@dataclass(frozen=True)
class DemoCard:
    """A sample card and the key that taps it in demo mode."""

    key: str
    uid: str
    greeting_name: str


def seed_demo(store, desk: DoorDesk, now: datetime) -> list[DemoCard]:
    """Fill an empty store for demo mode: families with cards, a session on now, a risk list."""
    local = desk.local(now)
    start = time(max(local.hour - 1, 0))
    end = time(23, 59) if local.hour >= 21 else time(local.hour + 2, 0)
    if not store.timetable().session_at(local):
        slot = SessionSlot("demo", "Stay and Play", start, end, on_date=local.date())
        store.save_timetable(store.timetable().add(slot))
    store.save_risk_list(
        frozenset(parse_risk_area(a) for a in DEMO_RISK_AREAS), "demo risk list", now
    )
    cards = []
    for key, uid, name, postcode, children in DEMO_FAMILIES:
        if store.card(uid) is None:
            desk.register_family(
                name,
                postcode,
                [(c, None) for c in children],
                now,
                card_uid=uid,
                heard_from="leaflet",
            )
        cards.append(DemoCard(key, uid, name))
    try:
        from kiosk.store.volunteers import VolunteerBook

        book = VolunteerBook(store.data_dir)
        if DEMO_VOLUNTEER[0] not in book.names():
            book.add(*DEMO_VOLUNTEER)
    except ImportError:  # the volunteer book arrives with the touchscreen app
        pass
    return cards


def run_terminal_demo(out: TextIO, data_dir: Path | None = None, seed: int = 2016) -> int:
    """Register families, record a summer term of taps, export and summarise it."""
    from kiosk.store import LocalStore

    rng = random.Random(seed)
    folder = Path(data_dir or tempfile.mkdtemp(prefix="doorstep-demo-"))
    store = LocalStore(folder)
    desk = DoorDesk(store, DeviceIdentity("demo-kiosk", "demo-site"))
    term_start = date(2016, 4, 18)
    first = datetime.combine(term_start, time(9, 0), KIOSK_TZ)
    timetable = Timetable()
    for slot in (
        make_slot("stay-play", "Stay and Play", "09:30", "11:30", weekday="mon"),
        make_slot("baby-music", "Baby Music", "13:00", "14:00", weekday="wed"),
        make_slot("dads-sat", "Dads' Saturday", "10:00", "12:00", weekday="sat"),
    ):
        timetable = timetable.add(slot)
    store.save_timetable(timetable)
    store.save_risk_list(
        frozenset(parse_risk_area(a) for a in DEMO_RISK_AREAS), "demo risk list", first
    )
    print(f"Data folder: {folder}", file=out)
    print("Registering 30 families...", file=out)
    postcodes = ["WS7 1AA", "WS13 6YY", "WS14 9AB", "WS12 2HN", "WS15 1AA", "B33 8TH"]
    names = ["Sarah", "Aisha", "Tom", "Magda", "Priya", "Ioana", "Jess", "Kate", "Sam", "Ola"]
    kids = ["Mia", "Leo", "Zara", "Alfie", "Isla", "Kuba", "Arjun", "Maya", "Sofia", "Noah"]
    cards: list[str] = []
    for i in range(30):
        uid = f"04{i:06X}"
        children = [(rng.choice(kids), None) for _ in range(rng.choice((1, 1, 2, 3)))]
        desk.register_family(
            names[i % len(names)], postcodes[i % len(postcodes)], children, first, card_uid=uid
        )
        cards.append(uid)
    print("Recording a term of taps (12 weeks, 3 sessions a week)...", file=out)
    outcomes: Counter[str] = Counter()
    for week in range(12):
        for day_offset, hour in ((0, 10), (2, 13), (5, 10)):
            at = datetime.combine(
                term_start + timedelta(weeks=week, days=day_offset), time(hour, 5), KIOSK_TZ
            )
            for uid in rng.sample(cards, rng.randint(8, 20)):
                outcomes[desk.tap(uid, at + timedelta(minutes=rng.randint(0, 40))).kind] += 1
                if rng.random() < 0.1:  # a card held on the reader, or tapped twice
                    outcomes[desk.tap(uid, at + timedelta(minutes=41)).kind] += 1
    outcomes[desk.tap("DEADBEEF", first).kind] += 1
    attendances = store.attendances()
    child_attendances = sum(len(a.children) for a in attendances)
    qualifying = sum(len(a.children) for a in attendances if a.decision.qualifies)
    print(f"Taps: {dict(outcomes)}", file=out)
    print(f"Attendances recorded: {len(attendances)} (repeat taps recorded once)", file=out)
    print(f"Child-attendances: {child_attendances}", file=out)
    print(f"Qualifying child-attendances: {qualifying}", file=out)
    print(f"Waiting to sync: {store.waiting_count()} events", file=out)
    print("First lines of the export (kiosk-admin export attendance):", file=out)
    from kiosk.export import write_attendance_csv

    class _Head:
        def __init__(self, limit: int) -> None:
            self.lines: list[str] = []
            self.limit = limit

        def write(self, text: str) -> int:
            self.lines.extend(text.splitlines())
            return len(text)

    head = _Head(6)
    write_attendance_csv(store, head)
    for line in head.lines[: head.limit]:
        print("  " + line, file=out)
    print(f"Try it: kiosk-admin --data {folder} status", file=out)
    return 0


def main() -> int:
    """``python -m kiosk.demo``: the terminal demo of the spine."""
    import sys

    return run_terminal_demo(sys.stdout)


if __name__ == "__main__":
    raise SystemExit(main())
