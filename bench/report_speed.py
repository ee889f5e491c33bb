"""How fast are the reports for a county month? (target: under 2 s each)

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

``--year`` times reach by area and the trend instead, on a county year: 12 months (April 2016
to March 2017), 100 organisations, 100,000 attendances a month (1,200,000 in all), families
spread over 500 LSOAs of a postcode directory (20,000 postcodes) with IMD deciles and ONS
population estimates, children born 2010 to 2017. It times reach by LSOA and by district for the
county and one organisation, and the trend over the twelve months (target: under 2 s each).

    .venv/bin/python bench/report_speed.py --year
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
from central.reports.invoice import build_invoice  # noqa: E402
from central.reports.invoice_totals import invoice_totals  # noqa: E402
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


YEAR = Period.between_months("2016-04", "2017-03")
YEAR_LSOAS = 500
POSTCODES_PER_LSOA = 40


def _postcode(n: int) -> str:
    """A valid, distinct postcode for number ``n`` (WS1 0AA, WS1 0AB, ...)."""
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    district, rest = divmod(n, 10 * len(letters) ** 2)
    sector, unit = divmod(rest, len(letters) ** 2)
    return f"WS{district + 1} {sector}{letters[unit // len(letters)]}{letters[unit % len(letters)]}"


def generate_year(url: str, orgs: int, families_per_org: int, per_month: int) -> None:
    """A county year, with the geography reach by area needs (see the module's docstring)."""
    import json

    import psycopg

    rng = random.Random(18)
    now = datetime(2017, 4, 1, tzinfo=UTC)
    months = YEAR.months()
    days_of = {}
    for ym in months:
        p = Period.month(ym)
        days_of[ym] = [p.start + timedelta(days=n) for n in range((p.end - p.start).days + 1)]
    lsoas = [f"E0103{n:04d}" for n in range(YEAR_LSOAS)]
    postcodes = [
        (_postcode(i * POSTCODES_PER_LSOA + j), code)
        for i, code in enumerate(lsoas)
        for j in range(POSTCODES_PER_LSOA)
    ]
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        with conn.cursor() as cur:
            with cur.copy(
                "COPY postcode_areas (postcode, lsoa, ward, district, live) FROM STDIN"
            ) as copy:
                for pc, code in postcodes:
                    n = int(code[-4:])
                    copy.write_row((pc, code, f"E0501{n // 10:04d}", f"E0700{n // 50:04d}", True))
            with cur.copy(
                "COPY lsoa_areas (lsoa, imd_rank, imd_decile, ward, district, district_name)"
                " FROM STDIN"
            ) as copy:
                for n, code in enumerate(lsoas):
                    rank = rng.randint(1, 33_755)
                    decile = -(-10 * rank // 33_755)
                    copy.write_row(
                        (code, rank, decile, f"E0501{n // 10:04d}", f"E0700{n // 50:04d}", "")
                    )
            cur.execute(
                "INSERT INTO area_imports (kind, source, sha256, vintage, rows, imported_at)"
                " VALUES ('directory', 'bench', %s, 2021, %s, %s)",
                ("0" * 64, len(postcodes), now),
            )
            cur.execute(
                "INSERT INTO population_versions (number, source, sha256, layout, vintage, lsoas,"
                " people, created_at) VALUES (1, 'bench', %s, 'plain', 2021, %s, 0, %s)",
                ("0" * 64, len(lsoas), now),
            )
            with cur.copy("COPY population_estimates (version, lsoa, counts) FROM STDIN") as copy:
                for code in lsoas:
                    ages = [rng.randint(150, 250) for _ in range(91)]
                    copy.write_row((1, code, json.dumps(ages)))
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
                "COPY families (family_id, org_id, greeting_name, postcode, criteria,"
                " heard_from, adults, registered_at, registered_site_id, updated_at,"
                " updated_event_id) FROM STDIN"
            ) as copy:
                kid_rows = []
                for o in range(orgs):
                    for f in range(families_per_org):
                        fid = f"F-{o:03d}{f:06d}"
                        if rng.random() < 0.3:
                            risky.add(fid)
                        kids_of[fid] = [
                            f"C-{o:03d}{f:06d}{k}" for k in range(rng.choice((1, 1, 2, 2, 3)))
                        ]
                        for cid in kids_of[fid]:
                            born = f"{rng.randint(2010, 2016)}-{rng.randint(1, 12):02d}"
                            kid_rows.append((fid, cid, "Child", born))
                        # 2% of families live outside the directory (counted apart)
                        pc = "B1 1AA" if rng.random() < 0.02 else rng.choice(postcodes)[0]
                        registered = datetime(2016, 1, 1, tzinfo=UTC)
                        copy.write_row(
                            (fid, f"org-{o:03d}", f"Parent {f}", pc, "[]",
                             rng.choice(HEARD_FROM), 1, registered, "site-0", registered,
                             str(uuid.uuid4()))
                        )  # fmt: skip
            with cur.copy(
                "COPY children (family_id, child_id, first_name, born) FROM STDIN"
            ) as copy:
                for row in kid_rows:
                    copy.write_row(row)
            rows = 0
            children_rows = []
            with cur.copy(
                "COPY attendances (attendance_id, org_id, site_id, device_id, session_key,"
                " session_date, session_name, slot_id, family_id, adults, method, qualifies,"
                " reasons, risk_version, at, clock_synced, children_at) FROM STDIN"
            ) as copy:
                for o in range(orgs):
                    org = f"org-{o:03d}"
                    fams = [f"F-{o:03d}{f:06d}" for f in range(families_per_org)]
                    for ym in months:
                        seen: set[tuple[str, date, int]] = set()
                        while len(seen) < per_month // orgs:
                            fid = rng.choice(fams)
                            day = rng.choice(days_of[ym])
                            slot = rng.randrange(len(SESSION_NAMES))
                            if (fid, day, slot) in seen:
                                continue
                            seen.add((fid, day, slot))
                            aid = str(uuid.uuid4())
                            q = fid in risky
                            at = datetime(day.year, day.month, day.day, 9, 40, tzinfo=UTC)
                            copy.write_row(
                                (aid, org, f"site-{slot % 3}", f"{org}-k{slot % 3}",
                                 f"{day}/slot-{slot}", day, SESSION_NAMES[slot], f"slot-{slot}",
                                 fid, 1, "card", q, '["postcode"]' if q else "[]",
                                 "v1-0123456789", at, True, at)
                            )  # fmt: skip
                            for cid in kids_of[fid]:
                                children_rows.append((aid, cid, org, day, q))
                        rows += len(seen)
            with cur.copy(
                "COPY attendance_children (attendance_id, child_id, org_id, session_date,"
                " qualifies) FROM STDIN"
            ) as copy:
                for row in children_rows:
                    copy.write_row(row)
        conn.commit()
        conn.execute("ANALYZE")
    print(
        f"  {orgs} organisations, {len(kids_of):,} families, {len(kid_rows):,} children, "
        f"{rows:,} attendances over {len(months)} months, {len(children_rows):,} "
        f"child-attendances; {len(lsoas)} LSOAs, {len(postcodes):,} postcodes"
    )


def time_year(db: CentralDB, orgs: int, repeat: int) -> None:
    from central.reports.area_reach import AgeBand, build_area_reach
    from central.reports.trend import build_trend

    org = f"org-{min(42, orgs - 1):03d}"

    def area(org_id: str | None, by: str):
        def run() -> str:
            r = build_area_reach(db, org_id, YEAR, AgeBand(0, 4), by)
            return (
                f"{len(r.rows)} areas, {r.total.reached:,} of {r.total.population:,} "
                f"({r.total.reach_text}); deprived {r.deprived.reach_text}"
            )

        return run

    def trend(org_id: str | None):
        def run() -> str:
            t = build_trend(db, org_id, YEAR)
            last = t.months[-1]
            return f"{len(t.months)} months; {last.label}: {last.children:,} children"

        return run

    print("timings (PostgreSQL), a county year:")
    timed("reach by LSOA, ages 0-4, county", repeat, area(None, "lsoa"))
    timed("reach by district, ages 0-4, county", repeat, area(None, "district"))
    timed("reach by LSOA, ages 0-4, one organisation", repeat, area(org, "lsoa"))
    timed("trend, 12 months, county", repeat, trend(None))
    timed("trend, 12 months, one organisation", repeat, trend(org))


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
    parser.add_argument(
        "--year",
        action="store_true",
        help="a county year (100,000 attendances a month) with its geography; "
        "times reach by area and the trend",
    )
    parser.add_argument("--per-month", type=int, default=100_000, help="with --year")
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
        what = "a county year" if args.year else "a county month"
        print(f"report_speed: {what} in schema {schema}")
        started = time.perf_counter()
        db = CentralDB.open(url)
        if args.year:
            if not args.schema:
                generate_year(url, args.orgs, args.families, args.per_month)
                print(f"  generated in {time.perf_counter() - started:.1f} s\n")
            time_year(db, args.orgs, args.repeat)
            db.close()
            return 0
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
