"""``kiosk-admin``'s appliance commands (doctor, backup, config check, audit): they open what they
need themselves, so they work when the store or the configuration is broken.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any, TextIO


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
