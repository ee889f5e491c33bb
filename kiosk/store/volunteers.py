"""The volunteer book: who may unlock volunteer mode, kept in ``DATA/volunteers.json``.

Only PIN hashes are stored (``kiosk.domain.volunteers``), with the door's lockout state, so a
reboot does not hand out a fresh set of guesses. The admin adds volunteers over SSH
(``kiosk-admin volunteer add NAME``) while the kiosk app is checking PINs, so every change is a
read-modify-write under a file lock, written atomically (temporary file, fsync, rename, fsync of
the folder): a power cut leaves either the old book or the new one, never half of either.

Every PIN tried at the door goes to the kiosk's audit log (``kiosk.audit``): accepted (with
the volunteer's name), refused, or refused because the door is locked. The PIN itself never.

    >>> book = VolunteerBook(tmp_path)                       # doctest: +SKIP
    >>> book.add("Jo", "2468")                               # doctest: +SKIP
    >>> book.check("2468", now=datetime.now(UTC))            # doctest: +SKIP
    'Jo'
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock

from kiosk.audit import KioskAudit
from kiosk.domain.errors import KioskError, NotFoundError, ValidationError
from kiosk.domain.families import clean_name
from kiosk.domain.volunteers import (
    LockedOut,
    LockoutPolicy,
    LockoutState,
    Volunteer,
    check_pin_rules,
    hash_pin,
    verify_pin,
)
from kiosk.store.atomic import atomic_write

VOLUNTEERS_FILE = "volunteers.json"
_FORMAT = 1


def write_json_atomically(path: Path, data: Any) -> None:
    """Replace ``path`` with ``data`` as JSON, private to the kiosk's user (``atomic_write``)."""
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    atomic_write(path, text.encode("utf-8"), mode=0o600)


class VolunteerBook:
    """Volunteers and their PIN hashes in one data folder, and the door's PIN lockout."""

    def __init__(
        self,
        data_dir: Path | str,
        policy: LockoutPolicy | None = None,
        audit: KioskAudit | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / VOLUNTEERS_FILE
        self.policy = policy or LockoutPolicy()
        self._lock = FileLock(str(self.path) + ".lock", timeout=10)
        self.audit = audit or KioskAudit(self.data_dir)

    # -- file ---------------------------------------------------------------------------------
    def _read(self) -> tuple[list[Volunteer], LockoutState]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return [], LockoutState()
        except (OSError, ValueError) as exc:
            raise KioskError(
                f"{self.path}: the volunteer list cannot be read ({exc}); restore it from a "
                "backup or remove it and add the volunteers again"
            ) from exc
        try:
            volunteers = [Volunteer.from_dict(v) for v in raw.get("volunteers", [])]
            lockout = LockoutState.from_dict(raw.get("lockout"))
        except (KeyError, TypeError, ValueError) as exc:
            raise KioskError(f"{self.path}: not a valid volunteer list ({exc!r})") from exc
        return volunteers, lockout

    def _write(self, volunteers: list[Volunteer], lockout: LockoutState) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        write_json_atomically(
            self.path,
            {
                "format": _FORMAT,
                "volunteers": [v.to_dict() for v in volunteers],
                "lockout": lockout.to_dict(),
            },
        )

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self._lock:
            yield

    # -- the admin's verbs --------------------------------------------------------------------
    def add(self, name: str, pin: str, now: datetime | None = None) -> Volunteer:
        """Add a volunteer with a PIN of 4 to 8 digits that no other volunteer uses."""
        name = clean_name(name, "volunteer name")
        check_pin_rules(pin)
        with self._locked():
            volunteers, lockout = self._read()
            same = next((v for v in volunteers if v.name.casefold() == name.casefold()), None)
            if same is not None:
                raise ValidationError(
                    f"there is already a volunteer called {same.name}; remove them first to "
                    "change their PIN"
                )
            # The PIN alone says who is unlocking, so two volunteers may not share one.
            if any(verify_pin(pin, v.pin_hash) for v in volunteers):
                raise ValidationError("another volunteer already uses that PIN: choose another")
            volunteer = Volunteer(name, hash_pin(pin), now or datetime.now(UTC))
            self._write([*volunteers, volunteer], lockout)
        return volunteer

    def remove(self, name: str) -> None:
        wanted = " ".join(name.split()).casefold()
        with self._locked():
            volunteers, lockout = self._read()
            kept = [v for v in volunteers if v.name.casefold() != wanted]
            if len(kept) == len(volunteers):
                raise NotFoundError(
                    f"no volunteer called {name!r} (volunteers: "
                    f"{', '.join(v.name for v in volunteers) or 'none'})"
                )
            self._write(kept, lockout)

    def names(self) -> list[str]:
        volunteers, _ = self._read()
        return sorted((v.name for v in volunteers), key=str.casefold)

    # -- the door -----------------------------------------------------------------------------
    def lockout(self) -> LockoutState:
        return self._read()[1]

    def check(self, pin: str, now: datetime) -> str | None:
        """The name of the volunteer whose PIN this is, or None for a wrong PIN.

        Raises ``LockedOut`` while the door is locked, and on the wrong PIN that locks it.
        Each answer is written to the audit log.
        """
        try:
            name = self._check(pin, now)
        except LockedOut as exc:
            self.audit.record(
                "unknown", "volunteer.pin_locked", "", {"locked_until": exc.until.isoformat()}
            )
            raise
        if name is None:
            self.audit.record(
                "unknown", "volunteer.pin_refused", "", {"tries_left": self.tries_left()}
            )
        else:
            self.audit.record(name, "volunteer.pin_ok", name)
        return name

    def _check(self, pin: str, now: datetime) -> str | None:
        with self._locked():
            volunteers, lockout = self._read()
            if lockout.is_locked(now):
                assert lockout.locked_until is not None
                raise LockedOut(lockout.locked_until, now)
            match = next((v for v in volunteers if verify_pin(pin, v.pin_hash)), None)
            if match is not None:
                if lockout != LockoutState():
                    self._write(volunteers, lockout.after_success())
                return match.name
            lockout = lockout.after_failure(now, self.policy)
            self._write(volunteers, lockout)
            if lockout.is_locked(now):
                assert lockout.locked_until is not None
                raise LockedOut(lockout.locked_until, now)
            return None

    def tries_left(self) -> int:
        return self.lockout().tries_left(self.policy)

    def unlock(self) -> LockoutState:
        """Lift the PIN lock and forget the wrong PINs (``kiosk-admin volunteer unlock``).

        Returns the state as it was. The running app reads the file at every PIN and while it
        shows the lock, so this takes effect at once, without a restart.
        """
        with self._locked():
            volunteers, lockout = self._read()
            if lockout != LockoutState():
                self._write(volunteers, LockoutState())
        return lockout
