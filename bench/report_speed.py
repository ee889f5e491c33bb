"""How fast are the reports for a county month? (issue 6; target: under 2 s each)

Builds a county month in a fresh PostgreSQL schema: 100 organisations with 3 sites each,
2,000 families each (200,000 families, about 400,000 children) and 1,000,000 attendances in
April 2016 (about 2,000,000 child-attendances), about a third from qualifying families, loaded
with COPY. Then times, on a warm connection pool (best of --repeat runs, and the first):

- the invoice backing sheet of one organisation (its lines, CSV text and PDF);
- every organisation's invoice totals at once (the commissioner's overview);
- reach and engagement for one organisation, and across all 100 (the commissioner's view).

    eval "$(bash scripts/ci-postgres.sh)"
    .venv/bin/python bench/report_speed.py                 # uses $KIOSK_TEST_POSTGRES_URL
    .venv/bin/python bench/report_speed.py --db postgresql://u:p@host/db --orgs 10
    .venv/bin/python bench/report_speed.py --keep          # then --schema bench_... to re-time

It prints its figures and asserts nothing. The schema is dropped afterwards (--keep keeps it).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from central.db import CentralDB  # noqa: E402
from central.reports.invoice import build_invoice, invoice_totals  # noqa: E402
from central.reports.period import Period  # noqa: E402
from central.reports.rates import set_rate  # noqa: E402
from central.reports.reach import build_reach  # noqa: E402
from kiosk.domain.families import HEARD_FROM  # noqa: E402

MONTH = Period.month("2016-04")
SESSION_NAMES = ("Stay and Play", "Baby Group", "Dads and Kids", "Messy Play")


def generate(url: str, orgs: int, families_per_org: int, attendances_per_org: int) -> None:
    import psycopg

    rng = random.Random(6)
    now = datetime(2016, 5, 1, tzinfo=UTC)
    days = [MONTH.start + timedelta(days=n) for n in range((MONTH.end - MONTH.start).days + 1)]
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        with conn.cursor() as cur:
            with cur.copy("COPY orgs (org_id, created_at) FROM STDIN") as copy:
                for o in range(orgs):
                    copy.write_row((f"org-{o:03d}", now))
            with cur.copy("COPY sites (org_id, site_id, created_at) FROM STDIN") as copy:
                for o in range(orgs):
                    for s in range(3):
                        copy.write_row((f"org-{o:03d}", f"site-{s}", now))
            kids_of: dict[str, list[str]] = {}
            risky: set[str] = set()
            with cur.copy(
                "COPY families (family_id, org_id, greeting_name, postcode, criteria, heard_from,"
                " adults, registered_at, registered_site_id, updated_at, updated_event_id)"
                " FROM STDIN"
            ) as copy:
                for o in range(orgs):
                    for f in range(families_per_org):
                        fid = f"F-{o:03d}{f:06d}"
                        if rng.random() < 0.3:
                            risky.add(fid)
                        kids_of[fid] = [
                            f"C-{o:03d}{f:06d}{k}" for k in range(rng.choice((1, 1, 2, 2, 3)))
                        ]
                        registered = now - timedelta(days=rng.randint(0, 400))
                        copy.write_row(
                            (
                                fid,
                                f"org-{o:03d}",
                                f"Parent {f}",
                                "WS7 1AA",
                                "[]",
                                rng.choice(HEARD_FROM),
                                1,
                                registered,
                                "site-0",
                                registered,
                                str(uuid.uuid4()),
                            )
                        )
            with cur.copy(
                "COPY children (family_id, child_id, first_name, born) FROM STDIN"
            ) as copy:
                for fid, kids in kids_of.items():
                    for n, cid in enumerate(kids):
                        copy.write_row((fid, cid, f"Child{n}", "2014-05"))
            rows = 0
            with cur.copy(
                "COPY attendances (attendance_id, org_id, site_id, device_id, session_key,"
                " session_date, session_name, slot_id, family_id, adults, method, qualifies,"
                " reasons, risk_version, at, clock_synced, children_at) FROM STDIN"
            ) as copy:
                children_rows = []
                for o in range(orgs):
                    org = f"org-{o:03d}"
                    fams = [f"F-{o:03d}{f:06d}" for f in range(families_per_org)]
                    seen: set[tuple[str, date, int]] = set()
                    made = 0
                    while made < attendances_per_org:
                        fid = rng.choice(fams)
                        day = rng.choice(days)
                        slot = rng.randrange(len(SESSION_NAMES))
                        if (fid, day, slot) in seen:
                            continue
                        seen.add((fid, day, slot))
                        made += 1
                        aid = str(uuid.uuid4())
                        site = f"site-{slot % 3}"
                        q = fid in risky
                        at = datetime(day.year, day.month, day.day, 9, 40, tzinfo=UTC)
                        copy.write_row(
                            (
                                aid,
                                org,
                                site,
                                f"{org}-k{slot % 3}",
                                f"{day}/slot-{slot}",
                                day,
                                SESSION_NAMES[slot],
                                f"slot-{slot}",
                                fid,
                                1,
                                "card",
                                q,
                                '["postcode"]' if q else "[]",
                                "v1-0123456789",
                                at,
                                rng.random() > 0.005,
                                at,
                            )
                        )
                        for cid in kids_of[fid]:
                            # With the attendance's own columns, as ingest writes them.
                            children_rows.append((aid, cid, org, day, q))
                    rows += made
            with cur.copy(
                "COPY attendance_children (attendance_id, child_id, org_id, session_date,"
                " qualifies) FROM STDIN"
            ) as copy:
                for row in children_rows:
                    copy.write_row(row)
        conn.commit()
        conn.execute("ANALYZE")
    print(
        f"  {orgs} organisations, {len(kids_of):,} families, "
        f"{sum(len(k) for k in kids_of.values()):,} children, {rows:,} attendances, "
        f"{len(children_rows):,} child-attendances"
    )


def timed(label: str, repeat: int, call) -> None:
    times = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
    print(f"  {label:<58} first {times[0]:6.2f} s   best {min(times):6.2f} s   {result}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default=os.environ.get("KIOSK_TEST_POSTGRES_URL"))
    parser.add_argument("--orgs", type=int, default=100)
    parser.add_argument("--attendances", type=int, default=1_000_000, help="in all")
    parser.add_argument("--families", type=int, default=2_000, help="per organisation")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the schema afterwards")
    parser.add_argument("--schema", help="time the reports on a schema kept from an earlier run")
    args = parser.parse_args(argv)
    if not args.db or not args.db.startswith("postgres"):
        print(
            "give --db postgresql://... or set KIOSK_TEST_POSTGRES_URL "
            '(eval "$(bash scripts/ci-postgres.sh)")',
            file=sys.stderr,
        )
        return 2
    import psycopg

    schema = args.schema or "bench_" + uuid.uuid4().hex[:12]
    if not args.schema:
        with psycopg.connect(args.db, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in args.db else "?"
    url = f"{args.db}{sep}options=-csearch_path%3D{schema}"
    try:
        print(f"report_speed: a county month in schema {schema}")
        started = time.perf_counter()
        db = CentralDB.open(url)
        if not args.schema:
            generate(url, args.orgs, args.families, args.attendances // args.orgs)
            for o in range(args.orgs):
                set_rate(db, f"org-{o:03d}", "3.00", date(2016, 1, 1))
            print(f"  generated in {time.perf_counter() - started:.1f} s\n")
        org = f"org-{min(42, args.orgs - 1):03d}"

        def sheet() -> str:
            s = build_invoice(db, org, MONTH)
            return f"{s.count:,} lines, £{s.total:,}, {len(s.with_status('review'))} for review"

        def sheet_csv() -> str:
            return f"{len(build_invoice(db, org, MONTH).csv_text()):,} bytes"

        def sheet_pdf() -> str:
            from central.reports.pdf import invoice_pdf

            return f"{len(invoice_pdf(build_invoice(db, org, MONTH))):,} bytes"

        def totals() -> str:
            ts = invoice_totals(db, MONTH)
            return f"{len(ts)} organisations, {sum(t.count for t in ts):,} lines"

        def reach_org() -> str:
            r = build_reach(db, org, MONTH)
            return f"{r.total.families:,} families, {r.total.children:,} children"

        def reach_all() -> str:
            r = build_reach(db, None, MONTH, with_names=False)
            return f"{r.total.families:,} families, {r.total.children:,} children"

        print("timings (PostgreSQL):")
        timed("invoice, one organisation (lines and total)", args.repeat, sheet)
        timed("invoice, one organisation, CSV", args.repeat, sheet_csv)
        timed("invoice, one organisation, PDF", args.repeat, sheet_pdf)
        timed(f"invoice totals, all {args.orgs} organisations", args.repeat, totals)
        timed("reach, one organisation", args.repeat, reach_org)
        timed(f"reach, all {args.orgs} organisations (county)", args.repeat, reach_all)
        db.close()
    finally:
        if not (args.keep or args.schema):
            with psycopg.connect(args.db, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")
    return 0


if __name__ == "__main__":
    sys.exit(main())
