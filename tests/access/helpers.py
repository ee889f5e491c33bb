"""A county with two organisations, families with names found nowhere else, and four users."""

from __future__ import annotations

import base64
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest

from central.db import CentralDB
from central.reports.rates import set_rate
from tests.reports.helpers import MON_PLAY, Kiosk, at

#: Every family and child name seeded: none of them is an English word or a label on a page.
LICHFIELD_NAMES = ("Zephyrine", "Quillonet", "Marigoldia", "Thaddeusz", "Ottolinde")
TAMWORTH_NAMES = ("Perpetuax", "Wilhelmyna")
NAMES = LICHFIELD_NAMES + TAMWORTH_NAMES


@dataclass
class County:
    passwords: dict[str, str]
    family_ids: dict[str, str] = field(default_factory=dict)
    child_ids: dict[str, str] = field(default_factory=dict)


def seed_county(db: CentralDB) -> County:
    """lichfield (staff alice, finance fred) and tamworth (staff tess) with April 2016 sessions;
    carol is a commissioner without the names grant, gina one with it."""
    lich = Kiosk(db).timetable(MON_PLAY)
    lich.risk("WS7 1AA")
    tam = Kiosk(db, org="tamworth", site="hub", device="tam-1").timetable(MON_PLAY)
    tam.risk("WS7 1AA")
    zephyrine = lich.register(
        "Zephyrine", "WS7 1AA", ["Quillonet", "Marigoldia"], card="04A00001", at=at("2016-04-01")
    )
    thaddeusz = lich.register(
        "Thaddeusz", "WS13 6YY", ["Ottolinde"], card="04A00002", at=at("2016-01-01")
    )
    perpetuax = tam.register("Perpetuax", "WS7 1AA", ["Wilhelmyna"], card="04B00001")
    lich.tap("04A00002", at("2016-02-01"))  # then not seen again: on the outreach list
    for day in ("2016-04-04", "2016-04-11"):
        lich.tap("04A00001", at(day))
        tam.tap("04B00001", at(day))
    lich.sync()
    tam.sync()
    set_rate(db, "lichfield", "3.00", date(2016, 4, 1))
    set_rate(db, "tamworth", "2.50", date(2016, 4, 1))
    passwords = {
        "alice": db.add_user("alice", "staff", "lichfield"),
        "fred": db.add_user("fred", "finance", "lichfield"),
        "tess": db.add_user("tess", "staff", "tamworth"),
        "carol": db.add_user("carol", "commissioner"),
        "gina": db.add_user("gina", "commissioner"),
    }
    db.grant("gina", "names", by="test")
    county = County(passwords)
    for fam in (zephyrine, thaddeusz, perpetuax):
        county.family_ids[fam.greeting_name] = fam.family_id
        for child in fam.children:
            county.child_ids[child.first_name] = child.child_id
    return county


def pages(org: str) -> list[str]:
    """Every dashboard page and download about ``org`` (April 2016)."""
    m = "month=2016-04"
    base = f"/dashboard/org/{org}"
    return [
        f"{base}?{m}",
        f"{base}/invoice.csv?{m}",
        f"{base}/invoice.pdf?{m}",
        f"{base}/reach.csv?{m}",
        f"{base}/reach.pdf?{m}",
        f"{base}/register?date=2016-04-04",
        f"{base}/register.csv?date=2016-04-04",
        f"{base}/outreach?{m}",
    ]


COUNTY_PAGES = [
    "/dashboard?month=2016-04",
    "/dashboard/all/reach.csv?month=2016-04",
    "/dashboard/all/reach.pdf?month=2016-04",
]


def basic(name: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{name}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def text_of(response) -> str:
    """What a person reading the response sees: a PDF's text (pdftotext), else the body."""
    if response.headers.get("content-type", "").startswith("application/pdf"):
        if shutil.which("pdftotext") is None:
            pytest.skip("pdftotext (poppler-utils) is not installed")
        done = subprocess.run(
            ["pdftotext", "-", "-"], input=response.content, capture_output=True, check=True
        )
        return done.stdout.decode("utf-8")
    return response.text


def log_in(client, name: str, password: str):
    return client.post(
        "/dashboard/login",
        data={"name": name, "password": password, "next": "/dashboard"},
        follow_redirects=False,
    )


class Clock:
    """A clock the test moves (the login throttle's time)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)
