"""Demo mode's sample data, and the terminal demo of the spine.

``seed_demo`` fills an empty store with a few families, cards, a session that is on now, a risk
list and a volunteer, so a new user sees the whole flow at once. ``run_terminal_demo`` plays a
term of taps through the real DoorDesk and LocalStore and prints what was recorded.

The sample families have the same family and child ids in every demo folder (made from their
card numbers, :func:`demo_id`): they are the same six families wherever the demo runs, so two
demo kiosks enrolled with one organisation's server do not each send their own copy of
"Aisha", to come back to the other with the roster as a second Aisha with the same card.
"""

from __future__ import annotations

import hashlib
import os
import random
import shlex
import shutil
import sys
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TextIO

from kiosk.domain.desk import KIOSK_TZ, DoorDesk
from kiosk.domain.events import DeviceIdentity
from kiosk.domain.families import Child, Family, new_family
from kiosk.domain.postcodes import parse_risk_area
from kiosk.domain.timetable import SessionSlot, Timetable, make_slot

#: Risk areas of the demo: one full postcode, one sector, one district.
DEMO_RISK_AREAS = ("WS7 1AA", "WS11 4", "WS12")

#: (key, uid, greeting name, postcode, children) of the demo families: their keys tap them.
DEMO_FAMILIES: tuple[tuple[str, str, str, str, tuple[str, ...]], ...] = (
    ("1", "04A23B1C", "Sarah", "WS7 1AA", ("Mia", "Leo")),
    ("2", "04B7C2D3", "Aisha", "WS11 4BQ", ("Zara",)),
    ("3", "04C1D2E3", "Tom", "WS13 6YY", ("Alfie", "Isla")),
    ("4", "04D4E5F6", "Magda", "WS12 2HN", ("Kuba",)),
    ("5", "04E7F809", "Priya", "WS14 9AB", ("Arjun", "Maya", "Dev")),
    ("6", "04F1A2B3", "Ioana", "WS7 3DE", ("Sofia",)),
)
DEMO_VOLUNTEER = ("Demo", "1234")

#: The key that taps a new card, one no family has yet (the unknown-card and give-a-card flows).
NEW_CARD_KEY = "0"
#: The pile of new cards that key takes from: the first one no family has is tapped.
NEW_CARDS: tuple[str, ...] = tuple(f"04DE{n:04X}" for n in range(1, 100))

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@dataclass(frozen=True)
class DemoCard:
    """A sample card and the key that taps it in demo mode (``new_card``: key 0's pile)."""

    key: str
    uid: str
    greeting_name: str
    new_card: bool = False


def demo_keys_text() -> str:
    """What the keys do, for ``kiosk --help`` and the start-up lines: made from the data."""
    keys = [key for key, *_ in DEMO_FAMILIES]
    span = f"{keys[0]}-{keys[-1]}" if len(keys) > 1 else keys[0]
    return f"keys {span} tap the sample families' cards, {NEW_CARD_KEY} taps a new card"


def demo_id(prefix: str, *parts: str) -> str:
    """A family or child id (``F-`` or ``C-`` and 10 Crockford base32 characters, as
    :mod:`kiosk.domain.ids` makes them) that is the same on every demo kiosk."""
    digest = hashlib.sha256("/".join(("doorstep-demo", *parts)).encode()).digest()
    number = int.from_bytes(digest[:8], "big") >> 14  # 50 bits: 10 characters
    chars = [_CROCKFORD[(number >> (5 * i)) & 31] for i in reversed(range(10))]
    return f"{prefix}-{''.join(chars)}"


def demo_family(uid: str, name: str, postcode: str, children: tuple[str, ...]) -> Family:
    """A sample family, checked as any registration is, with the demo's fixed ids."""
    family = new_family(name, postcode, [(c, None) for c in children], heard_from="leaflet")
    kids = tuple(
        Child(demo_id("C", uid, str(n)), child.first_name, child.born)
        for n, child in enumerate(family.children)
    )
    return replace(family, family_id=demo_id("F", uid), children=kids)


def next_new_card(store) -> str:
    """The first card of :data:`NEW_CARDS` that no family has: what key 0 taps.

    Until it is given to a family, pressing 0 again taps the same card (it is the one in the
    volunteer's hand); once given, the next press takes the next card from the pile.
    """
    for uid in NEW_CARDS:
        card = store.card(uid)
        if card is None or not card.active:
            return uid
    return NEW_CARDS[-1]


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
        family = demo_family(uid, name, postcode, children)
        if store.family(family.family_id) is None and store.card(uid) is None:
            desk.record_registration(family, now, card_uid=uid)
        cards.append(DemoCard(key, uid, name))
    cards.append(DemoCard(NEW_CARD_KEY, NEW_CARDS[0], "", new_card=True))
    try:
        from kiosk.store.volunteers import VolunteerBook

        book = VolunteerBook(store.data_dir)
        if DEMO_VOLUNTEER[0] not in book.names():
            book.add(*DEMO_VOLUNTEER)
    except ImportError:  # the volunteer book arrives with the touchscreen app
        pass
    return cards


#: Marks a folder as the terminal demo's, so that only such a folder is ever emptied.
DEMO_MARKER = ".doorstep-terminal-demo"
#: Weeks of taps the terminal demo records: a school term.
TERM_WEEKS = 12


def terminal_demo_folder() -> Path:
    """The one folder the terminal demo uses, emptied at the start of each run: kept after it,
    so the ``kiosk-admin`` line it ends with can look at what it recorded, but never more than
    one (``$XDG_CACHE_HOME/doorstep/terminal-demo``, else ``~/.cache/doorstep/...``)."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "doorstep" / "terminal-demo"


def _fresh_folder(folder: Path) -> Path:
    """``folder`` emptied for a new run; refuses one with files that are not the demo's."""
    if folder.exists():
        if any(folder.iterdir()) and not (folder / DEMO_MARKER).exists():
            raise SystemExit(
                f"kiosk.demo: {folder} holds files that are not the terminal demo's; "
                "not emptying it (remove it, or set XDG_CACHE_HOME to another folder)"
            )
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / DEMO_MARKER).write_text("the terminal demo's data: emptied at each run\n")
    return folder


def term_start_before(today: date) -> date:
    """The Monday ``TERM_WEEKS`` weeks before this week's: the term ends before today."""
    this_monday = today - timedelta(days=today.weekday())
    return this_monday - timedelta(weeks=TERM_WEEKS)


def admin_command() -> str:
    """How to run ``kiosk-admin`` from here, as a shell would take it: the one next to this
    Python (``.venv/bin/kiosk-admin`` from the clone), which may not be on the ``PATH``."""
    script = Path(sys.executable).with_name("kiosk-admin")
    if not script.exists():
        return f"{shlex.quote(sys.executable)} -m kiosk.admin"
    try:
        relative = script.relative_to(Path.cwd())
    except ValueError:
        return shlex.quote(str(script))
    return shlex.quote(str(relative) if "/" in str(relative) else f"./{relative}")


def run_terminal_demo(
    out: TextIO, data_dir: Path | None = None, seed: int = 2016, today: date | None = None
) -> int:
    """Register families, record a term of taps up to last week, export and summarise it.

    ``seed`` only makes the taps the same at every run; the dates are the last ``TERM_WEEKS``
    weeks before ``today``, so what the kiosk shows afterwards is recent, as a real one's is.
    Without ``data_dir``, the run's data is in :func:`terminal_demo_folder`.
    """
    from kiosk.store import LocalStore

    rng = random.Random(seed)
    folder = Path(data_dir) if data_dir else _fresh_folder(terminal_demo_folder())
    store = LocalStore(folder)
    desk = DoorDesk(store, DeviceIdentity("demo-kiosk", "demo-site"))
    term_start = term_start_before(today or date.today())
    term_end = term_start + timedelta(weeks=TERM_WEEKS, days=-2)
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
    print(
        f"Recording a term of taps ({TERM_WEEKS} weeks, 3 sessions a week): "
        f"{term_start:%a %d %b %Y} to {term_end:%a %d %b %Y}, the weeks before today...",
        file=out,
    )
    outcomes: Counter[str] = Counter()
    for week in range(TERM_WEEKS):
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
    store.close()
    print(f"Try it: {admin_command()} --data {shlex.quote(str(folder))} status", file=out)
    if data_dir is None:
        print("(this folder is emptied and used again at the next run)", file=out)
    return 0


def main() -> int:
    """``python -m kiosk.demo``: the terminal demo of the spine."""
    import sys

    return run_terminal_demo(sys.stdout)


if __name__ == "__main__":
    raise SystemExit(main())
