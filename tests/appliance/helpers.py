"""Small real kiosks for the appliance tests: a data folder with families, taps and a config."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from kiosk.domain.desk import KIOSK_TZ, DoorDesk
from kiosk.domain.events import DeviceIdentity
from kiosk.domain.postcodes import parse_risk_area
from kiosk.domain.timetable import Timetable, make_slot
from kiosk.identity import save_identity
from kiosk.store import LocalStore

REPO = Path(__file__).resolve().parents[2]
DEVICE = DeviceIdentity("kiosk-test-1", "test-site")
#: A Monday with a session on all day, so every tap is a welcome.
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=KIOSK_TZ)


@dataclass
class Kiosk:
    """A data folder and a way to record check-ins in it exactly as the kiosk does."""

    data: Path
    cards: int = 0

    def open(self) -> LocalStore:
        return LocalStore(self.data)

    def visit(self, at: datetime, name: str = "Sarah") -> None:
        """Register a family with a card and tap it (three events)."""
        with self.open() as store:
            desk = DoorDesk(store, DEVICE, clock_synced=lambda: True)
            self.cards += 1
            uid = f"04A23B{self.cards:02X}"
            desk.register_family(name, "WS7 1AA", [("Mia", None)], at, card_uid=uid)
            outcome = desk.tap(uid, at + timedelta(minutes=5))
            assert outcome.kind == "welcome", outcome.describe()


def make_kiosk(data: Path, visits: int = 2) -> Kiosk:
    """A kiosk with a weekly all-day Monday session, a risk list and ``visits`` families."""
    with LocalStore(data) as store:
        save_identity(data, DEVICE)
        store.save_timetable(
            Timetable().add(make_slot("stay-play", "Stay and Play", "00:00", "23:59", "mon"))
        )
        store.save_risk_list(frozenset({parse_risk_area("WS7 1")}), "council.txt", MONDAY)
    kiosk = Kiosk(data)
    for n in range(visits):
        kiosk.visit(MONDAY + timedelta(minutes=10 * n), name=f"Family{n}")
    return kiosk


def store_contents(data: Path) -> dict:
    """Everything a person could see of a store: events, families, cards, timetable, risk."""
    with LocalStore(data) as store:
        families = sorted(store.families(), key=lambda f: f.family_id)
        return {
            "events": [e.to_dict() for e in store.events()],
            "families": [f.family_id for f in families],
            "cards": sorted((uid, store.card(uid).family_id) for uid in _uids(store)),
            "timetable": [s.to_dict() for s in store.timetable().slots],
            "risk": [(r.version, r.digest) for r in store.risk_history()],
            "waiting": store.waiting_count(),
            "highest": store.highest_seq(),
        }


def _uids(store: LocalStore) -> list[str]:
    return [e.data["uid"] for e in store.events() if e.type == "card.assigned" and "uid" in e.data]


def file_hashes(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder`` except lock files."""
    out = {}
    for dirpath, _, files in os.walk(folder):
        for name in files:
            if name.endswith(".lock"):
                continue
            path = Path(dirpath) / name
            out[path.relative_to(folder).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def write_config(path: Path, data: Path, backups: Path, **sections: dict) -> Path:
    """A valid kiosk.toml for the tests (fake reader, feedback off); ``sections`` add keys."""
    base: dict[str, dict] = {
        "device": {"id": DEVICE.device_id, "site": DEVICE.site_id},
        "store": {"data": str(data)},
        "sync": {},
        "reader": {"kind": "fake"},
        "feedback": {"enabled": False},
        "backup": {"folder": str(backups), "keep_days": 14},
    }
    for name, values in sections.items():
        base.setdefault(name, {}).update(values)
    lines = []
    for name, values in base.items():
        lines.append(f"[{name}]")
        for key, value in values.items():
            if isinstance(value, bool):
                text = "true" if value else "false"
            elif isinstance(value, int | float):
                text = str(value)
            else:
                text = '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
            lines.append(f"{key} = {text}")
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
