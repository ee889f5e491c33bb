"""LSOA import: build the risk list from a full-size postcode directory, in bounded memory.

Writes a synthetic ONS Postcode Directory in the February 2023 layout (53 columns, every field
quoted, CRLF; 2.7 million rows like the real UK file: about 82% English, a third terminated)
and an English IMD 2019 File 1 (32,844 LSOAs, ranks shuffled), then times, each in a fresh
process so that its peak memory (maxrss) is its own:

* ``directory 30%``: the directory alone (its ``imd`` column), the most deprived 30% of England;
* ``directory+imd 30%``: the same through the IMD file;
* ``directory+imd 30%, one district``: one local authority (a few thousand postcodes out);
* ``store``: saving the national list as a risk-list version (``LocalStore.save_risk_list``),
  opening the store again, the first decision (hashes the list once) and the next ones;
* ``reload``: loading that version three times over (each kept in memory), with the garbage
  collector paused while the areas are built (``kiosk.domain.risk.gc_paused``) and without.

Prints rows, MB, seconds, rows/s, MB/s and peak RSS for each, beside an idle interpreter's RSS.

    .venv/bin/python bench/lsoa_import.py [--rows 2700000] [--dir PATH] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HEADER = (
    "pcd,pcd2,pcds,dointr,doterm,oscty,ced,oslaua,osward,parish,usertype,oseast1m,osnrth1m,"
    "osgrdind,oshlthau,nhser,ctry,rgn,streg,pcon,eer,teclec,ttwa,pct,itl,statsward,oa01,"
    "casward,park,lsoa01,msoa01,ur01ind,oac01,oa11,lsoa11,msoa11,wz11,sicbl,bua11,buasd11,"
    "ru11ind,oac11,lat,long,lep1,lep2,pfa,imd,calncv,icb,oa21,lsoa21,msoa21"
)
ENGLAND_LSOAS = 32_844
DISTRICTS = 309
ENGLISH_SHARE = 0.82
TERMINATED_SHARE = 0.33
ONE_DISTRICT = "E07000100"  # about 1/309 of England
#: Valid postcode area letters (first letter never Q, V, X; second never I, J, Z).
AREAS = [
    a + b
    for a in "ABCDEFGHKLMNOPRSTWY"
    for b in "ABCDEFGHKLMNOPRSTUWY"
    if a + b not in ("OO", "OA")
]
INWARD = "ABDEFGHJLNPQRSTUWXYZ"


#: Filler for the columns the import does not read (it is their width and quoting that cost).
FILLER = {
    "dointr": "198001",
    "ced": "E58001234",
    "osward": "E05009876",
    "parish": "E04008765",
    "usertype": "0",
    "oseast1m": "398000",
    "osnrth1m": "0308000",
    "osgrdind": "1",
    "oshlthau": "E18000005",
    "nhser": "E40000010",
    "streg": "0",
    "pcon": "E14000940",
    "eer": "E15000005",
    "teclec": "0",
    "ttwa": "E30000237",
    "pct": "E16000133",
    "itl": "E06000061",
    "statsward": "00CUFA",
    "oa01": "E00123456",
    "casward": "00CUFA",
    "park": "E99999999",
    "lsoa01": "E01999999",
    "msoa01": "E02999999",
    "ur01ind": "Z",
    "oac01": "1C1",
    "oa11": "E00123456",
    "msoa11": "E02006123",
    "wz11": "E33012345",
    "sicbl": "E38000001",
    "bua11": "E34001234",
    "buasd11": "E35001234",
    "ru11ind": "C1",
    "oac11": "2B2",
    "lat": "52.652307",
    "long": "-2.028349",
    "lep1": "E37000024",
    "lep2": "",
    "pfa": "E23000015",
    "calncv": "E56000012",
    "icb": "E54000010",
    "oa21": "E00171234",
    "msoa21": "E02006123",
}
#: The columns each row fills, in the order of the ``%s`` slots of the row template.
VARIABLE = ("pcd", "pcd2", "pcds", "doterm", "oscty", "oslaua", "ctry", "rgn", "lsoa11", "imd")
VARIABLE += ("lsoa21",)


def row_template() -> str:
    """One row with ``%s`` where the values change and the filler elsewhere, all quoted."""
    cells = []
    for column in HEADER.split(","):
        value = "%s" if column in VARIABLE else FILLER[column]
        cells.append(f'"{value}"')
    return ",".join(cells) + "\r\n"


def write_directory(path: Path, rows: int, seed: int = 2023) -> dict[str, float]:
    """The synthetic directory, written with plain string operations (no csv module)."""
    rnd = random.Random(seed)
    ranks = list(range(1, ENGLAND_LSOAS + 1))
    rnd.shuffle(ranks)
    english_rows = int(rows * ENGLISH_SHARE)
    template = row_template()
    order = [c for c in HEADER.split(",") if c in VARIABLE]
    assert tuple(order) == VARIABLE, order
    started = time.perf_counter()
    english = terminated = 0
    n_areas = len(AREAS)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(f'"{h}"' for h in HEADER.split(",")) + "\r\n")
        chunk: list[str] = []
        for i in range(rows):
            # A unique postcode from i: area, district 1-99, sector 0-9, two inward letters.
            letters, rest = i % 400, i // 400
            sector, rest = rest % 10, rest // 10
            district, area = rest % 99 + 1, AREAS[(rest // 99) % n_areas]
            outward = f"{area}{district}"
            inward = f"{sector}{INWARD[letters // 20]}{INWARD[letters % 20]}"
            if i < english_rows:
                english += 1
                lsoa_n = i * ENGLAND_LSOAS // english_rows + 1  # every LSOA gets postcodes
                lsoa = f"E01{lsoa_n:06d}"
                rank = ranks[lsoa_n - 1]
                lad = f"E07{(lsoa_n * DISTRICTS // ENGLAND_LSOAS):06d}"
                ctry, rgn, county = "E92000001", "E12000005", "E10000028"
            else:
                lsoa = f"W01{(i % 1909) + 1:06d}"
                rank = (i % 1909) + 1
                lad, ctry, rgn, county = "W06000015", "W92000004", "W99999999", "W99999999"
            doterm = "202101" if rnd.random() < TERMINATED_SHARE else ""
            terminated += bool(doterm)
            chunk.append(
                template
                % (
                    f"{outward:<4}{inward}",
                    f"{outward:<5}{inward}",
                    f"{outward} {inward}",
                    doterm,
                    county,
                    lad,
                    ctry,
                    rgn,
                    lsoa,
                    rank,
                    lsoa,
                )
            )
            if len(chunk) >= 20_000:
                f.write("".join(chunk))
                chunk.clear()
        f.write("".join(chunk))
    return {
        "rows": rows,
        "english": english,
        "terminated": terminated,
        "seconds": time.perf_counter() - started,
    }


def write_imd(path: Path, seed: int = 2023) -> None:
    """IoD2019 File 1: every English LSOA, the same shuffled ranks as the directory."""
    rnd = random.Random(seed)
    ranks = list(range(1, ENGLAND_LSOAS + 1))
    rnd.shuffle(ranks)
    lines = [
        '"LSOA code (2011)","LSOA name (2011)","Local Authority District code (2019)",'
        '"Local Authority District name (2019)","Index of Multiple Deprivation (IMD) Rank",'
        '"Index of Multiple Deprivation (IMD) Decile"'
    ]
    for n, rank in enumerate(ranks, start=1):
        lad_n = n * DISTRICTS // ENGLAND_LSOAS
        decile = -(-10 * rank // ENGLAND_LSOAS)
        lines.append(
            f'"E01{n:06d}","District {lad_n} {n % 1000:03d}A","E07{lad_n:06d}",'
            f'"District {lad_n}","{rank}","{decile}"'
        )
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8-sig"))


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


# == children: one measurement each, in a fresh process ==========================================


def child_idle(_: argparse.Namespace) -> dict[str, float]:
    import kiosk.lsoa_import  # noqa: F401
    import kiosk.store  # noqa: F401

    return {"peak_rss_mb": _maxrss_mb()}


def child_import(args: argparse.Namespace) -> dict[str, float]:
    from kiosk.lsoa_import import build_lsoa_risk_areas

    directory = Path(args.dir)
    started = time.perf_counter()
    result = build_lsoa_risk_areas(
        directory / "ONSPD_FEB_2023_UK.csv",
        directory / "File_1_IoD2019.csv" if args.with_imd else None,
        most_deprived="30%",
        local_authorities=[ONE_DISTRICT] if args.one_district else (),
    )
    seconds = time.perf_counter() - started
    out = {
        "seconds": seconds,
        "peak_rss_mb": _maxrss_mb(),
        "postcodes": len(result.postcodes.postcodes),
        "terminated": result.postcodes.terminated,
        "lsoas": result.postcodes.lsoas,
        "rule": result.rule,
    }
    if args.save_list:
        Path(args.save_list).write_text("\n".join(sorted(result.postcodes.postcodes)))
    return out


def child_store(args: argparse.Namespace) -> dict[str, float]:
    from kiosk.domain.families import Family
    from kiosk.domain.postcodes import RiskArea
    from kiosk.store import LocalStore

    postcodes = Path(args.save_list).read_text().split("\n")
    areas = frozenset(RiskArea("postcode", p) for p in postcodes)
    data = Path(args.dir) / "kiosk"
    shutil.rmtree(data, ignore_errors=True)
    store = LocalStore(data)
    t0 = time.perf_counter()
    saved = store.save_risk_list(areas, "bench", datetime.now(UTC), rule="bench")
    save_s = time.perf_counter() - t0
    store.close()
    del store, saved, areas
    t0 = time.perf_counter()
    store = LocalStore(data)
    open_s = time.perf_counter() - t0
    family = Family("F-1", "Sam", postcodes[len(postcodes) // 2], consent_date=date.today())
    t0 = time.perf_counter()
    first = store.risk_list().decide(family)
    first_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(1000):
        store.risk_list().decide(family)
    next_ms = (time.perf_counter() - t0) * 1000 / 1000
    assert first.qualifies
    return {
        "entries": len(postcodes),
        "file_mb": os.path.getsize(data / "risk" / "v1.json") / 1e6,
        "save_s": save_s,
        "open_s": open_s,
        "first_decision_s": first_s,
        "next_decision_ms": next_ms,
        "peak_rss_mb": _maxrss_mb(),
    }


def child_reload(args: argparse.Namespace) -> dict[str, float]:
    """Load the saved version three times over (each kept), with the collector paused or not.

    Each load builds one tracked ``RiskArea`` per postcode; with the collector running, its full
    passes rescan every area already held, so each further load is slower than the last.
    """
    import contextlib

    from kiosk.domain import risk

    if args.no_gc_pause:
        risk.gc_paused = contextlib.nullcontext
    data = json.loads((Path(args.dir) / "kiosk" / "risk" / "v1.json").read_text())
    held, seconds = [], {}
    for n in range(1, 4):
        t0 = time.perf_counter()
        held.append(risk.RiskList.from_dict(data))
        seconds[f"load_{n}_s"] = time.perf_counter() - t0
    return seconds


CHILDREN = {
    "idle": child_idle,
    "import": child_import,
    "store": child_store,
    "reload": child_reload,
}


def run_child(name: str, directory: Path, *extra: str) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", name, "--dir", str(directory), *extra]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2_700_000)
    parser.add_argument("--dir", help="where to write the files (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the files afterwards")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--with-imd", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--one-district", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--save-list", help=argparse.SUPPRESS)
    parser.add_argument("--no-gc-pause", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(CHILDREN[args.child](args)))
        return 0

    directory = Path(args.dir or tempfile.mkdtemp(prefix="lsoa-bench-"))
    directory.mkdir(parents=True, exist_ok=True)
    try:
        onspd = directory / "ONSPD_FEB_2023_UK.csv"
        made = write_directory(onspd, args.rows)
        write_imd(directory / "File_1_IoD2019.csv")
        size_mb = onspd.stat().st_size / 1e6
        print(
            f"directory: {made['rows']:,} rows, {size_mb:,.0f} MB ({made['english']:,} English, "
            f"{made['terminated']:,} terminated), written in {made['seconds']:.1f} s"
        )
        idle = run_child("idle", directory)
        print(f"idle interpreter with the modules imported: peak RSS {idle['peak_rss_mb']:.0f} MB")
        print()
        print(f"{'import':<34} {'seconds':>8} {'rows/s':>10} {'MB/s':>6} {'peak RSS':>9}  result")
        listing = directory / "national.txt"
        for label, extra in (
            ("directory 30%", ("--save-list", str(listing))),
            ("directory+imd 30%", ("--with-imd",)),
            ("directory+imd 30%, one district", ("--with-imd", "--one-district")),
        ):
            got = run_child("import", directory, *extra)
            print(
                f"{label:<34} {got['seconds']:>8.1f} {args.rows / got['seconds']:>10,.0f} "
                f"{size_mb / got['seconds']:>6.1f} {got['peak_rss_mb']:>6.0f} MB  "
                f"{got['postcodes']:,} postcodes in {got['lsoas']:,} LSOAs "
                f"({got['terminated']:,} terminated left out)"
            )
        print()
        got = run_child("store", directory, "--save-list", str(listing))
        print(
            f"store, {got['entries']:,} postcodes: version file {got['file_mb']:.1f} MB; "
            f"save {got['save_s']:.1f} s; open {got['open_s']:.1f} s; first decision "
            f"{got['first_decision_s'] * 1000:.0f} ms; next decisions "
            f"{got['next_decision_ms']:.3f} ms each; peak RSS {got['peak_rss_mb']:.0f} MB"
        )
        for label, extra in (("paused", ()), ("running", ("--no-gc-pause",))):
            got = run_child("reload", directory, *extra)
            loads = ", ".join(f"{got[f'load_{n}_s']:.2f}" for n in range(1, 4))
            print(f"three loads of that version, garbage collector {label}: {loads} s")
    finally:
        if not args.keep and not args.dir:
            shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
