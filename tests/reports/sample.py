"""A believable sample for the dashboard and PDF screenshots: two organisations, spring 2016."""

from __future__ import annotations

import random
from datetime import date, timedelta

from central.db import CentralDB
from central.reports.rates import set_rate
from kiosk.domain.families import HEARD_FROM
from tests.reports.helpers import RISK_AREAS, Kiosk, at

RISK = ("WS7 1AA", "WS11 4BQ", "WS12 2HN", "WS12 9AB")
OTHER = ("WS13 6YY", "WS14 9AB", "WS7 3DE", "WS11 1AA")
NAMES = [
    "Sarah",
    "Amira",
    "Tom",
    "Kim",
    "Priya",
    "Jo",
    "Dan",
    "Leah",
    "Omar",
    "Grace",
    "Ben",
    "Chloe",
    "Sam",
    "Aisha",
    "Ryan",
    "Zoe",
    "Ella",
    "Nadia",
    "Jack",
    "Holly",
    "Megan",
    "Adam",
    "Ruth",
    "Carl",
    "Fatima",
    "Lucy",
    "Owen",
    "Hannah",
    "Yusuf",
    "Beth",
    "Kate",
    "Liam",
    "Maya",
    "Noah",
    "Iris",
]
KIDS = [
    "Mia",
    "Leo",
    "Ava",
    "Alfie",
    "Isla",
    "Noah",
    "Evie",
    "Theo",
    "Lily",
    "Oscar",
    "Freya",
    "Arlo",
    "Rosie",
    "Jude",
    "Ivy",
    "Max",
]


def build_sample(db: CentralDB, months: tuple[str, ...] = ("2016-04", "2016-05")) -> None:
    rng = random.Random(6)
    for org, sites, families_count in (
        ("lichfield", ("library", "children-centre"), 34),
        ("tamworth", ("hub",), 22),
    ):
        kiosks = []
        for n, site in enumerate(sites):
            k = Kiosk(db, org=org, site=site, device=f"{org}-kiosk-{n + 1}")
            k.timetable(
                ("play-mon", "Stay and Play", "09:30", "11:30", "mon"),
                ("baby-wed", "Baby Group", "13:00", "14:30", "wed"),
                ("dads-sat", "Dads and Kids", "10:00", "12:00", "sat"),
            )
            k.risk(*RISK_AREAS)
            kiosks.append(k)
        fams = []
        for i in range(families_count):
            k = kiosks[i % len(kiosks)]
            risky = rng.random() < 0.38
            kids = rng.sample(KIDS, rng.choice((1, 1, 2, 2, 3)))
            registered = date(2016, 3, 1) + timedelta(days=rng.randint(0, 75))
            card = f"04{org[:2].upper().encode().hex()}{i:02X}"
            fam = k.register(
                NAMES[i % len(NAMES)],
                rng.choice(RISK if risky else OTHER),
                kids,
                at=at(registered, "10:00"),
                card=card,
                heard_from=rng.choice((*HEARD_FROM, None)),
                criteria=["young_parent"] if rng.random() < 0.08 else [],
                consent=True,
            )
            keen = rng.choice((0.15, 0.3, 0.5, 0.8))
            fams.append((k, fam, card, registered, keen))
        start = date.fromisoformat(months[0] + "-01")
        end = date.fromisoformat(months[-1] + "-01") + timedelta(days=31)
        day = start
        while day < end and f"{day:%Y-%m}" in months:
            if day.weekday() in (0, 2, 5):
                hhmm = {0: "09:40", 2: "13:10", 5: "10:15"}[day.weekday()]
                for k, fam, card, registered, keen in fams:
                    if registered <= day and rng.random() < keen * 0.55:
                        k.clock_synced = rng.random() > 0.01
                        if rng.random() < 0.85:
                            k.tap(card, at(day, hhmm))
                        else:
                            names = [c.first_name for c in fam.children]
                            k.sign_in(fam, at(day, hhmm), names[: rng.randint(1, len(names))])
                        k.clock_synced = True
            day += timedelta(days=1)
        for k in kiosks:
            k.sync()
        set_rate(db, org, "3.00", date(2016, 4, 1))
