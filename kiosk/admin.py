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
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TextIO

from kiosk.cli_io import read_text
from kiosk.clock import clock_is_synchronised
from kiosk.domain.desk import KIOSK_TZ, DoorDesk
from kiosk.domain.errors import KioskError, RiskListError, ValidationError
from kiosk.domain.events import DeviceIdentity
from kiosk.domain.families import THEMATIC_CRITERIA
from kiosk.domain.postcodes import PostcodeError, parse_postcode
from kiosk.domain.risk import add_guard_arguments, check_change, compare, parse_risk_file
from kiosk.domain.timetable import WEEKDAYS, add_session_arguments, make_slot, slot_id_for
from kiosk.export import write_attendance_csv
from kiosk.hardware.select import READER_KINDS
from kiosk.health import assess, read_facts
from kiosk.identity import check_id, is_enrolled, load_identity, save_identity
from kiosk.pipes import quiet_when_stdout_closes

DEFAULT_DATA = "/var/lib/doorstep"


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


def parse_at(text: str | None) -> datetime:
    """``--at`` value: ISO-8601; without a zone it is the kiosk's local time (Europe/London)."""
    if text is None:
        return datetime.now(UTC)
    try:
        at = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(
            f"--at {text!r} must be an ISO-8601 time like 2026-11-23T10:05"
        ) from None
    at = at.replace(tzinfo=KIOSK_TZ) if at.tzinfo is None else at
    try:  # events are stored in UTC and sessions found in local time: both must exist
        at.astimezone(UTC), at.astimezone(KIOSK_TZ)
    except OverflowError:
        raise ValidationError(
            f"--at {text!r} is out of range: give a time like 2026-11-23T10:05"
        ) from None
    return at


def parse_day(text: str | None, flag: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"{flag} {text!r} must be a date like 2026-09-01") from None


class Admin:
    """The commands, over one store opened on the data folder.

    ``read_only``: the command only looks (:func:`reads_only`), so the store is opened for
    reading and nothing in the data folder is created or changed: it works on a full disk.
    ``configured``: the identity kiosk.toml names, used before the first start.
    """

    def __init__(
        self,
        data: Path,
        out: TextIO,
        err: TextIO,
        read_only: bool = False,
        configured: DeviceIdentity | None = None,
    ) -> None:
        from kiosk.store import LocalStore

        self.data = data
        self.out = out
        self.err = err
        if not read_only:
            data.mkdir(parents=True, exist_ok=True)
        self.store = LocalStore(data, read_only=read_only)
        # Before the first start (no device.json yet) the kiosk is what kiosk.toml names it.
        self.identity = load_identity(data, configured)

    def desk(self, explicit_time: bool = False) -> DoorDesk:
        # A time typed by the admin is stated, not read from an unsynchronised clock.
        synced = (lambda: True) if explicit_time else clock_is_synchronised
        return DoorDesk(self.store, self.identity, clock_synced=synced)

    def say(self, text: str = "") -> None:
        print(text, file=self.out)

    # -- risk -------------------------------------------------------------------------------
    def risk_import(self, args: argparse.Namespace) -> int:
        path = Path(args.file)
        parsed = parse_risk_file(read_text(path), source=str(path))
        if parsed.problems:
            for number, message in parsed.problems:
                print(f"{path}: line {number}: {message}", file=self.err)
            if not args.skip_invalid:
                print(
                    f"{path}: {len(parsed.problems)} invalid line(s); the risk list is unchanged "
                    "(fix them, or use --skip-invalid to import the valid lines)",
                    file=self.err,
                )
                return 1
        current = self.store.risk_list()
        change = compare(current, parsed.areas)
        check_change(
            change, path.name, allow_empty=args.allow_empty, allow_shrink=args.allow_shrink
        )
        self.say(f"added: {len(change.added)}")
        self.say(f"removed: {len(change.removed)}")
        self.say(f"unchanged: {len(change.unchanged)}")
        if parsed.problems:
            self.say(f"skipped: {len(parsed.problems)}")
        if args.dry_run:
            self.say("dry run: the risk list is unchanged")
            return 0
        saved = self.store.save_risk_list(parsed.areas, path.name, datetime.now(UTC))
        self.say(f"version: {saved.version}")
        return 0

    def risk_import_lsoa(self, args: argparse.Namespace) -> int:
        """The list from official data (``kiosk.lsoa_import``); prints key: value lines."""
        from kiosk.domain.lsoa import LsoaDataError
        from kiosk.lsoa_import import (
            bad_line_messages,
            build_from_args,
            empty_detail,
            report_lines,
            save_lsoa_risk_list,
        )

        try:
            result = build_from_args(args, self.err)
        except LsoaDataError as exc:
            for line in bad_line_messages(exc.source, exc.problems, exc.count):
                print(line, file=self.err)
            print(
                f"{exc.source}: {exc.count} invalid line(s); the risk list is unchanged (fix "
                "them, or use --skip-invalid to import the valid lines)",
                file=self.err,
            )
            return 1
        chosen = result.postcodes
        for line in bad_line_messages(chosen.source, chosen.problems, chosen.skipped):
            print(f"{line} (skipped)", file=self.err)
        for line in report_lines(result, args.verbose):
            self.say(line)
        change = compare(self.store.risk_list(), result.areas)
        check_change(
            change,
            result.source,
            allow_empty=args.allow_empty,
            allow_shrink=args.allow_shrink,
            detail=empty_detail(result),
        )
        self.say(f"added: {len(change.added)}")
        self.say(f"removed: {len(change.removed)}")
        self.say(f"unchanged: {len(change.unchanged)}")
        if args.dry_run:
            self.say("dry run: the risk list is unchanged")
            return 0
        saved = save_lsoa_risk_list(self.store, result, datetime.now(UTC))
        self.say(f"version: {saved.version}")
        return 0

    def risk_show(self, args: argparse.Namespace) -> int:
        risk = self.store.risk_list()
        self.say(f"# risk list {risk.version} ({len(risk.areas)} entries)")
        for area in sorted(risk.areas, key=lambda a: (a.kind, a.value)):
            self.say(f"{area.value}\t{area.kind}")
        return 0

    def risk_check(self, args: argparse.Namespace) -> int:
        try:
            postcode = str(parse_postcode(args.postcode))
        except PostcodeError as exc:
            raise ValidationError(str(exc)) from exc
        risk = self.store.risk_list()
        match = risk.match(postcode)
        if match:
            self.say(f"{postcode}: in the risk list (matched by {match}) [{risk.version}]")
        else:
            self.say(f"{postcode}: not in the risk list [{risk.version}]")
        return 0

    def risk_history(self, args: argparse.Namespace) -> int:
        for version in self.store.risk_history():
            self.say(version.history_line())
        return 0

    # -- families and cards -----------------------------------------------------------------
    def family_add(self, args: argparse.Namespace) -> int:
        children = []
        for spec in args.child or ():
            name, _, born = spec.partition(":")
            children.append((name, born or None))
        criteria = [c for c in THEMATIC_CRITERIA if getattr(args, c)]
        family = self.desk().register_family(
            args.name,
            args.postcode,
            children,
            datetime.now(UTC),
            criteria=criteria,
            consent=bool(criteria) or args.consent,
            heard_from=args.heard_from,
            adults=args.adults,
            card_uid=args.card,
            volunteer="admin",
        )
        self.say(family.family_id)
        return 0

    def family_list(self, args: argparse.Namespace) -> int:
        for family in sorted(self.store.families(), key=lambda f: f.greeting_name.casefold()):
            kids = ", ".join(c.first_name for c in family.children)
            self.say(f"{family.family_id}\t{family.greeting_name}\t{family.postcode}\t{kids}")
        return 0

    def card_assign(self, args: argparse.Namespace) -> int:
        card = self.desk().assign_card(args.uid, args.family_id, datetime.now(UTC), "admin")
        self.say(f"card {card.uid} assigned to {card.family_id}")
        return 0

    def card_revoke(self, args: argparse.Namespace) -> int:
        card = self.desk().revoke_card(args.uid, datetime.now(UTC), "admin")
        self.say(f"card {card.uid} revoked (was {card.family_id})")
        return 0

    # -- sessions ---------------------------------------------------------------------------
    def session_add(self, args: argparse.Namespace) -> int:
        timetable = self.store.timetable()
        taken = {s.slot_id for s in timetable.slots}
        slot_id = slot_id_for(args.name, args.weekday, args.date, taken)
        slot = make_slot(slot_id, args.name, args.start, args.end, args.weekday, args.date)
        self.store.save_timetable(timetable.add(slot))
        self.say(f"added {slot.slot_id}: {slot.describe()}")
        return 0

    def session_list(self, args: argparse.Namespace) -> int:
        for slot in sorted(
            self.store.timetable().slots,
            key=lambda s: (s.on_date or date.min, s.weekday or 0, s.start),
        ):
            when = slot.on_date.isoformat() if slot.on_date else WEEKDAYS[slot.weekday or 0]
            self.say(f"{slot.slot_id}\t{slot.name}\t{when}\t{slot.start:%H:%M}-{slot.end:%H:%M}")
        return 0

    def session_remove(self, args: argparse.Namespace) -> int:
        self.store.save_timetable(self.store.timetable().remove(args.slot_id))
        self.say(f"removed {args.slot_id}")
        return 0

    # -- the door ---------------------------------------------------------------------------
    def tap(self, args: argparse.Namespace) -> int:
        outcome = self.desk(explicit_time=args.at is not None).tap(args.uid, parse_at(args.at))
        self.say(outcome.describe())
        return 0

    def sign_in(self, args: argparse.Namespace) -> int:
        outcome = self.desk(explicit_time=args.at is not None).sign_in(
            args.family_id, args.child or None, args.volunteer, parse_at(args.at)
        )
        self.say(outcome.describe())
        return 0

    def export_attendance(self, args: argparse.Namespace) -> int:
        since = parse_day(args.date_from, "--from")
        until = parse_day(args.date_to, "--to")
        if since and until and until < since:
            raise ValidationError(f"--to {until} is before --from {since}")
        write_attendance_csv(self.store, self.out, since, until)
        return 0

    # -- the box ----------------------------------------------------------------------------
    def status(self, args: argparse.Namespace) -> int:
        store = self.store
        oldest = store.oldest_waiting()
        now = datetime.now(UTC)
        session = self.desk().session_now(now)
        lines: list[tuple[str, str]] = [
            ("device", self.identity.device_id),
            ("site", self.identity.site_id),
            ("data", str(self.data)),
            ("waiting", str(store.waiting_count())),
            ("oldest_waiting", oldest.at.isoformat() if oldest else "none"),
            ("rejected", str(len(store.rejected()))),
            ("conflicts", str(sum(1 for e in store.rejected() if e.get("kind") == "conflict"))),
            ("risk_version", store.risk_list().version),
            ("families", str(len(store.families()))),
            ("sessions", str(len(store.timetable().slots))),
            ("session_now", session.name if session else "none"),
            ("store_size", str(store.size_bytes())),
            ("clock_synced", "yes" if clock_is_synchronised() else "no"),
        ]
        try:
            from sync.status import sync_status_lines
        except ImportError:
            pass
        else:
            # The contract lines above (e.g. "waiting: N") win over the sync module's own.
            have = {key for key, _ in lines}
            lines.extend((k, v) for k, v in sync_status_lines(store) if k not in have)
        health = assess(read_facts(store, clock_is_synchronised()), now)
        lines.insert(0, ("health", health.line()))
        lines.append(("enrolled", "yes" if is_enrolled(self.data) else "no: kiosk-admin enrol"))
        rehomed = store.sync_state().get("rehomed")
        if isinstance(rehomed, dict):
            was = ", ".join(rehomed.get("from") or []) or "?"
            text = f"{rehomed.get('events', 0)} event(s) from {was} to {rehomed.get('to')}"
            lines.append(("rehomed", f"{text} at {rehomed.get('at')}"))
        for key, value in lines:
            self.say(f"{key}: {value}")
        for problem in health.problems[1:]:
            self.say(f"health_problem: {problem.level}: {problem.what} — {problem.todo}")
        for reason, count in sorted((health.facts.reasons or {}).items()):
            self.say(f"refused: {count} x {reason}")
        for problem in store.problems():
            self.say(f"problem: {problem}")
        return 0

    def enrol(self, args: argparse.Namespace) -> int:
        """Name this kiosk, and with ``--endpoint``/``--token-file`` set it up from the server.

        It either completes or changes nothing: the server is asked whom the token belongs to
        before anything is written, so a wrong token or a wrong name leaves the kiosk as it
        was. Then the identity is saved and every event the server does not hold yet is
        re-homed to it (``LocalStore.rehome``): taps made before enrolment are counted.
        """
        identity = DeviceIdentity(
            check_id(args.device, "device id"), check_id(args.site, "site id")
        )
        if (args.endpoint is None) != (args.token_file is None):
            raise ValidationError("give both --endpoint and --token-file to enrol with the server")
        client, info = None, None
        if args.endpoint is not None:
            from sync.client import SyncClient, SyncError, read_token

            try:
                client = SyncClient(
                    args.endpoint, read_token(args.token_file), ca_file=args.ca_file
                )
                info = client.whoami()
            except SyncError as exc:
                if client is not None:
                    client.close()
                print(f"kiosk-admin: {exc}; nothing was changed", file=self.err)
                return 1
            if (info.device_id, info.site_id) != (identity.device_id, identity.site_id):
                client.close()
                print(
                    f"kiosk-admin: the token in {args.token_file} is device {info.device_id!r} "
                    f"at site {info.site_id!r} of {info.org_id!r} on the server, not "
                    f"{identity.device_id!r} at {identity.site_id!r}; nothing was changed. "
                    f"If this kiosk is {info.device_id}: kiosk-admin enrol --device "
                    f"{info.device_id} --site {info.site_id} --endpoint {args.endpoint} "
                    f"--token-file {args.token_file}; otherwise use this kiosk's own token "
                    f"(kiosk-central device add ORG SITE {identity.device_id})",
                    file=self.err,
                )
                return 1
        save_identity(self.data, identity)
        self.identity = identity
        rehomed = self.store.rehome(identity)
        self.say(f"this kiosk is {identity.device_id} at site {identity.site_id}")
        self.say(f"rehomed: {rehomed.describe()}")
        if client is None:
            return 0
        return self._enrol_with_server(identity, client, info)

    def _enrol_with_server(self, identity: DeviceIdentity, client: Any, info: Any) -> int:
        """A replaced kiosk continues above the seqs the server knows of it, and pulls the
        roster, timetable and risk list, so it is ready for the door."""
        from sync.client import SyncError
        from sync.recovery import enrol_with_server

        try:
            lines = enrol_with_server(
                self.store, client, identity.device_id, identity.site_id, info=info
            )
        except SyncError as exc:
            print(
                f"kiosk-admin: enrolled, but the first sync failed: {exc} "
                "(kiosk-sync will carry on from here)",
                file=self.err,
            )
            return 1
        finally:
            client.close()
        for key, value in lines:
            self.say(f"{key}: {value}")
        return 0 if dict(lines).get("ready") == "yes" else 1

    def rejected_list(self, args: argparse.Namespace) -> int:
        """The events the server refused, with its reasons: one tab-separated line each."""
        for entry in self.store.rejected():
            event = entry["event"]
            self.say(
                f"{event.get('event_id')}\tseq {event.get('seq')}\t{event.get('type')}\t"
                f"{(event.get('data') or {}).get('session', {}).get('key', '-')}\t"
                f"{entry['reason']}" + ("\tconflict" if entry.get("kind") == "conflict" else "")
            )
        return 0

    def rejected_keep_server(self, args: argparse.Namespace) -> int:
        """Settle events in conflict in the server's favour (it holds its copy already)."""
        settled = self.store.keep_server_copy(args.event_ids)
        self.say(
            f"{len(settled)} event(s) in conflict settled: the server's copy stands, and "
            "this kiosk's copy is no longer kept aside"
        )
        return 0

    def rejected_retry(self, args: argparse.Namespace) -> int:
        """Send refused events again, once the cause was put right."""
        if not args.all and not args.event_ids:
            raise ValidationError(
                "name the events to send again (kiosk-admin rejected list), or --all"
            )
        back = self.store.retry_rejected(None if args.all else args.event_ids)
        self.say(f"{len(back)} refused event(s) back in the outbox; kiosk-sync sends them next")
        return 0

    def volunteer_add(self, args: argparse.Namespace) -> int:
        from kiosk.store.volunteers import VolunteerBook

        pin = args.pin if args.pin is not None else sys.stdin.readline().strip()
        VolunteerBook(self.data).add(args.name, pin)
        self.say(f"volunteer {args.name} added")
        return 0

    def volunteer_list(self, args: argparse.Namespace) -> int:
        from kiosk.store.volunteers import VolunteerBook

        for name in VolunteerBook(self.data).names():
            self.say(name)
        return 0

    def volunteer_unlock(self, args: argparse.Namespace) -> int:
        """Lift the lock after too many wrong PINs, without waiting for it to run out."""
        from kiosk.store.volunteers import VolunteerBook

        was = VolunteerBook(self.data).unlock()
        if was.locked_until is not None:
            until = was.locked_until.astimezone().strftime("%Y-%m-%d %H:%M")
            self.say(f"volunteer mode unlocked (the lock was set until {until}): PINs work again")
        elif was.failures:
            self.say(
                f"volunteer mode was not locked; its {was.failures} wrong PIN(s) in a row "
                "are forgotten"
            )
        else:
            self.say("volunteer mode was not locked: nothing to do")
        return 0

    def volunteer_remove(self, args: argparse.Namespace) -> int:
        from kiosk.store.volunteers import VolunteerBook

        VolunteerBook(self.data).remove(args.name)
        self.say(f"volunteer {args.name} removed")
        return 0

    def reader_test(self, args: argparse.Namespace) -> int:
        """Wait for a tap on the reader the kiosk app would open (the config file's), with
        ``--reader`` and ``--usb-device`` on top."""
        import dataclasses

        from kiosk.config import find_config, hardware_settings
        from kiosk.hardware.readertest import reader_test

        config, _feedback = hardware_settings(find_config(args.config), reader=args.reader)
        if args.usb_device:
            config = dataclasses.replace(config, usb_device=args.usb_device)
        return reader_test(config, args.timeout, self.out)


class Appliance:
    """The appliance's commands (doctor, backup, config check): they open what they need
    themselves, so they work when the store or the configuration is broken."""

    def __init__(self, args: argparse.Namespace, out: TextIO, err: TextIO) -> None:
        self.args = args
        self.out = out
        self.err = err

    def say(self, text: str = "") -> None:
        print(text, file=self.out)

    @property
    def config_file(self) -> Path:
        from kiosk.config import config_path

        return config_path(self.args.config)

    def config(self) -> Any:
        from kiosk.config import load_config

        return load_config(self.config_file)

    def data(self) -> Path:
        """``--data``, ``$KIOSK_DATA``, else the config's ``[store] data``."""
        if self.args.data or os.environ.get("KIOSK_DATA"):
            return Path(self.args.data or os.environ["KIOSK_DATA"])
        return self.config().store.data

    def backup_folder(self, explicit: str | None) -> Path:
        if explicit:
            return Path(explicit)
        if self.args.config or os.environ.get("KIOSK_CONFIG") or self.config_file.exists():
            return self.config().backup.folder
        from kiosk.config import DEFAULT_BACKUP_FOLDER

        return DEFAULT_BACKUP_FOLDER

    # -- audit (kiosk.audit) ---------------------------------------------------------------
    def audit_show(self) -> int:
        from kiosk.audit import audit_show

        return audit_show(self.data(), self.out)

    def audit_verify(self) -> int:
        from kiosk.audit import audit_verify

        return audit_verify(self.data(), self.out, self.err)

    # -- doctor -------------------------------------------------------------------------------
    def doctor(self) -> int:
        from kiosk.doctor import exit_status, run_doctor

        config_file: Path | None = self.config_file
        if self.args.self_check and not (
            self.args.config or os.environ.get("KIOSK_CONFIG") or self.config_file.exists()
        ):
            config_file = None  # a release checked before any config is installed
        findings = run_doctor(config_file, self_check_only=self.args.self_check)
        for finding in findings:
            self.say(finding.line())
        return exit_status(findings)

    # -- config -------------------------------------------------------------------------------
    def config_check(self) -> int:
        from kiosk.config import describe

        config = self.config()
        for key, value in describe(config):
            self.say(f"{key}: {value}")
        if config.sync.endpoint:
            problem = config.token_problem()
            if problem:
                self.say(
                    f"warn: [sync] token_file: {problem} — put the token from "
                    "'kiosk-central device add' in it"
                )
        self.say("config ok")
        return 0

    # -- backups ------------------------------------------------------------------------------
    def _keep_days(self) -> int | None:
        if self.args.config or os.environ.get("KIOSK_CONFIG") or self.config_file.exists():
            return self.config().backup.keep_days
        return None

    def backup_create(self) -> int:
        from kiosk.backup import create_backup, prune_backups

        folder = self.backup_folder(self.args.to)
        info = create_backup(self.data(), folder)
        self.say(f"backup: {info.name}")
        self.say(f"file: {info.path}")
        self.say(f"holds: {info.describe()}")
        self.say(f"files: {len(info.files)}, {info.size} bytes")
        keep = None if self.args.no_prune else self._keep_days()
        if keep is not None:
            for old in prune_backups(folder, keep):
                self.say(f"pruned: {old.name} (older than {keep} days)")
        return 0

    def backup_list(self) -> int:
        from kiosk.backup import list_backups

        folder = self.backup_folder(self.args.folder)
        backups, problems = list_backups(folder)
        for info in backups:
            self.say(
                f"{info.name}\t{info.created_at:%Y-%m-%d %H:%M} UTC\tseq up to "
                f"{info.highest_seq}\t{info.events} events\t{info.size} bytes"
            )
        for problem in problems:
            print(f"warning: {problem}", file=self.err)
        if not backups:
            print(f"no backups in {folder}", file=self.err)
        return 0

    def backup_restore(self) -> int:
        from kiosk.backup import restore_backup

        folder = self.backup_folder(self.args.folder)
        report = restore_backup(self.data(), folder, self.args.name, force=self.args.force)
        info = report.backup
        self.say(
            f"restored: {info.name} (taken {info.created_at:%Y-%m-%d %H:%M} UTC, "
            f"seq up to {info.highest_seq})"
        )
        if report.merged:
            from kiosk.backup import span_text

            self.say(
                f"kept: {len(report.merged)} event(s) recorded after the backup "
                f"({span_text(report.merged)}), merged into the restored store; they will be sent"
            )
        if report.pre_restore is not None:
            self.say(f"before: the data as it was is saved as backup {report.pre_restore.name}")
        for rel in report.replaced:
            self.say(f"from the backup: {rel} (the version before is in the pre-restore backup)")
        for note in report.notes:
            self.say(f"note: {note}")
        self.say("next: sudo systemctl start doorstep-kiosk doorstep-sync")
        return 0


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
