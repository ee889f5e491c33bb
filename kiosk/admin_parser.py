"""``kiosk-admin``'s command line: every command, its options and which method runs it.

Command names and options are a contract (acceptance scripts use them): keep them.
"""

from __future__ import annotations

import argparse

from kiosk.admin_appliance import Appliance
from kiosk.admin_commands import Admin
from kiosk.domain.families import THEMATIC_CRITERIA
from kiosk.domain.risk import add_guard_arguments
from kiosk.domain.timetable import add_session_arguments
from kiosk.hardware.select import READER_KINDS

DEFAULT_DATA = "/var/lib/doorstep"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiosk-admin",
        description="Look after a Doorstep check-in kiosk: risk postcodes, families and cards, "
        "sessions, volunteers, status and export.",
    )
    parser.add_argument(
        "--data",
        default=None,
        help=f"the kiosk's data folder (default: $KIOSK_DATA, else {DEFAULT_DATA})",
    )
    parser.add_argument(
        "--config",
        default=None,
        metavar="FILE",
        help="the appliance's configuration (default: $KIOSK_CONFIG, else "
        "/etc/doorstep/kiosk.toml when it exists)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def group(name: str, help_: str) -> argparse._SubParsersAction:
        p = sub.add_parser(name, help=help_)
        return p.add_subparsers(dest="action", required=True, metavar="ACTION")

    risk = group("risk", "the risk postcode list")
    p = risk.add_parser("import", help="replace the list from a text or CSV file")
    p.add_argument("file")
    p.add_argument("--dry-run", action="store_true", help="report the changes, save nothing")
    p.add_argument("--skip-invalid", action="store_true", help="import the valid lines only")
    add_guard_arguments(p)
    p.set_defaults(run=Admin.risk_import)
    p = risk.add_parser(
        "import-lsoa",
        help="replace the list with the postcodes of England's most deprived LSOAs, from the "
        "ONS Postcode Directory and the English IMD",
    )
    from kiosk.lsoa_import import add_lsoa_arguments

    add_lsoa_arguments(p)
    p.set_defaults(run=Admin.risk_import_lsoa)
    risk.add_parser("show", help="print the current list").set_defaults(run=Admin.risk_show)
    p = risk.add_parser("check", help="is a postcode in the list?")
    p.add_argument("postcode")
    p.set_defaults(run=Admin.risk_check)
    risk.add_parser("history", help="every version imported").set_defaults(run=Admin.risk_history)

    family = group("family", "member families")
    p = family.add_parser("add", help="register a family; prints its id")
    p.add_argument("--name", required=True, help="the name the family is greeted by")
    p.add_argument("--postcode", required=True)
    p.add_argument("--child", action="append", metavar="NAME[:YYYY-MM]")
    p.add_argument("--card", metavar="UID")
    p.add_argument("--adults", type=int, default=1)
    p.add_argument("--heard-from", metavar="HOW")
    p.add_argument("--consent", action="store_true", help="the family consented to criteria")
    for crit in THEMATIC_CRITERIA:
        p.add_argument("--" + crit.replace("_", "-"), dest=crit, action="store_true")
    p.set_defaults(run=Admin.family_add)
    family.add_parser("list", help="every family on this kiosk").set_defaults(run=Admin.family_list)

    card = group("card", "membership cards")
    p = card.add_parser("assign", help="give a card to a family")
    p.add_argument("uid")
    p.add_argument("family_id")
    p.set_defaults(run=Admin.card_assign)
    p = card.add_parser("revoke", help="stop a card from working")
    p.add_argument("uid")
    p.set_defaults(run=Admin.card_revoke)

    session = group("session", "the timetable")
    p = session.add_parser("add", help="add a weekly or one-off session")
    add_session_arguments(p)
    p.set_defaults(run=Admin.session_add)
    session.add_parser("list", help="the timetable").set_defaults(run=Admin.session_list)
    p = session.add_parser("remove", help="remove a session by id")
    p.add_argument("slot_id")
    p.set_defaults(run=Admin.session_remove)

    p = sub.add_parser("tap", help="record a card tap exactly as the kiosk would")
    p.add_argument("uid")
    p.add_argument("--at", help="ISO-8601 time (local time if no zone); default now")
    p.set_defaults(run=Admin.tap)
    p = sub.add_parser("sign-in", help="sign a family in by hand, as a volunteer would")
    p.add_argument("family_id")
    p.add_argument("--child", action="append", metavar="NAME")
    p.add_argument("--at")
    p.add_argument("--volunteer", required=True)
    p.set_defaults(run=Admin.sign_in)

    export = group("export", "export records as CSV on stdout")
    p = export.add_parser("attendance", help="one row per child per attendance")
    p.add_argument("--from", dest="date_from", metavar="DATE")
    p.add_argument("--to", dest="date_to", metavar="DATE")
    p.set_defaults(run=Admin.export_attendance)

    sub.add_parser("status", help="key: value lines about this kiosk").set_defaults(
        run=Admin.status
    )
    p = sub.add_parser(
        "enrol",
        help="set this kiosk's device and site ids; with --endpoint and --token-file also "
        "set it up from the server (roster, timetable, risk list, seq numbers)",
    )
    p.add_argument("--device", required=True)
    p.add_argument("--site", required=True)
    p.add_argument("--endpoint", metavar="URL", help="the central server (https)")
    p.add_argument("--token-file", metavar="FILE", help="this kiosk's device token")
    p.add_argument("--ca-file", metavar="FILE", help="trust this CA bundle (PEM)")
    p.set_defaults(run=Admin.enrol)

    rejected = group("rejected", "events the server refused: why, and sending them again")
    rejected.add_parser("list", help="each refused event with the server's reason").set_defaults(
        run=Admin.rejected_list
    )
    p = rejected.add_parser("retry", help="send refused events again (after fixing the cause)")
    p.add_argument("event_ids", nargs="*", metavar="EVENT_ID")
    p.add_argument("--all", action="store_true", help="every refused event")
    p.set_defaults(run=Admin.rejected_retry)
    p = rejected.add_parser(
        "keep-server",
        help="settle events in conflict (the server holds another copy): the server's stands",
    )
    p.add_argument("event_ids", nargs="+", metavar="EVENT_ID")
    p.set_defaults(run=Admin.rejected_keep_server)

    volunteer = group("volunteer", "volunteers who may unlock volunteer mode")
    p = volunteer.add_parser("add", help="add a volunteer; the PIN is read from stdin")
    p.add_argument("name")
    p.add_argument("--pin", help="the PIN (avoid: it stays in shell history); default stdin")
    p.set_defaults(run=Admin.volunteer_add)
    volunteer.add_parser("list").set_defaults(run=Admin.volunteer_list)
    p = volunteer.add_parser("remove")
    p.add_argument("name")
    p.set_defaults(run=Admin.volunteer_remove)
    volunteer.add_parser(
        "unlock", help="lift the lock after too many wrong PINs (works while the kiosk runs)"
    ).set_defaults(run=Admin.volunteer_unlock)

    reader = group("reader", "the card reader")
    p = reader.add_parser("test", help="wait for a tap and print the card's UID")
    p.add_argument(
        "--reader",
        choices=READER_KINDS,
        default=None,
        help="the kind of reader (default: the config's [reader] kind, else rc522); its wiring "
        "is the config's",
    )
    p.add_argument(
        "--usb-device",
        help="input device path or name (USB readers; default: the config's [reader] usb_device)",
    )
    p.add_argument("--timeout", type=float, default=30.0)
    p.set_defaults(run=Admin.reader_test)

    p = sub.add_parser(
        "doctor", help="check the box (reader, clock, disk, store, server) and say what to fix"
    )
    p.add_argument(
        "--self-check",
        action="store_true",
        help="only check that this release's code and the config load (used by update.sh)",
    )
    p.set_defaults(appliance=Appliance.doctor)

    backup = group("backup", "backups of the data folder")
    p = backup.add_parser("create", help="back the data folder up now")
    p.add_argument("--to", metavar="DIR", help="backup folder (default: [backup] folder)")
    p.add_argument("--no-prune", action="store_true", help="keep old backups this time")
    p.set_defaults(appliance=Appliance.backup_create)
    p = backup.add_parser("list", help="the backups, oldest first")
    p.add_argument("--in", dest="folder", metavar="DIR", help="backup folder")
    p.set_defaults(appliance=Appliance.backup_list)
    p = backup.add_parser("restore", help="put a backup back (stop the kiosk units first)")
    p.add_argument("name", help="a name from backup list, or a backup file's path")
    p.add_argument("--in", dest="folder", metavar="DIR", help="backup folder")
    p.add_argument(
        "--force",
        action="store_true",
        help="restore even though newer events exist: they are merged into the restored store",
    )
    p.set_defaults(appliance=Appliance.backup_restore)

    config = group("config", "the appliance's configuration file")
    config.add_parser("check", help="check every key and print what it sets").set_defaults(
        appliance=Appliance.config_check
    )

    audit = group("audit", "who did what on this kiosk (DATA/audit.jsonl)")
    audit.add_parser("show", help="every line, oldest first").set_defaults(
        appliance=Appliance.audit_show
    )
    p = audit.add_parser("verify", help="check the hash chain; exit 1 at the first broken line")
    p.set_defaults(appliance=Appliance.audit_verify)
    return parser
