"""A realistic org for the family-rights tests, and a search of the whole central database."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import inspect, select, text

from central.db import CentralDB, Device, attendances
from central.reports.rates import set_rate
from central.reports.reviews import review_attendance
from kiosk.domain.families import Family
from tests.reports.helpers import Kiosk, at

SARAH_CARD = "04A23B1C"
TOM_CARD = "04B7C2D3"


@dataclass
class Families:
    sarah: Family
    tom: Family

    @property
    def secrets(self) -> list[str]:
        """Everything that would identify Sarah's family."""
        s = self.sarah
        return [
            s.family_id,
            s.greeting_name,
            s.postcode,
            SARAH_CARD,
            *(c.first_name for c in s.children),
            *(c.child_id for c in s.children),
        ]


def mondays(start: str, count: int) -> list[date]:
    first = date.fromisoformat(start)
    return [first + timedelta(weeks=n) for n in range(count)]


def populate(db: CentralDB, kiosk: Kiosk) -> Families:
    set_rate(db, "lichfield", "3.00", date(2016, 1, 1))
    sarah = kiosk.register(
        "Sarahjane",
        "WS11 4QT",
        ["Miabelle", "Leonardo"],
        card=SARAH_CARD,
        criteria=["single_parent"],
        consent=True,
        heard_from="leaflet",
        language="pl",
    )
    tom = kiosk.register("Tomasz", "WS12 3AB", ["Avaline"], card=TOM_CARD)
    for day in mondays("2016-04-04", 4):
        kiosk.tap(SARAH_CARD, at(day))
        kiosk.tap(TOM_CARD, at(day, "09:45"))
    # One child only on the Wednesday, by a volunteer; one visit with the clock unsynchronised.
    kiosk.sign_in(sarah, at("2016-04-06", "13:05"), children=["Miabelle"])
    kiosk.clock_synced = False
    kiosk.tap(SARAH_CARD, at("2016-04-13", "13:05"))
    kiosk.clock_synced = True
    kiosk.sync()
    # A refused event that names the family (the kiosk sent a bad field).
    last = list(kiosk.store.events())[-1].to_dict()
    bad = {
        **last,
        "event_id": str(uuid.uuid4()),
        "seq": 10_000,
        "data": {**last["data"], "qualifies": "yes"},
    }
    answer = db.ingest(Device(kiosk.device, kiosk.org, kiosk.site), [bad]).results
    assert answer[0].status == "rejected"
    with db.engine.connect() as conn:
        unsynced = conn.execute(
            select(attendances.c.attendance_id).where(attendances.c.clock_synced.is_(False))
        ).scalar_one()
    review_attendance(db, unsynced, "counted", "Jo Bloggs", note="Sarahjane came with Miabelle")
    return Families(sarah, tom)


def every_text(db: CentralDB) -> dict[str, str]:
    """Every row of every table in the database (whoever made it), as text, by table."""
    out: dict[str, str] = {}
    with db.engine.connect() as conn:
        for name in inspect(conn).get_table_names():
            rows = conn.execute(text(f'SELECT * FROM "{name}"')).all()
            out[name] = json.dumps([[str(v) for v in row] for row in rows])
    return out


def leaks(db: CentralDB, secrets: list[str]) -> list[str]:
    """Where any of ``secrets`` is still found (table: secret)."""
    found = []
    for table, content in every_text(db).items():
        for secret in secrets:
            if secret in content or secret.lower() in content.lower():
                found.append(f"{table}: {secret}")
    return found
