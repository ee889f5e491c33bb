"""``kiosk-admin``: what the admin runs over SSH on the kiosk.

Its command names and output lines are a contract (acceptance scripts use them): keep them.
Errors go to stderr as one plain line (or one line per bad input line) and exit with status 1;
a mistyped command exits 2 with argparse's usage message.

    kiosk-admin --data /var/lib/doorstep risk import risk.csv
    kiosk-admin family add --name Sarah --postcode "WS7 1AA" --child Mia:2024-03 --card 04A23B1C
    kiosk-admin tap 04A23B1C
    kiosk-admin export attendance --from 2026-09-01 > autumn.csv
    kiosk-admin doctor                       # ok|warn|fail lines; exit 1 if any check fails
    kiosk-admin backup create                # also: backup list, backup restore NAME [--force]
    kiosk-admin --config /etc/doorstep/kiosk.toml config check

``--config FILE`` (else ``$KIOSK_CONFIG``, else ``/etc/doorstep/kiosk.toml`` if it exists) gives
the data folder when neither ``--data`` nor ``$KIOSK_DATA`` does, and the settings ``doctor``,
``backup``, ``config check`` and ``reader test`` use (the reader's wiring is the one the kiosk
app opens). The appliance commands live in ``kiosk.doctor``,
``kiosk.backup`` and ``kiosk.config``; they run without opening the store first, so they work
(and say what is wrong) when the store or the configuration does not.

This module is the entry point: ``kiosk.admin_parser`` builds the command line,
``kiosk.admin_commands`` holds the commands over the store (``Admin``) and
``kiosk.admin_appliance`` the appliance's (``Appliance``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from kiosk.admin_appliance import Appliance
from kiosk.admin_commands import Admin
from kiosk.admin_parser import DEFAULT_DATA, build_parser
from kiosk.domain.errors import KioskError, RiskListError
from kiosk.domain.events import DeviceIdentity
from kiosk.pipes import quiet_when_stdout_closes


def _installed_config(explicit: str | None, data_given: bool) -> Any:
    """The configuration file when one is given or installed (else None).

    It gives the data folder when neither ``--data`` nor ``$KIOSK_DATA`` does, so then a bad
    file stops the command with its message; with the folder given, a bad file only means the
    configured ``[device]`` cannot name the kiosk before its first start.
    """
    from kiosk.config import ConfigError, config_path, load_config

    path = config_path(explicit)
    if not (explicit or os.environ.get("KIOSK_CONFIG") or path.exists()):
        return None
    if not data_given:
        return load_config(path)
    try:
        return load_config(path)
    except ConfigError:
        return None


#: The commands that only look: they open the store read-only and never write the data folder
#: (so they work on a full disk or a read-only mount), and are not audited.
READING_COMMANDS = frozenset(
    {
        Admin.risk_show,
        Admin.risk_check,
        Admin.risk_history,
        Admin.family_list,
        Admin.session_list,
        Admin.export_attendance,
        Admin.status,
        Admin.rejected_list,
        Admin.volunteer_list,
        Admin.reader_test,
    }
)


def reads_only(args: argparse.Namespace) -> bool:
    """Whether the command only reads: a reading command, or an import's ``--dry-run``."""
    return args.run in READING_COMMANDS or bool(getattr(args, "dry_run", False))


def _audit(data: Path, args: argparse.Namespace) -> None:
    """Log a command that changed something (``kiosk.audit``; never dry runs or reads)."""
    from kiosk.audit import record_admin_command

    record_admin_command(data, args)


@quiet_when_stdout_closes
def main(
    argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    args = build_parser().parse_args(argv)
    try:
        if getattr(args, "appliance", None) is not None:
            appliance = Appliance(args, out, err)
            done = args.appliance(appliance)
            if done == 0 and args.command == "backup":
                _audit(appliance.data(), args)
            return done
        given = args.data or os.environ.get("KIOSK_DATA")
        config = _installed_config(args.config, data_given=bool(given))
        data = Path(given or (config.store.data if config else DEFAULT_DATA))
        configured = DeviceIdentity(config.device.id, config.device.site) if config else None
        read_only = reads_only(args)
        admin = Admin(data, out, err, read_only=read_only, configured=configured)
        done = args.run(admin, args)
        if done == 0 and not read_only:
            _audit(data, args)
        return done
    except RiskListError as exc:
        for number, message in exc.problems:
            print(f"{exc.source}: line {number}: {message}", file=err)
        return 1
    except KioskError as exc:
        print(f"kiosk-admin: {exc}", file=err)
        return 1
    except PermissionError as exc:
        print(f"kiosk-admin: no permission for {exc.filename}: run as the kiosk user", file=err)
        return 1


if __name__ == "__main__":
    sys.exit(main())
