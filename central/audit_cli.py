"""``kiosk-central audit show|verify``, and the audit rows the other commands leave behind.

    kiosk-central audit show [--since 2026-11-01] [--actor alice] [--action login]
    kiosk-central audit verify        # exit 0: the chain is whole; 1: the first broken row

``central.cli`` calls :func:`record_command` after a command succeeds: what changed something
(enrolment, users and grants, rates, imports, reviews, timetable, backups) or took personal data
out of the server (report exports) is written to the audit log with the person who ran it
(``--as NAME``, else ``$SUDO_USER``, else ``$USER``). Dry runs change nothing and are not logged.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

from central import audit
from central.db import CentralDB, CentralError
from central.reports.period import REPORT_TZ

Args = argparse.Namespace


def add_commands(sub: Any) -> None:
    actions = sub.add_parser("audit", help="the audit log: who did what").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    show = actions.add_parser("show", help="print the log, oldest first")
    show.add_argument("--since", metavar="YYYY-MM-DD", help="from this day (UK time)")
    show.add_argument("--actor", metavar="NAME", help="only what NAME did")
    show.add_argument(
        "--action",
        dest="action_prefix",
        metavar="PREFIX",
        help="only these actions (login, report, user.grant...)",
    )
    actions.add_parser("verify", help="check the hash chain; exit 1 at the first broken row")


def run(args: Args, db: CentralDB) -> int:
    if args.action == "show":
        since = None
        if args.since:
            try:
                day = datetime.strptime(args.since, "%Y-%m-%d").date()
            except ValueError:
                raise CentralError(
                    f"--since {args.since!r} must be a date like 2026-11-01"
                ) from None
            since = datetime.combine(day, time(), REPORT_TZ).astimezone(UTC)
        for entry in audit.entries(db, since, args.actor, args.action_prefix):
            print(entry.line())
        return 0
    verdict = audit.verify(db)
    if verdict.ok:
        print(f"audit log intact: {verdict.rows} rows, head {verdict.head}")
        return 0
    print(f"audit log broken at row {verdict.broken_id}: {verdict.problem}", file=sys.stderr)
    return 1


def _org(args: Args) -> str:
    return str(getattr(args, "org", None) or "")


def _period(args: Args) -> dict[str, Any]:
    return {k: v for k in ("month", "start", "end") if (v := getattr(args, k, None)) is not None}


def _keep(args: Args, *names: str) -> dict[str, Any]:
    out = {}
    for name in names:
        value = getattr(args, name, None)
        if value is not None and value is not False:
            out[name] = value.name if isinstance(value, Path) else value
    return out


#: (command, action) -> (audit action, subject, detail) for the commands that are logged.
_LOGGED: dict[tuple[str, str | None], tuple[str, Callable[[Args], str], Callable[[Args], dict]]] = {
    ("org", "add"): ("org.add", _org, lambda a: _keep(a, "name")),
    ("org", "set-name"): ("org.set_name", _org, lambda a: {"name": a.name}),
    ("site", "set-name"): (
        "site.set_name",
        lambda a: f"{a.org}/{a.site}",
        lambda a: {"name": a.name},
    ),
    ("invoice", "issue"): (
        "invoice.issue",
        _org,
        lambda a: {
            "month": a.month,
            "contract": a.contract,
            "number": getattr(a, "invoice_number", None),
        },
    ),
    ("invoice", "void"): ("invoice.void", lambda a: a.number, lambda a: {"reason": a.reason}),
    ("org", "rate"): (
        "org.rate",
        _org,
        lambda a: _keep(a, "amount", "effective_from", "contract", "replace"),
    ),
    ("site", "add"): ("site.add", lambda a: f"{a.org}/{a.site}", lambda a: _keep(a, "name")),
    ("device", "add"): ("device.add", lambda a: a.device, lambda a: _keep(a, "org", "site")),
    ("device", "revoke"): ("device.revoke", lambda a: a.device, lambda a: {}),
    ("device", "undo-gap"): ("device.undo_gap", lambda a: a.device, lambda a: {"gap": a.gap_id}),
    ("user", "add"): ("user.add", lambda a: a.name, lambda a: _keep(a, "role", "org")),
    ("user", "disable"): ("user.disable", lambda a: a.name, lambda a: {}),
    ("user", "grant"): ("user.grant", lambda a: a.name, lambda a: {"grant": a.grant}),
    ("user", "revoke"): ("user.revoke", lambda a: a.name, lambda a: {"grant": a.grant}),
    ("report", "invoice"): (
        "report.download",
        _org,
        lambda a: {"report": "invoice", "format": a.format, "contract": a.contract, **_period(a)},
    ),
    ("report", "reach"): (
        "report.download",
        lambda a: a.org or "all",
        lambda a: {
            "report": "reach",
            "format": a.format,
            "names": bool(a.org) and not getattr(a, "by", None),
            **_period(a),
            **_keep(a, "as_of", "by", "ages"),
        },
    ),
    ("report", "trend"): (
        "report.download",
        lambda a: a.org or "all",
        lambda a: {"report": "trend", "format": a.format, "names": False, **_period(a)},
    ),
    ("report", "outreach"): (
        "report.download",
        lambda a: a.org or "all",
        lambda a: {"report": "outreach", "format": a.format, "names": False, **_period(a)},
    ),
    ("population", "import"): (
        "population.import",
        lambda a: "",
        lambda a: {"file": Path(a.file).name, **_keep(a, "sheet")},
    ),
    ("boundaries", "import"): (
        "boundaries.import",
        lambda a: "",
        lambda a: {"file": Path(a.file).name},
    ),
    ("report", "register"): (
        "report.download",
        _org,
        lambda a: {
            "report": "register",
            "format": "csv",
            "names": True,
            **_keep(a, "date", "site"),
        },
    ),
    ("review", "count"): ("review.count", lambda a: a.attendance_id, lambda a: {"by": a.by}),
    ("review", "exclude"): ("review.exclude", lambda a: a.attendance_id, lambda a: {"by": a.by}),
    ("import", "register"): (
        "paper.import",
        _org,
        lambda a: _keep(a, "file", "site", "date", "session_name", "start", "end", "entered_by"),
    ),
    ("session", "add"): (
        "session.add",
        lambda a: f"{a.org}/{a.site}",
        lambda a: _keep(a, "name", "weekday", "date", "start", "end"),
    ),
    ("session", "remove"): (
        "session.remove",
        lambda a: f"{a.org}/{a.site}",
        lambda a: {"slot_id": a.slot_id},
    ),
    ("risk", "import"): (
        "risk.import",
        _org,
        lambda a: {
            "file": Path(a.file).name,
            **_keep(a, "skip_invalid", "allow_empty", "allow_shrink"),
        },
    ),
    ("risk", "import-lsoa"): (
        "risk.import_lsoa",
        _org,
        lambda a: _keep(a, "allow_empty", "allow_shrink"),
    ),
    ("backup", None): ("backup.create", lambda a: "", lambda a: {"file": str(a.file)}),
    ("mark-restored", None): ("backup.mark_restored", lambda a: "", lambda a: {}),
}


def record_command(db: CentralDB, args: Args) -> None:
    """Log ``args``' command if it is one that is logged (and was not a dry run)."""
    key = (args.command, getattr(args, "action", None))
    logged = _LOGGED.get(key)
    if logged is None or getattr(args, "dry_run", False):
        return
    action, subject, detail = logged
    audit.record(
        db,
        audit.os_actor(getattr(args, "as_actor", None)),
        action,
        subject(args),
        {**detail(args), "via": "cli"},
    )
