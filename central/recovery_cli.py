"""``kiosk-central`` commands for setting kiosks up and recovering the server.

    kiosk-central session add lichfield library --name "Stay and Play" --weekday mon \\
        --start 09:30 --end 11:30
    kiosk-central session list lichfield library
    kiosk-central session remove lichfield library stay-and-play-mon
    kiosk-central risk import lichfield council-list.csv [--dry-run] [--skip-invalid]
        [--allow-empty] [--allow-shrink]        # refused if empty or more than half gone
    kiosk-central risk import-lsoa lichfield --postcodes ONSPD.csv --imd IMD.csv \\
        --most-deprived 30% --county E10000028      # as kiosk-admin risk import-lsoa
    kiosk-central risk history lichfield
    kiosk-central backup /var/backups/doorstep-central/central-20261123.sqlite3
    kiosk-central restore /var/backups/doorstep-central/central-20261123.sqlite3
    kiosk-central mark-restored           # after restoring PostgreSQL with its own tools
    kiosk-central gaps [DEVICE]            # seqs kiosks wrote off, with their sessions

Kiosks pull the timetable and risk list (``GET /api/v1/setup``) on their next sync, and at
``kiosk-admin enrol``. ``backup`` and ``restore`` work on the SQLite default; for PostgreSQL
see ``docs/recovery.md``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from central.backup import KEEP_PREVIOUS
from central.db import CentralDB, CentralError
from kiosk.domain.risk import add_guard_arguments
from kiosk.domain.timetable import add_session_arguments

#: Commands that must not open (and so create or migrate) the live database first.
NO_DB_COMMANDS = ("restore",)


def add_commands(sub: Any) -> None:
    session = sub.add_parser("session", help="a site's timetable, pulled by its kiosks")
    actions = session.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = actions.add_parser("add", help="add a weekly or one-off session")
    p.add_argument("org")
    p.add_argument("site")
    add_session_arguments(p)
    p = actions.add_parser("list", help="a site's sessions")
    p.add_argument("org")
    p.add_argument("site")
    p = actions.add_parser("remove", help="remove a session by id")
    p.add_argument("org")
    p.add_argument("site")
    p.add_argument("slot_id")

    risk = sub.add_parser("risk", help="an organisation's risk postcode list (versioned)")
    actions = risk.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = actions.add_parser("import", help="a new version from a text or CSV file")
    p.add_argument("org")
    p.add_argument("file")
    p.add_argument("--dry-run", action="store_true", help="report the changes, save nothing")
    p.add_argument("--skip-invalid", action="store_true", help="import the valid lines only")
    add_guard_arguments(p)
    p = actions.add_parser(
        "import-lsoa",
        help="a new version: the postcodes of England's most deprived LSOAs (ONSPD + IMD), as "
        "kiosk-admin risk import-lsoa builds it",
    )
    p.add_argument("org")
    from kiosk.lsoa_import import add_lsoa_arguments

    add_lsoa_arguments(p)
    actions.add_parser("history", help="every version").add_argument("org")

    p = sub.add_parser(
        "backup",
        help="an online-consistent copy of the SQLite database into FILE; without FILE, a "
        "dated backup (SQLite, or pg_dump for PostgreSQL) into central.toml's [backup] folder, "
        "deleting those older than its keep_days (the nightly timer runs this)",
    )
    p.add_argument("file", nargs="?")
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    p = sub.add_parser(
        "restore", help="put a backup in place of the SQLite database (stop the server first)"
    )
    p.add_argument("file")
    p.add_argument(
        "--keep-previous",
        type=int,
        default=KEEP_PREVIOUS,
        metavar="N",
        help="pre-restore copies of the database to keep, newest first; older ones are "
        f"deleted (default {KEEP_PREVIOUS})",
    )
    sub.add_parser(
        "mark-restored",
        help="after restoring the database by other means (pg_restore, PITR): kiosks pull "
        "the roster again",
    )
    sub.add_parser("gaps", help="seqs kiosks wrote off, with their sessions").add_argument(
        "device", nargs="?"
    )
    sub.add_parser(
        "conflicts",
        help="events a kiosk sent again with other content: the server's copy and the other",
    ).add_argument("device", nargs="?")


def run_without_db(args: argparse.Namespace, url: str) -> int:
    """``restore``: the live database is replaced, so it is not opened first."""
    from central.backup import restore_database

    result = restore_database(url, Path(args.file), keep_previous=args.keep_previous)
    if result.previous is not None:
        print(f"before: the database as it was is kept as {result.previous}", file=sys.stderr)
    for old in result.removed:
        print(f"removed the older copy {old} (keeping {args.keep_previous})", file=sys.stderr)
    print(f"restored: {args.file} ({result.restored.describe()})")
    print(f"epoch: {result.epoch} (kiosks pull the roster again)")
    print(
        "next: start the server; each kiosk re-sends what the restored database lacks on its "
        "next sync (kiosk-admin status: last_resend / missing)"
    )
    return 0


def run(args: argparse.Namespace, db: CentralDB) -> int | None:
    """Run one of this module's commands; None when the command is not one of them."""
    from central import setup_data

    match args.command, getattr(args, "action", None):
        case "session", "add":
            slot = setup_data.add_session(
                db, args.org, args.site, args.name, args.start, args.end, args.weekday, args.date
            )
            print(f"added {slot.slot_id}: {slot.describe()}")
        case "session", "list":
            for slot in setup_data.timetable(db, args.org, args.site).slots:
                print(f"{slot.slot_id}\t{slot.describe()}")
        case "session", "remove":
            setup_data.remove_session(db, args.org, args.site, args.slot_id)
            print(f"removed {args.slot_id}")
        case "risk", "import":
            return _risk_import(args, db)
        case "risk", "import-lsoa":
            return _risk_import_lsoa(args, db)
        case "risk", "history":
            for version in setup_data.risk_history(db, args.org):
                print(version.history_line())
        case "backup", _ if args.file is None:
            return _backup_to_folder(args, db)
        case "backup", _:
            from central.backup import backup_database

            summary = backup_database(db_url(db), Path(args.file), force=args.force)
            print(f"backup: {args.file} ({summary.describe()})")
        case "mark-restored", _:
            print(f"epoch: {db.renew_epoch()} (kiosks pull the roster again)")
        case "gaps", _:
            for gap in db.gaps(args.device):
                sessions = ", ".join(gap["sessions"]) or "sessions unknown"
                print(
                    f"{gap['device_id']}\tseq {gap['from_seq']}-{gap['to_seq']}\t{gap['kind']}\t"
                    f"{sessions}\t{gap['detail']}\tid {gap['id']}"
                )
        case "conflicts", _:
            for c in db.conflicts(args.device):
                print(
                    f"{c['device_id']}\t{c['event_id']}\t{c['received_at'].isoformat()}\t"
                    f"differs in {', '.join(c['differs'])}"
                )
                for path in c["differs"][:10]:
                    print(f"  {path}: server {c['held'].get(path)!r}, sent {c['sent'].get(path)!r}")
        case _:
            return None
    return 0


def _backup_to_folder(args: argparse.Namespace, db: CentralDB) -> int:
    from central.backup_folder import backup_to_folder
    from central.config import CentralConfig

    config = getattr(args, "central_config", None) or CentralConfig()
    made, removed = backup_to_folder(db_url(db), config.backup_folder, config.backup_keep_days)
    print(f"backup: {made}")
    for old in removed:
        print(f"pruned: {old.name} (older than {config.backup_keep_days} days)")
    return 0


def db_url(db: CentralDB) -> str:
    return db.engine.url.render_as_string(hide_password=False)


def _risk_import(args: argparse.Namespace, db: CentralDB) -> int:
    from central.setup_data import SetupError, import_risk
    from kiosk.cli_io import read_text
    from kiosk.domain.errors import ValidationError

    path = Path(args.file)
    try:
        text = read_text(path)
    except ValidationError as exc:
        raise CentralError(str(exc)) from None
    try:
        result = import_risk(
            db,
            args.org,
            text,
            path.name,
            skip_invalid=args.skip_invalid,
            dry_run=args.dry_run,
            allow_empty=args.allow_empty,
            allow_shrink=args.allow_shrink,
        )
    except SetupError as exc:
        for number, message in exc.problems:
            print(f"{path}: line {number}: {message}", file=sys.stderr)
        raise
    print(f"added: {len(result.change.added)}")
    print(f"removed: {len(result.change.removed)}")
    print(f"unchanged: {len(result.change.unchanged)}")
    for number, message in result.skipped:
        print(f"{path}: line {number}: {message} (skipped)", file=sys.stderr)
    if result.skipped:
        print(f"skipped: {len(result.skipped)}")
    if result.saved is None:
        print("dry run: the risk list is unchanged")
    else:
        print(f"version: {result.saved.version}")
    return 0


def _risk_import_lsoa(args: argparse.Namespace, db: CentralDB) -> int:
    """The kiosk's ``risk import-lsoa`` on the server: the same files give the same list (and
    digest), so reports can check a kiosk's decisions. Saved through ``import_risk``."""
    from central.setup_data import import_risk
    from kiosk.domain.lsoa import LsoaDataError, LsoaError
    from kiosk.lsoa_import import bad_line_messages, build_from_args, empty_detail, report_lines

    try:
        result = build_from_args(args, sys.stderr)
    except LsoaDataError as exc:
        for line in bad_line_messages(exc.source, exc.problems, exc.count):
            print(line, file=sys.stderr)
        raise CentralError(
            f"{exc.source}: {exc.count} invalid line(s); the risk list is unchanged (fix them, "
            "or use --skip-invalid to import the valid lines)"
        ) from None
    except LsoaError as exc:
        raise CentralError(str(exc)) from None
    chosen = result.postcodes
    for line in bad_line_messages(chosen.source, chosen.problems, chosen.skipped):
        print(f"{line} (skipped)", file=sys.stderr)
    for line in report_lines(result, args.verbose):
        print(line)
    text = "\n".join(sorted(chosen.postcodes))
    imported = import_risk(
        db,
        args.org,
        text,
        result.source,
        dry_run=args.dry_run,
        rule=result.rule,
        sources=result.sources,
        allow_empty=args.allow_empty,
        allow_shrink=args.allow_shrink,
        empty_detail=empty_detail(result),
    )
    print(f"added: {len(imported.change.added)}")
    print(f"removed: {len(imported.change.removed)}")
    print(f"unchanged: {len(imported.change.unchanged)}")
    if imported.saved is None:
        print("dry run: the risk list is unchanged")
        return 0
    print(f"version: {imported.saved.version}")
    _keep_directory(db, args, result)
    return 0


def _keep_directory(db: CentralDB, args: argparse.Namespace, result: Any) -> None:
    """Keep the postcode directory read for the list (every family's LSOA, for
    reach against the population), narrowed to the same area."""
    from central.geography.directory import import_directory
    from kiosk.domain.lsoa import AreaFilter

    choice = result.choice
    area = AreaFilter(tuple(args.local_authority), tuple(args.county)).resolve(
        choice.lad_names if choice else {}, choice.source if choice else None
    )
    postcodes = next((s for s in result.sources if s.role == "postcodes"), None)
    kept = import_directory(
        db,
        Path(args.postcodes),
        Path(args.imd) if args.imd else None,
        vintage=result.postcodes.layout.lsoa_vintage,
        lad_codes=area.lad_codes,
        county_codes=area.county_codes,
        sha256=postcodes.sha256 if postcodes else None,
    )
    print(
        f"postcode directory: {kept.postcodes:,} postcodes in {kept.lsoas:,} LSOAs "
        f"({kept.vintage} LSOAs, {kept.ranked:,} with an IMD decile) kept for reach reports"
    )
