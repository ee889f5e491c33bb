"""``kiosk-central``: run the central server and enrol organisations, sites, kiosks and users.

    kiosk-central serve                                # SQLite in ~/.local/share/doorstep-central
    kiosk-central --db postgresql://u@db/doorstep serve --host 0.0.0.0 --port 8700
    kiosk-central serve --forwarded-allow-ips 127.0.0.1      # behind a reverse proxy on this host
    kiosk-central --db postgresql://u@db/doorstep serve --workers 4   # processes (central.workers)
    kiosk-central --config /etc/doorstep-central/central.toml serve   # options from the file
    kiosk-central doctor            # database, schema, secret, TLS, disk, backups: ok/warn/fail
    kiosk-central org add lichfield
    kiosk-central site add lichfield library
    kiosk-central org add spark --name "Spark CIC"     # the name shown in reports
    kiosk-central site add spark chase-terrace --name "Chase Terrace"
    kiosk-central org set-name spark "Spark CIC"; kiosk-central site set-name spark library "..."
    kiosk-central invoice issue --org spark --month 2016-04     # frozen under its number
    kiosk-central invoice list [--org spark]; kiosk-central invoice void NUMBER --reason "..."
    kiosk-central device add lichfield library kiosk-1 > kiosk-1.token   # token shown once
    kiosk-central device revoke kiosk-1
    kiosk-central device undo-gap kiosk-1 7         # take back write-off 7 (see 'gaps kiosk-1')
    kiosk-central device health --org lichfield     # ok/warn/fail per kiosk; exit 1 on a fail
    kiosk-central user add alice --role staff --org lichfield            # password shown once
    kiosk-central user add fred --role finance --org lichfield    # also sees the invoice lines
    kiosk-central user grant carol names      # a commissioner sees family names (revoke: undo)
    kiosk-central user disable alice; kiosk-central user list
    kiosk-central user reset-password alice    # a new password, shown once; ends her sessions
    kiosk-central audit show --since 2026-11-01; kiosk-central audit verify
    kiosk-central session add lichfield library --name "Stay and Play" --weekday mon \
        --start 09:30 --end 11:30                                      # kiosks pull it
    kiosk-central risk import lichfield council-list.csv               # a new version
    kiosk-central population import sapelsoasyoa2022.xlsx             # ONS estimates by age
    kiosk-central boundaries import county-lsoa.geojson                # for the reach map
    kiosk-central backup central-backup.sqlite3                        # also: restore FILE
    kiosk-central copy-to postgresql://doorstep@db/doorstep    # SQLite to PostgreSQL, checked

Every command but doctor and restore creates an empty database first; every one but migrate,
backup and doctor refuses a database behind this server's schema, saying to back it up and run
``kiosk-central migrate``. Errors go to stderr with exit status 1. Settings come
from central.toml (``central.config``) when there is one; the command line overrides it.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from central import audit_cli, recovery_cli, workers
from central.config import CentralConfig, database_url, find_config, load_config, trusted_proxies
from central.db import GRANTS, ROLES, CentralDB, CentralError
from central.geography import cli as geography_cli
from central.privacy import cli as privacy_cli
from central.reports import cli as reports_cli
from central.serving import DEFAULT_HOST, DEFAULT_PORT
from central.sqlite_check import preflight, sqlite_file
from kiosk.pipes import quiet_when_stdout_closes

#: Commands that open a database whatever its schema: the upgrade, and the backup taken first.
ANY_SCHEMA_COMMANDS = ("migrate", "backup")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiosk-central",
        description="The Doorstep central server: receives kiosk events, enrols devices.",
        epilog="Database: --db, else $KIOSK_CENTRAL_DB, else [database] url of central.toml, "
        "else a SQLite file in $KIOSK_CENTRAL_DATA (default ~/.local/share/doorstep-central).",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="central.toml to read (default: $KIOSK_CENTRAL_CONFIG, else "
        "/etc/doorstep-central/central.toml when it exists); options given here override it",
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help="sqlite:///path/to/file.sqlite3 or postgresql://user:pass@host/dbname",
    )
    parser.add_argument(
        "--as",
        dest="as_actor",
        metavar="NAME",
        help="who is running this, for the audit log (default: $SUDO_USER, else $USER)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", help=f"default: [server] host, else {DEFAULT_HOST}")
    serve.add_argument("--port", type=int, help=f"default: [server] port, else {DEFAULT_PORT}")
    serve.add_argument(
        "--config",
        metavar="FILE",
        default=argparse.SUPPRESS,  # given here or before 'serve': the same option
        help="central.toml to read (as kiosk-central --config FILE serve)",
    )
    serve.add_argument("--ssl-certfile", help="serve HTTPS with this certificate (PEM)")
    serve.add_argument("--ssl-keyfile", help="the certificate's private key (PEM)")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])
    serve.add_argument(
        "--forwarded-allow-ips",
        metavar="IPS",
        type=_forwarded_ips,
        help="the reverse proxies (comma-separated addresses or networks, e.g. 127.0.0.1 or "
        "10.0.0.0/24) whose X-Forwarded-For and X-Forwarded-Proto are believed: the client "
        "address (login limits, audit log) and scheme come from them. Default: [server] "
        "trusted_proxies, else none: every request is taken as from the address that connected",
    )

    sub.add_parser(
        "doctor",
        help="check the server (database, schema, secret, TLS or proxy, disk, backups): "
        "ok/warn/fail lines; exit status 1 if one fails",
    )

    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="server processes sharing the port (default 1); more than 1 needs PostgreSQL "
        "and central.toml's [server] secret (central.workers says why)",
    )

    sub.add_parser("migrate", help="create or upgrade the database schema, then exit")
    sub.add_parser(
        "copy-to",
        help="copy the whole database into another, empty one (e.g. SQLite to PostgreSQL) and "
        "check the copy; stop the server first",
    ).add_argument("url", metavar="URL", help="the target: postgresql://user:pass@host/dbname")

    org = sub.add_parser("org", help="organisations").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    org_add = org.add_parser("add", help="add an organisation")
    org_add.add_argument("org")
    org_add.add_argument("--name", help='what people call it, shown in reports ("Spark CIC")')
    org_name = org.add_parser("set-name", help="set the name shown in reports (the id stays)")
    org_name.add_argument("org")
    org_name.add_argument("name")
    org.add_parser("list", help="organisations and their names")
    reports_cli.add_org_commands(org)  # org rate, org rates

    site = sub.add_parser("site", help="sites of an organisation").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    site_add = site.add_parser("add", help="add a site")
    site_add.add_argument("org")
    site_add.add_argument("site")
    site_add.add_argument("--name", help='what people call it, shown in reports ("Chase Terrace")')
    site_name = site.add_parser("set-name", help="set the name shown in reports (the id stays)")
    site_name.add_argument("org")
    site_name.add_argument("site")
    site_name.add_argument("name")
    site.add_parser("list", help="sites and their names").add_argument("org", nargs="?")

    device = sub.add_parser("device", help="kiosks").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    device_add = device.add_parser(
        "add", help="enrol a kiosk; prints its token alone on stdout, once"
    )
    device_add.add_argument("org")
    device_add.add_argument("site")
    device_add.add_argument("device")
    device_add.add_argument(
        "--in-use-since",
        metavar="YYYY-MM-DD",
        type=date.fromisoformat,
        help="the kiosk has been used at the door since this day, before its enrolment: its "
        "events may be dated from 400 days before it (default: today)",
    )
    device.add_parser("revoke", help="stop a kiosk's token from working").add_argument("device")
    device.add_parser("list", help="enrolled kiosks")
    undo = device.add_parser(
        "undo-gap",
        help="take back a write-off ('kiosk-central gaps DEVICE' shows each one's id)",
    )
    undo.add_argument("device")
    undo.add_argument("gap_id", type=int, metavar="ID")
    health = device.add_parser(
        "health",
        help="each kiosk's state (ok/warn/fail) and what to do; exit status 1 if one fails",
    )
    health.add_argument("--org", help="only this organisation's kiosks")

    user = sub.add_parser("user", help="reporting users").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    user_add = user.add_parser("add", help="add a user; prints a generated password once")
    user_add.add_argument("name")
    user_add.add_argument("--role", required=True, choices=ROLES)
    user_add.add_argument("--org", help="the user's organisation (required for staff and finance)")
    user.add_parser("disable", help="stop a user signing in").add_argument("name")
    user.add_parser(
        "reset-password",
        help="give a user a new generated password (printed once); ends their sessions",
    ).add_argument("name")
    user.add_parser("list", help="users, roles, organisations and grants")
    for verb, text in (("grant", "give a user a right"), ("revoke", "take a right away")):
        p = user.add_parser(verb, help=f"{text} (names: a commissioner sees family names)")
        p.add_argument("name")
        p.add_argument("grant", choices=GRANTS)
    audit_cli.add_commands(sub)  # audit show, audit verify
    reports_cli.add_commands(sub)  # report, review, import
    recovery_cli.add_commands(sub)  # session, risk, backup, restore, mark-restored, gaps
    privacy_cli.add_commands(sub)  # family export/erase, retention set/show/apply
    geography_cli.add_commands(sub)  # population import/history, boundaries import
    return parser


@quiet_when_stdout_closes
def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.central_config = load_config(find_config(args.config))
    except CentralError as exc:
        if args.command == "doctor":  # still one line of its own form
            print(f"fail: {exc} — fix it, then run kiosk-central doctor again")
        else:
            print(f"kiosk-central: {exc}", file=sys.stderr)
        return 1
    url = database_url(args.db, args.central_config)
    if args.command == "doctor":  # looks at the database as it is: never creates or migrates it
        from central.doctor import run_doctor

        findings = run_doctor(args.central_config, url)
        for finding in findings:
            print(finding.line())
        return 1 if any(f.level == "fail" for f in findings) else 0
    if args.command in recovery_cli.NO_DB_COMMANDS:
        try:
            return recovery_cli.run_without_db(args, url)
        except CentralError as exc:
            print(f"kiosk-central: {exc}", file=sys.stderr)
            return 1
    if args.command == "serve" and (
        problem := workers.refusal(url, args.workers, args.central_config.secret)
    ):
        print(f"kiosk-central: {problem}", file=sys.stderr)  # before the database is touched
        return 1
    try:
        # Before anything opens a SQLite file: a damaged one, or one copied by hand over the
        # database beside the old -wal, is refused, and not made worse.
        preflight(url, full=args.command in ("serve", "copy-to"))
        if args.command == "copy-to":  # only read: never create the database it copies
            missing = sqlite_file(url)
            if missing is not None and not missing.exists():
                raise CentralError(f"copy-to: the database to copy, {missing}, does not exist")
            db = CentralDB.open(url, migrate=False)
            db.require_current()
        else:
            db = CentralDB.open(url, migrate=args.command not in ANY_SCHEMA_COMMANDS, upgrade=False)
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
    done = _command(args, db)
    if done == 0:
        audit_cli.record_command(db, args)  # only the commands it lists, never dry runs
    return done


def _command(args: argparse.Namespace, db: CentralDB) -> int:
    match args.command, getattr(args, "action", None):
        case "serve", _:
            return _serve(args, db)
        case "migrate", _:
            _migrate(db)
        case "copy-to", _:
            _copy_to(args, db)
        case "org", "add":
            db.add_org(args.org, args.name)
            print(f"organisation {args.org} added", file=sys.stderr)
        case "org", "set-name":
            db.set_org_name(args.org, args.name)
            print(f"organisation {args.org} is shown as {args.name!r}", file=sys.stderr)
        case "org", "list":
            for org_id, name in db.org_list():
                print(f"{org_id}\t{name or '-'}")
        case "site", "add":
            db.add_site(args.org, args.site, args.name)
            print(f"site {args.site} added to {args.org}", file=sys.stderr)
        case "site", "set-name":
            db.set_site_name(args.org, args.site, args.name)
            print(f"site {args.org}/{args.site} is shown as {args.name!r}", file=sys.stderr)
        case "site", "list":
            for org_id, site_id, name in db.site_list(args.org):
                print(f"{org_id}\t{site_id}\t{name or '-'}")
        case "device", "add":
            since = args.in_use_since
            enrolled_at = datetime.combine(since, time(), UTC) if since else None
            token = db.add_device(args.org, args.site, args.device, enrolled_at=enrolled_at)
            print(
                f"device {args.device} enrolled at {args.org}/{args.site}; its token follows on "
                "stdout and is not shown again: put it in the kiosk's token file",
                file=sys.stderr,
            )
            print(token)
        case "device", "undo-gap":
            holds = db.undo_write_off(args.device, args.gap_id)
            print(
                f"write-off {args.gap_id} of device {args.device} taken back; the server now "
                f"holds its events up to seq {holds}",
                file=sys.stderr,
            )
        case "device", "revoke":
            db.revoke_device(args.device)
            print(f"device {args.device} revoked", file=sys.stderr)
        case "device", "list":
            for d in db.devices():
                state = "revoked" if d.revoked else "active"
                print(f"{d.device_id}\t{d.org_id}\t{d.site_id}\t{state}\tholds {d.holds_up_to}")
        case "device", "health":
            return _device_health(db, args.org)
        case "user", "add":
            password = db.add_user(args.name, args.role, args.org)
            print(f"user {args.name} ({args.role}) added; password (shown once):", file=sys.stderr)
            print(password)
        case "user", "disable":
            changed = db.disable_user(args.name)
            print(
                f"user {args.name} {'disabled' if changed else 'was already disabled'}",
                file=sys.stderr,
            )
        case "user", "reset-password":
            password = db.reset_password(args.name)
            print(
                f"user {args.name}: new password (shown once); their sessions are ended:",
                file=sys.stderr,
            )
            print(password)
        case "user", "list":
            for u in db.list_users():
                state = "disabled" if u["disabled"] else "active"
                grants = ",".join(u["grants"]) or "-"
                print(f"{u['name']}\t{u['role']}\t{u['org_id'] or '-'}\t{state}\t{grants}")
        case "user", "grant":
            changed = db.grant(args.name, args.grant, by=_actor(args))
            print(
                f"{args.name}: {args.grant} {'granted' if changed else 'was already granted'}",
                file=sys.stderr,
            )
        case "user", "revoke":
            changed = db.revoke_grant(args.name, args.grant)
            print(
                f"{args.name}: {args.grant} {'revoked' if changed else 'was not granted'}",
                file=sys.stderr,
            )
        case "audit", _:
            return audit_cli.run(args, db)
        case command, _ if command in privacy_cli.COMMANDS:
            return privacy_cli.run(args, db) or 0
        case command, _ if command in geography_cli.COMMANDS:
            return geography_cli.run(args, db)
        case _:
            done = recovery_cli.run(args, db)
            return done if done is not None else reports_cli.run(args, db)
    return 0


def _device_health(db: CentralDB, org_id: str | None) -> int:
    """The kiosk health panel's verdicts as lines (``central.health``, the same function the
    dashboard uses), like the kiosk's own ``kiosk-admin doctor``."""
    from central.db import utcnow
    from central.health import kiosk_health, summary

    found = kiosk_health(db, org_id, utcnow())
    for health in found:
        for line in health.lines():
            print(line)
    print(summary(found), file=sys.stderr)
    return 1 if any(h.level == "fail" for h in found) else 0


def _actor(args: argparse.Namespace) -> str:
    from central.audit import os_actor

    return os_actor(args.as_actor)


def _migrate(db: CentralDB) -> None:
    """``kiosk-central migrate``: bring the schema to this server's latest revision."""
    before, after = db.migrate()
    if before is None:
        print(f"new database created at schema revision {after}", file=sys.stderr)
    elif before == after:
        print(f"schema already current (revision {after}): nothing to do", file=sys.stderr)
    else:
        print(f"schema upgraded from revision {before} to {after}", file=sys.stderr)


def _copy_to(args: argparse.Namespace, db: CentralDB) -> None:
    """``kiosk-central copy-to URL``: the whole database into an empty one, checked
    (``central.copy_db``), with a progress bar per table."""
    from central.copy_db import copy_database
    from kiosk.lsoa_import import ProgressBar

    def bar(label: str, total: int) -> ProgressBar:
        return ProgressBar(label, total, sys.stderr, unit="rows", scale=1)

    copied = copy_database(db, args.url, _actor(args), progress=bar)
    rows = sum(t.rows for t in copied)
    print(
        f"copied {rows} rows of {sum(1 for t in copied if t.rows)} tables; every count and the "
        "audit chain checked. Point central.toml's [database] url (or --db) at the new "
        "database and start the server; this one was only read.",
        file=sys.stderr,
    )


def _serve(args: argparse.Namespace, db: CentralDB) -> int:
    import uvicorn

    from central.app import create_app
    from central.process_tuning import REQUEST_THREADS, calm_collector
    from central.serving import bind, listening_line, serve_settings

    several = args.workers > 1
    log_format = workers.LOG_FORMAT if several else "%(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=args.log_level.upper(), format=log_format)
    settings = serve_settings(args, _config(args))
    options: dict[str, Any] = {
        "log_level": args.log_level,
        "ssl_certfile": settings.ssl_certfile,
        "ssl_keyfile": settings.ssl_keyfile,
        "access_log": args.log_level == "debug",
        # uvicorn believes X-Forwarded-For from 127.0.0.1 unless told otherwise: only the
        # proxies named on the command line or in central.toml are believed, none by default.
        "proxy_headers": bool(settings.forwarded_allow_ips),
        "forwarded_allow_ips": settings.forwarded_allow_ips or "",
    }
    tls = bool(settings.ssl_certfile)
    if several:
        # Each worker builds its own app and database pool (central.workers); this process
        # holds the port and watches over them.
        sock = workers.hold_port(settings.host, settings.port)
        app = workers.WorkerApp(
            database_url(args.db, args.central_config), args.log_level, settings.secret
        )
        db.close()
        print(listening_line(sock, settings.host, tls=tls), file=sys.stderr)
        sys.stderr.flush()
        try:
            return workers.serve_processes(args.workers, sock, app, options)
        finally:
            sock.close()
    sock = bind(settings.host, settings.port)
    served = create_app(
        db, on_shutdown=db.close, metrics_secret=settings.secret, request_threads=REQUEST_THREADS
    )
    calm_collector()
    server = uvicorn.Server(
        uvicorn.Config(
            # Closing the database at shutdown lets SQLite copy its -wal into the file and
            # remove it, so a server stopped normally leaves one whole file (uvicorn ends the
            # process on SIGTERM after shutdown, before main's own close).
            served,
            host=settings.host,
            port=sock.getsockname()[1],
            **options,
        )
    )
    print(listening_line(sock, settings.host, tls=tls), file=sys.stderr)
    sys.stderr.flush()
    server.run(sockets=[sock])
    return 0


def _config(args: argparse.Namespace) -> CentralConfig:
    """central.toml as ``main`` read it (an empty one for callers that skip ``main``)."""
    return getattr(args, "central_config", None) or CentralConfig()


def _forwarded_ips(value: str) -> str:
    """``--forwarded-allow-ips``: addresses and networks (or ``*``), checked, comma-joined."""
    try:
        return trusted_proxies(value.split(","))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


if __name__ == "__main__":
    sys.exit(main())
