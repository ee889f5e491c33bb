"""``kiosk-admin``'s commands over the kiosk's store: risk list, families and cards, sessions,
taps and sign-ins, export, status, enrolment, rejected events, volunteers and the reader test.

``kiosk.admin`` parses the command line (``kiosk.admin_parser``) and runs them; the appliance's
own commands, which run without the store, are ``kiosk.admin_appliance``.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TextIO

from kiosk.cli_io import read_text
from kiosk.clock import clock_is_synchronised
from kiosk.domain.desk import KIOSK_TZ, DoorDesk
from kiosk.domain.errors import ValidationError
from kiosk.domain.events import DeviceIdentity
from kiosk.domain.families import THEMATIC_CRITERIA
from kiosk.domain.postcodes import PostcodeError, parse_postcode
from kiosk.domain.risk import check_change, compare, parse_risk_file
from kiosk.domain.timetable import WEEKDAYS, make_slot, slot_id_for
from kiosk.export import write_attendance_csv
from kiosk.health import assess, read_facts
from kiosk.identity import check_id, is_enrolled, load_identity, save_identity


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
