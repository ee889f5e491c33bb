"""Property: whatever a device token sends, the invoice grows only by what registered families'
registered children attended.

Hypothesis builds batches mixing honest events (registrations, attendances of some of a
family's children) with forgeries: attendances of families never registered, children of
another family or made up, too many children, implausible dates, an event id sent again with
other content. The server's counted lines must be exactly the honest ones.
"""

from __future__ import annotations

import copy
import tempfile
import uuid
from datetime import date, timedelta
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from central.db import CentralDB, Device, attendance_children, attendances
from central.reports.invoice import build_invoice
from central.reports.period import Period
from central.reports.rates import set_rate
from kiosk.domain.events import DeviceIdentity
from tests.sync.fakes import T0, attendance, registration, session_on

KIOSK = DeviceIdentity("kiosk-1", "library")

honest = st.tuples(st.just("attend"), st.integers(0, 5), st.integers(1, 3), st.integers(0, 6))
actions = st.lists(
    st.one_of(
        st.tuples(st.just("register"), st.integers(0, 5)),
        honest,
        st.tuples(st.just("stranger"), st.integers(1, 40)),
        st.tuples(st.just("borrow"), st.integers(0, 5), st.integers(0, 5)),
        st.tuples(st.just("invent"), st.integers(0, 5), st.integers(1, 3000)),
        st.tuples(
            st.just("date"),
            st.integers(0, 5),
            st.sampled_from(["0001-01-01", "1970-01-01", "9998-12-31", "2031-01-01"]),
        ),
        st.tuples(st.just("change"), st.integers(0, 50)),
    ),
    min_size=1,
    max_size=30,
)
batching = st.integers(1, 8)


def _date_key(raw: dict, day: str) -> None:
    raw["data"]["session"]["date"] = day
    raw["data"]["session"]["key"] = f"{day}/{raw['data']['session']['slot_id']}"


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(actions, batching)
# The same child signed in twice at one session: one invoice line, not two.
@example([("register", 0), ("attend", 0, 1, 0), ("attend", 0, 1, 0)], 1)
def test_the_invoice_grows_only_by_registered_childrens_attendances(plan, size):
    with tempfile.TemporaryDirectory() as folder:
        db = CentralDB.open(f"sqlite:///{Path(folder) / 'central.sqlite3'}")
        try:
            db.add_org("lichfield")
            db.add_site("lichfield", "library")
            db.device_for_token(db.add_device("lichfield", "library", "kiosk-1"))
            set_rate(db, "lichfield", "3.00", date(2026, 1, 1))
            device = Device("kiosk-1", "lichfield", "library")
            families = [registration(KIOSK, name=f"Parent {n}") for n in range(6)]
            registered: dict[int, int] = {}  # family -> position of its registration
            sent: list[dict] = []
            # (position, family, [(event id, session day, child)]) of every honest attendance
            claims: list[tuple[int, int, list[tuple[str, date, str]]]] = []
            for step in plan:
                kind = step[0]
                if kind == "register":
                    family, events = families[step[1]]
                    raw = events[0].to_dict()
                    if step[1] in registered:
                        continue
                    registered[step[1]] = len(sent)
                elif kind == "attend":
                    family, _ = families[step[1]]
                    kids = [c.child_id for c in family.children][: step[2]]
                    day = T0.date() + timedelta(days=step[3])
                    raw = attendance(KIOSK, family, session=session_on(day)).to_dict()
                    raw["data"]["children"] = kids
                    claims.append(
                        (len(sent), step[1], [(raw["event_id"], day, kid) for kid in kids])
                    )
                elif kind == "stranger":
                    family, _ = registration(KIOSK, name="Nobody")
                    raw = attendance(KIOSK, family).to_dict()
                    raw["data"]["children"] = [f"C-{uuid.uuid4().hex[:10]}" for _ in range(step[1])]
                elif kind == "borrow":
                    family, _ = families[step[1]]
                    other, _ = families[step[2]]
                    raw = attendance(KIOSK, family).to_dict()
                    raw["data"]["children"] = [other.children[0].child_id]
                    if step[1] == step[2]:
                        kid = other.children[0].child_id
                        claims.append((len(sent), step[1], [(raw["event_id"], T0.date(), kid)]))
                elif kind == "invent":
                    family, _ = families[step[1]]
                    raw = attendance(KIOSK, family).to_dict()
                    raw["data"]["children"] = [f"C-{n:010d}" for n in range(step[2])]
                elif kind == "date":
                    family, _ = families[step[1]]
                    raw = attendance(KIOSK, family).to_dict()
                    _date_key(raw, step[2])
                else:  # the same event id again, with other content
                    if not sent:
                        continue
                    raw = copy.deepcopy(sent[step[1] % len(sent)])
                    raw["clock_synced"] = not raw.get("clock_synced", True)
                    raw["seq"] = len(sent) + 1
                    sent.append(raw)
                    continue
                raw["seq"] = len(sent) + 1
                sent.append(raw)
            for start in range(0, len(sent), size):
                db.ingest(device, sent[start : start + size])

            # Honest: the family's registration came before, or in the same batch. A child
            # counts once a session however many attendances name them there (the incentive is
            # per child-session), on one of the honest attendances that did.
            expected: dict[tuple[date, str], set[str]] = {}
            for position, family, lines in claims:
                if family in registered and (
                    registered[family] < position or registered[family] // size == position // size
                ):
                    for event_id, day, kid in lines:
                        expected.setdefault((day, kid), set()).add(event_id)
            sheet = build_invoice(db, "lichfield", Period.month("2026-11"))
            counted = {(line.session_date, line.child_id): line for line in sheet.counted}
            assert set(counted) == set(expected)
            assert len(sheet.counted) == len(expected)  # one line a child a session
            assert all(line.attendance_id in expected[key] for key, line in counted.items())
            # Nothing held, counted or not, names a child who is not the family's.
            own = {c.child_id: f.family_id for f, _ in families for c in f.children}
            with db.engine.connect() as conn:
                rows = conn.execute(
                    select(attendance_children.c.child_id, attendances.c.family_id).join(
                        attendances,
                        attendances.c.attendance_id == attendance_children.c.attendance_id,
                    )
                ).all()
            assert all(own.get(r.child_id) == r.family_id for r in rows)
        finally:
            db.close()
