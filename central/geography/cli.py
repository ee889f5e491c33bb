"""``kiosk-central population`` and ``kiosk-central boundaries`` .

    kiosk-central population import sapelsoasyoa2022.xlsx [--sheet "Mid-2022 LSOA 2021"]
    kiosk-central population import under-fives.csv --dry-run      # lsoa,age,count
    kiosk-central population history
    kiosk-central boundaries import staffordshire-lsoa-2021.geojson

The postcode directory is kept by ``kiosk-central risk import-lsoa`` (``--postcodes``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from central.db import CentralDB

COMMANDS = ("population", "boundaries")


def add_commands(sub: Any) -> None:
    population = sub.add_parser(
        "population", help="ONS population estimates by LSOA and single year of age (versioned)"
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    p = population.add_parser(
        "import",
        help="a new version from the ONS CSV or XLSX (F0..F90, M0..M90) or lsoa,age,count",
    )
    p.add_argument("file", type=Path)
    p.add_argument("--sheet", help="the workbook's sheet (default: the first with LSOA codes)")
    p.add_argument("--dry-run", action="store_true", help="check the file, save nothing")
    population.add_parser("history", help="every version")

    bounds = sub.add_parser(
        "boundaries", help="LSOA boundaries (GeoJSON) for the reach map"
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    p = bounds.add_parser("import", help="replace the boundaries with a GeoJSON file's")
    p.add_argument("file", type=Path)


def _err(line: str) -> None:
    print(line, file=sys.stderr)


def run(args: argparse.Namespace, db: CentralDB) -> int:
    match args.command, args.action:
        case "population", "import":
            from central.geography.population import PopulationError, import_population

            try:
                done = import_population(db, args.file, sheet=args.sheet, dry_run=args.dry_run)
            except PopulationError as exc:
                for line in exc.lines():
                    _err(line)
                raise
            read = done.file
            sheet = f" (sheet {read.sheet!r})" if read.sheet else ""
            vintage = f"{read.vintage} LSOAs" if read.vintage else "LSOA vintage not stated"
            print(f"read: {read.source}{sheet}: {read.layout} layout, {vintage}")
            print(f"lsoas: {len(read.counts):,}")
            print(f"people: {read.people:,}")
            if done.same_as_current:
                print("note: the same file as the current version")
            if done.version is None:
                print("dry run: the population is unchanged")
            else:
                print(f"version: {done.version.number}")
        case "population", "history":
            from central.geography.population import population_history

            versions = population_history(db)
            if not versions:
                _err("no population estimates yet: kiosk-central population import FILE")
            for v in versions:
                print(v.history_line())
        case "boundaries", "import":
            from central.geography.boundaries import BoundaryError, import_boundaries

            try:
                done = import_boundaries(db, args.file)
            except BoundaryError as exc:
                for number, message in exc.problems:
                    _err(f"{args.file.name}: feature {number}: {message}")
                raise
            print(f"boundaries: {done.features:,} LSOAs from {done.source}")
    return 0
