"""The seed's summer term 2016, end to end: taps at a real kiosk store, ``kiosk-sync`` to a
``kiosk-central serve`` process, then the invoice backing sheets and the reach report.

78 qualifying children (26 families from risk postcodes, three children each) attend 364
child-sessions between April and July at £3.00 a session: the four monthly sheets add up to
exactly 364 qualifying child-attendances and £1,092.00, and the qualifying children are about a
third of all the children who came.
"""

from __future__ import annotations

import random
import subprocess
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

from central.reports.invoice import build_invoice
from central.reports.period import Period
from central.reports.rates import set_rate
from central.reports.reach import build_reach
from kiosk.domain.desk import KIOSK_TZ, DoorDesk
from kiosk.domain.events import DeviceIdentity
from kiosk.domain.postcodes import parse_risk_area
from kiosk.domain.timetable import Timetable, make_slot
from sync import daemon
from tests.sync.servers import REPO, CentralServer, command, enrol, subprocess_env

RISK_AREAS = ("WS7 1AA", "WS11 4", "WS12")
RISK_POSTCODES = ("WS7 1AA", "WS11 4BQ", "WS11 4ZZ", "WS12 2HN", "WS12 9AB")
OTHER_POSTCODES = ("WS13 6YY", "WS14 9AB", "WS7 3DE", "WS11 1AA", "B33 8TH")
TERM = (date(2016, 4, 18), date(2016, 7, 22))
SESSIONS = (
    ("mon", 0, "09:30", "11:30"),
    ("wed", 2, "13:00", "14:30"),
    ("sat", 5, "10:00", "12:00"),
)
MONTHS = ("2016-04", "2016-05", "2016-06", "2016-07")


def term_sessions() -> list[datetime]:
    out, day = [], TERM[0]
    while day <= TERM[1]:
        for _, weekday, start, _ in SESSIONS:
            if day.weekday() == weekday:
                out.append(datetime.combine(day, time.fromisoformat(start), KIOSK_TZ))
        day += timedelta(days=1)
    return out


@pytest.mark.slow
def test_summer_term_sheets_add_up_to_364_qualifying_child_sessions_and_1092_pounds(
    db_url, db, tmp_path
):
    from kiosk.store import LocalStore

    rng = random.Random(2016)
    kiosk = enrol(
        db, "lichfield", "hub-1", "kiosk-1", in_use_since=datetime(2016, 1, 1, tzinfo=UTC)
    )
    store = LocalStore(tmp_path / "kiosk")
    desk = DoorDesk(store, DeviceIdentity(kiosk.device, kiosk.site))
    timetable = Timetable()
    for day, _, start, end in SESSIONS:
        timetable = timetable.add(make_slot(f"s-{day}", f"Session {day}", start, end, weekday=day))
    store.save_timetable(timetable)
    opens = datetime.combine(TERM[0], time(8), KIOSK_TZ)
    store.save_risk_list(frozenset(parse_risk_area(a) for a in RISK_AREAS), "council", opens)

    sessions = term_sessions()
    plan: dict[datetime, list[tuple[str, list[str] | None]]] = {s: [] for s in sessions}
    qualifying_child_sessions = 0
    for i in range(78):  # 26 risk-postcode families, 52 others; three children each
        at_risk = i < 26
        postcode = rng.choice(RISK_POSTCODES if at_risk else OTHER_POSTCODES)
        kids = [(f"Child{i}-{k}", "2014-05") for k in range(3)]
        fam = desk.register_family(f"Parent{i}", postcode, kids, opens, card_uid=f"04{i:06X}")
        visits = sorted(rng.sample(sessions, 5 if at_risk else 4))
        for n, when in enumerate(visits):
            # One visit with two of the three children (signed in by a volunteer).
            children = [c.first_name for c in fam.children[:2]] if n == 2 else None
            plan[when].append((f"04{i:06X}" if children is None else fam.family_id, children))
            if at_risk:
                qualifying_child_sessions += 3 if children is None else 2
    assert qualifying_child_sessions == 364

    for when in sessions:
        for n, (who, children) in enumerate(plan[when]):
            at = when + timedelta(minutes=2 + n)
            if children is None:
                assert desk.tap(who, at).kind == "welcome"
                if rng.random() < 0.1:  # held on the reader: still one attendance
                    assert desk.tap(who, at + timedelta(seconds=2)).kind == "already_in"
            else:
                assert desk.sign_in(who, children, "Jo", at).kind == "welcome"
        assert desk.tap("0BADCAFE", when).kind == "unknown_card"
    store.close()

    token = tmp_path / "token"
    token.write_text(kiosk.token + "\n")
    token.chmod(0o600)
    with CentralServer(db_url, tmp_path / "server.log") as server:
        synced = subprocess.run(
            [
                *command("kiosk-sync", "sync.daemon"),
                "--data",
                str(tmp_path / "kiosk"),
                "--endpoint",
                server.url,
                "--token-file",
                str(token),
                "--once",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            env=subprocess_env(),
            cwd=REPO,
        )
        assert synced.returncode == daemon.EXIT_OK, synced.stderr
        set_rate(db, "lichfield", "£3.00", date(2016, 4, 1))
        invoice_csv = subprocess.run(
            [
                *command("kiosk-central", "central.cli"),
                "--db",
                db_url,
                "report",
                "invoice",
                "--org",
                "lichfield",
                "--month",
                "2016-05",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env=subprocess_env(),
            cwd=REPO,
        )

    sheets = [build_invoice(db, "lichfield", Period.month(m)) for m in MONTHS]
    assert all(s.count > 0 for s in sheets)
    assert sum(s.count for s in sheets) == 364
    assert sum((s.total for s in sheets), Decimal(0)) == Decimal("1092.00")
    assert not any(s.with_status("review", "duplicate") for s in sheets)
    assert {ln.risk_version for s in sheets for ln in s.lines} == {"v1-" + _digest()}
    assert invoice_csv.returncode == 0, invoice_csv.stderr
    may = invoice_csv.stdout.strip().splitlines()
    assert len(may) == 1 + sheets[1].count + 1
    assert may[-1].split(",")[-2] == f"{sheets[1].total}"

    reach = build_reach(db, "lichfield", Period(*TERM))
    assert reach.total.qualifying_children == 78 and reach.total.children == 234
    assert 0.28 <= reach.total.share <= 0.38  # about a third of the children who came


def _digest() -> str:
    from kiosk.domain.risk import digest_areas

    return digest_areas(parse_risk_area(a) for a in RISK_AREAS)[:10]
