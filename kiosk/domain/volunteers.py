"""Volunteer PINs: the rules, the hashing, and the lockout, in pure Python.

A volunteer unlocks volunteer mode at the door with a PIN of 4 to 8 digits. PINs are never stored:
only a salted scrypt hash is (``scrypt$n$r$p$salt$hash``, parameters kept with each hash so they
can be raised later without breaking old ones). A PIN has few possible values, so the hash alone
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

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from kiosk.domain.errors import KioskError, ValidationError

PIN_MIN_DIGITS = 4
PIN_MAX_DIGITS = 8

#: scrypt cost: 2**13 x 8 x 128 bytes = 8 MiB and a few tens of milliseconds on a Raspberry Pi 4
#: per PIN tried. The PIN space is small, so this slows a copied file down without making the
#: door slow; the lockout is the real defence.
SCRYPT_N = 2**13
SCRYPT_R = 8
SCRYPT_P = 1
_SALT_BYTES = 16
_HASH_BYTES = 32
_SCHEME = "scrypt"


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


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_pin(
    pin: str,
    *,
    salt: bytes | None = None,
    n: int = SCRYPT_N,
    r: int = SCRYPT_R,
    p: int = SCRYPT_P,
) -> str:
    """A salted scrypt hash of ``pin`` as one string: ``scrypt$n$r$p$salt$hash`` (base64)."""
    check_pin_rules(pin)
    salt = secrets.token_bytes(_SALT_BYTES) if salt is None else salt
    digest = hashlib.scrypt(
        pin.encode("ascii"), salt=salt, n=n, r=r, p=p, dklen=_HASH_BYTES, maxmem=64 * 2**20
    )
    return "$".join((_SCHEME, str(n), str(r), str(p), _b64(salt), _b64(digest)))


def verify_pin(pin: str, stored: str) -> bool:
    """Whether ``pin`` matches ``stored`` (a ``hash_pin`` string); False for anything malformed."""
    try:
        scheme, n, r, p, salt_b64, digest_b64 = stored.split("$")
        if scheme != _SCHEME:
            return False
        check_pin_rules(pin)
        salt = base64.b64decode(salt_b64, validate=True)
        expected = base64.b64decode(digest_b64, validate=True)
        actual = hashlib.scrypt(
            pin.encode("ascii"),
            salt=salt,
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
            maxmem=64 * 2**20,
        )
    except (ValueError, TypeError, AttributeError):
        return False
    return hmac.compare_digest(actual, expected)


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
