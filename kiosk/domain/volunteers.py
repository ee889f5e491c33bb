"""Volunteer PINs: the rules, the hashing, and the lockout, in pure Python.

A volunteer unlocks volunteer mode at the door with a PIN of 4 to 8 digits. PINs are never stored:
only a salted scrypt hash is (``scrypt$n$r$p$salt$hash``, parameters kept with each hash so they
can be raised later without breaking old ones), made by ``kiosk.domain.passwords``, the one
module that hashes PINs and dashboard passwords. A PIN has few possible values, so the hash alone
would not stop someone who copied the file; what protects the door is the lockout: after
``max_failures`` wrong PINs in a row the kiosk refuses every PIN for ``lock_for``.

The lockout is a value (``LockoutState``) stepped by pure methods with the time passed in, as
urllib3's ``Retry`` is, so tests step it without sleeping. ``kiosk.store.volunteers`` persists
the hashes and the state.

    >>> policy = LockoutPolicy(max_failures=2, lock_for=timedelta(minutes=5))
    >>> t = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    >>> state = LockoutState().after_failure(t, policy).after_failure(t, policy)
    >>> state.is_locked(t), state.is_locked(t + timedelta(minutes=5))
    (True, False)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from kiosk.domain.errors import KioskError, ValidationError
from kiosk.domain.passwords import PIN_SCRYPT, ScryptCost, hash_scrypt, verify_scrypt

PIN_MIN_DIGITS = 4
PIN_MAX_DIGITS = 8


class PinError(ValidationError):
    """A PIN that breaks the rules (not 4 to 8 digits)."""


class LockedOut(KioskError):
    """Too many wrong PINs: volunteer mode is locked until ``until``."""

    def __init__(self, until: datetime, now: datetime | None = None) -> None:
        self.until = until
        self.now = now
        super().__init__(f"too many wrong PINs: try again {self.plain_wait()}")

    def remaining(self, now: datetime | None = None) -> timedelta:
        now = now or self.now or datetime.now(UTC)
        return max(self.until - now, timedelta(0))

    def plain_wait(self, now: datetime | None = None) -> str:
        """``in 5 minutes`` / ``in 1 minute`` / ``in a moment``, for the person at the door."""
        seconds = self.remaining(now).total_seconds()
        minutes = int(-(-seconds // 60))  # round up: never promise less time than is left
        if minutes <= 0:
            return "in a moment"
        return f"in {minutes} minute" + ("" if minutes == 1 else "s")


def check_pin_rules(pin: str) -> str:
    """``pin`` if it is 4 to 8 digits, else a ``PinError`` saying what a PIN must be."""
    if not isinstance(pin, str):
        raise PinError("a PIN must be text made of digits")
    if not pin.isascii() or not pin.isdigit():
        raise PinError("a PIN may only contain the digits 0 to 9")
    if not PIN_MIN_DIGITS <= len(pin) <= PIN_MAX_DIGITS:
        raise PinError(
            f"a PIN must have {PIN_MIN_DIGITS} to {PIN_MAX_DIGITS} digits, not {len(pin)}"
        )
    return pin


def hash_pin(
    pin: str,
    *,
    salt: bytes | None = None,
    n: int = PIN_SCRYPT.n,
    r: int = PIN_SCRYPT.r,
    p: int = PIN_SCRYPT.p,
) -> str:
    """A salted scrypt hash of a PIN that keeps the rules: ``scrypt$n$r$p$salt$hash`` (base64),
    made by ``kiosk.domain.passwords`` with the Pi's cost."""
    check_pin_rules(pin)
    return hash_scrypt(pin, salt=salt, cost=ScryptCost(n, r, p))


def verify_pin(pin: str, stored: str) -> bool:
    """Whether ``pin`` matches ``stored`` (a ``hash_pin`` string); False for anything malformed."""
    try:
        check_pin_rules(pin)
    except PinError:
        return False
    return verify_scrypt(pin, stored)


@dataclass(frozen=True)
class LockoutPolicy:
    """How many wrong PINs in a row lock volunteer mode, and for how long."""

    max_failures: int = 5
    lock_for: timedelta = timedelta(minutes=5)

    def __post_init__(self) -> None:
        if self.max_failures < 1:
            raise ValueError("max_failures must be at least 1")
        if self.lock_for <= timedelta(0):
            raise ValueError("lock_for must be a positive time")


@dataclass(frozen=True)
class LockoutState:
    """Wrong PINs in a row and when a lock (if any) ends. Immutable: each step returns a new one."""

    failures: int = 0
    locked_until: datetime | None = None

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    def after_failure(self, now: datetime, policy: LockoutPolicy) -> LockoutState:
        """The state after one more wrong PIN at ``now``: locked once the limit is reached."""
        if self.is_locked(now):
            return self
        # A lock that has run out gives a fresh set of tries.
        failures = 1 if self.locked_until is not None else self.failures + 1
        if failures >= policy.max_failures:
            return LockoutState(failures=0, locked_until=now + policy.lock_for)
        return LockoutState(failures=failures, locked_until=None)

    def after_success(self) -> LockoutState:
        return LockoutState()

    def tries_left(self, policy: LockoutPolicy) -> int:
        return max(policy.max_failures - self.failures, 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "failures": self.failures,
            "locked_until": self.locked_until.isoformat() if self.locked_until else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> LockoutState:
        if not data:
            return cls()
        until = data.get("locked_until")
        return cls(
            failures=int(data.get("failures", 0)),
            locked_until=datetime.fromisoformat(until) if until else None,
        )


@dataclass(frozen=True)
class Volunteer:
    """A volunteer who may unlock volunteer mode: a name and the hash of their PIN."""

    name: str
    pin_hash: str
    added_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "pin_hash": self.pin_hash,
            "added_at": self.added_at.isoformat() if self.added_at else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Volunteer:
        added = data.get("added_at")
        return cls(
            name=data["name"],
            pin_hash=data["pin_hash"],
            added_at=datetime.fromisoformat(added) if added else None,
        )
