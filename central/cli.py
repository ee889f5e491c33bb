"""``kiosk-central``: run the central server and enrol organisations, sites, kiosks and users.

    kiosk-central serve                                # SQLite in ~/.local/share/doorstep-central
    kiosk-central --db postgresql://u@db/doorstep serve --host 0.0.0.0 --port 8700
    kiosk-central org add lichfield
    kiosk-central site add lichfield library
    kiosk-central device add lichfield library kiosk-1 > kiosk-1.token   # token shown once
    kiosk-central device revoke kiosk-1
    kiosk-central user add alice --role staff --org lichfield            # password shown once
    kiosk-central session add lichfield library --name "Stay and Play" --weekday mon \
        --start 09:30 --end 11:30                                      # kiosks pull it
    kiosk-central risk import lichfield council-list.csv               # a new version
    kiosk-central backup central-backup.sqlite3                        # also: restore FILE

Every command creates or migrates the database first. Errors go to stderr with exit status 1.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from central import recovery_cli
from central.db import ROLES, CentralDB, CentralError, default_database_url
from central.reports import cli as reports_cli

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8700


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiosk-central",
        description="The Doorstep central server: receives kiosk events, enrols devices.",
        epilog="Database: --db, else $KIOSK_CENTRAL_DB, else a SQLite file in "
        "$KIOSK_CENTRAL_DATA (default ~/.local/share/doorstep-central).",
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help="sqlite:///path/to/file.sqlite3 or postgresql://user:pass@host/dbname",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default=DEFAULT_HOST, help=f"default {DEFAULT_HOST}")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    serve.add_argument("--ssl-certfile", help="serve HTTPS with this certificate (PEM)")
    serve.add_argument("--ssl-keyfile", help="the certificate's private key (PEM)")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])

    sub.add_parser("migrate", help="create or upgrade the database schema, then exit")

    org = sub.add_parser("org", help="organisations").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    org.add_parser("add", help="add an organisation").add_argument("org")
    reports_cli.add_org_commands(org)  # org rate, org rates

    site = sub.add_parser("site", help="sites of an organisation").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    site_add = site.add_parser("add", help="add a site")
    site_add.add_argument("org")
    site_add.add_argument("site")

    device = sub.add_parser("device", help="kiosks").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    device_add = device.add_parser(
        "add", help="enrol a kiosk; prints its token alone on stdout, once"
    )
    device_add.add_argument("org")
    device_add.add_argument("site")
    device_add.add_argument("device")
    device.add_parser("revoke", help="stop a kiosk's token from working").add_argument("device")
    device.add_parser("list", help="enrolled kiosks")

    user = sub.add_parser("user", help="reporting users").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    user_add = user.add_parser("add", help="add a user; prints a generated password once")
    user_add.add_argument("name")
    user_add.add_argument("--role", required=True, choices=ROLES)
    user_add.add_argument("--org", help="the user's organisation (required for staff)")
    reports_cli.add_commands(sub)  # report, review, import
    recovery_cli.add_commands(sub)  # session, risk, backup, restore, mark-restored, gaps
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    url = args.db or default_database_url()
    if args.command in recovery_cli.NO_DB_COMMANDS:
        try:
            return recovery_cli.run_without_db(args, url)
        except CentralError as exc:
            print(f"kiosk-central: {exc}", file=sys.stderr)
            return 1
    try:
        db = CentralDB.open(url)
    except CentralError as exc:
        print(f"kiosk-central: {exc}", file=sys.stderr)
        return 1
    try:
        return _run(args, db)
    except CentralError as exc:
        print(f"kiosk-central: {exc}", file=sys.stderr)
        return 1
    finally:
        db.close()


def _run(args: argparse.Namespace, db: CentralDB) -> int:
    match args.command, getattr(args, "action", None):
        case "serve", _:
            return _serve(args, db)
        case "migrate", _:
            print(f"schema version {db.schema_version()}", file=sys.stderr)
        case "org", "add":
            db.add_org(args.org)
            print(f"organisation {args.org} added", file=sys.stderr)
        case "site", "add":
            db.add_site(args.org, args.site)
            print(f"site {args.site} added to {args.org}", file=sys.stderr)
        case "device", "add":
            token = db.add_device(args.org, args.site, args.device)
            print(
                f"device {args.device} enrolled at {args.org}/{args.site}; its token follows on "
                "stdout and is not shown again: put it in the kiosk's token file",
                file=sys.stderr,
            )
            print(token)
        case "device", "revoke":
            db.revoke_device(args.device)
            print(f"device {args.device} revoked", file=sys.stderr)
        case "device", "list":
            for d in db.devices():
                state = "revoked" if d.revoked else "active"
                print(f"{d.device_id}\t{d.org_id}\t{d.site_id}\t{state}\tholds {d.holds_up_to}")
        case "user", "add":
            password = db.add_user(args.name, args.role, args.org)
            print(f"user {args.name} ({args.role}) added; password (shown once):", file=sys.stderr)
            print(password)
        case _:
            done = recovery_cli.run(args, db)
            return done if done is not None else reports_cli.run(args, db)
    return 0


def _serve(args: argparse.Namespace, db: CentralDB) -> int:
    import uvicorn

    from central.app import create_app

    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    if bool(args.ssl_certfile) != bool(args.ssl_keyfile):
        raise CentralError("give both --ssl-certfile and --ssl-keyfile, or neither")
    uvicorn.run(
        create_app(db),
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        ssl_certfile=args.ssl_certfile,
        ssl_keyfile=args.ssl_keyfile,
        access_log=args.log_level == "debug",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
