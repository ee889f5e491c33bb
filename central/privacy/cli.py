"""The family-rights commands of ``kiosk-central`` (registered by :mod:`central.cli`).

    kiosk-central family export F-7K3M9QX2AB [--format json|pdf] [--out FILE] [--by NAME]
    kiosk-central family erase F-7K3M9QX2AB [--yes] [--by NAME]     # asks first without --yes
    kiosk-central retention set lichfield --years 6 --policy aggregate|delete [--by NAME]
    kiosk-central retention show
    kiosk-central retention apply [--dry-run] [--today YYYY-MM-DD] [--by NAME]

The export goes to stdout (or ``--out FILE``); what happened goes to stderr. ``--by`` names who
asked (default ``$SUDO_USER``, else ``$USER``): it is recorded with an erasure and in the audit
log.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any

from central.db import CentralDB, CentralError

COMMANDS = ("family", "retention")


def add_commands(sub: Any) -> None:
    """``family`` and ``retention`` commands."""
    family = sub.add_parser(
        "family", help="a family's rights: a copy of their data, erasure"
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    export = family.add_parser("export", help="everything held about a family (JSON or PDF)")
    export.add_argument("family", help="the family reference, e.g. F-7K3M9QX2AB")
    export.add_argument("--format", choices=("json", "pdf"), default="json")
    export.add_argument("--out", metavar="FILE", help="default: stdout")
    _by(export)
    erase = family.add_parser(
        "erase", help="erase a family everywhere; attendances stay as anonymous counts"
    )
    erase.add_argument("family", help="the family reference, e.g. F-7K3M9QX2AB")
    erase.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    _by(erase)

    retention = sub.add_parser(
        "retention", help="how long attendances are kept, per organisation"
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    rset = retention.add_parser("set", help="set an organisation's retention policy")
    rset.add_argument("org")
    rset.add_argument("--years", type=int, required=True, help="keep attendances this long")
    rset.add_argument(
        "--policy",
        choices=("aggregate", "delete"),
        required=True,
        help="aggregate: keep counts per site and month, then delete; delete: delete",
    )
    _by(rset)
    retention.add_parser("show", help="every organisation's policy")
    rapply = retention.add_parser("apply", help="remove what the policies say is too old")
    rapply.add_argument("--dry-run", action="store_true", help="say what would go; change nothing")
    rapply.add_argument("--today", metavar="YYYY-MM-DD", help="count the years from this day")
    _by(rapply)


def _by(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--by", metavar="NAME", help="who asked (default: --as, else $SUDO_USER, else $USER)"
    )


def _note(text: str) -> None:
    print(text, file=sys.stderr)


def _actor(args: argparse.Namespace) -> str:
    from central.audit import os_actor

    return os_actor(args.by or getattr(args, "as_actor", None))


def run(args: argparse.Namespace, db: CentralDB) -> int | None:
    """Run a family or retention command; None when ``args`` is not one of them."""
    match args.command, args.action:
        case "family", "export":
            return _export(args, db)
        case "family", "erase":
            return _erase(args, db)
        case "retention", "set":
            from central.privacy.retention import set_policy

            policy = set_policy(db, args.org, args.years, args.policy, _actor(args))
            _note(
                f"{policy.org_id}: attendances older than {policy.years} year(s) will be "
                f"{'aggregated, then deleted' if policy.policy == 'aggregate' else 'deleted'} "
                "by 'kiosk-central retention apply'"
            )
            return 0
        case "retention", "show":
            from central.privacy.retention import policies

            for org_id, policy in policies(db).items():
                if policy is None:
                    print(f"{org_id}\tkeep\t-\tno policy: everything is kept")
                else:
                    print(
                        f"{org_id}\t{policy.policy}\t{policy.years}\tset by {policy.set_by} on "
                        f"{policy.set_at:%Y-%m-%d}"
                    )
            return 0
        case "retention", "apply":
            return _apply(args, db)
    return None


def _export(args: argparse.Namespace, db: CentralDB) -> int:
    from central.privacy.export import export_json, family_export

    data = family_export(db, args.family, requested_by=_actor(args))
    if args.format == "pdf":
        from central.privacy.export_pdf import export_pdf

        payload: str | bytes = export_pdf(data)
    else:
        payload = export_json(data)
    if args.out:
        path = Path(args.out)
        if isinstance(payload, bytes):
            path.write_bytes(payload)
        else:
            path.write_text(payload, encoding="utf-8")
        _note(f"export of family {args.family} written to {path}")
    elif isinstance(payload, bytes):
        if sys.stdout.isatty():
            raise CentralError("a PDF is not for a terminal: give --out FILE or redirect stdout")
        sys.stdout.buffer.write(payload)
        sys.stdout.flush()
    else:
        sys.stdout.write(payload)
    return 0


def _erase(args: argparse.Namespace, db: CentralDB) -> int:
    from central.privacy.erase import erase_family

    if not args.yes:
        if not sys.stdin.isatty():
            raise CentralError("erasure cannot be undone: add --yes to confirm")
        answer = input(f"Erase family {args.family} everywhere? This cannot be undone [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            _note("nothing erased")
            return 1
    report = erase_family(db, args.family, requested_by=_actor(args))
    print("\n".join(report.lines()))
    return 0


def _apply(args: argparse.Namespace, db: CentralDB) -> int:
    from central.privacy.retention import apply_retention

    try:
        today = date.fromisoformat(args.today) if args.today else date.today()
    except ValueError:
        raise CentralError(f"--today {args.today!r} is not a date like 2026-11-23") from None
    runs = apply_retention(db, today, dry_run=args.dry_run, ran_by=_actor(args))
    if not runs:
        print("no organisation has a retention policy: everything is kept")
    for run in runs:
        print(run.line())
    if args.dry_run:
        _note("dry run: nothing was changed")
    return 0
