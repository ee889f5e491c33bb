"""The one module that hashes and checks what people type to get in: PINs and dashboard passwords.

Two machines, two costs, one set of rules:

- **Volunteer PINs** (the kiosk, a Raspberry Pi) stay on scrypt from the standard library, so
  the Pi needs no compiled package: ``scrypt$n$r$p$salt$hash`` with base64 salt and hash and
  :data:`PIN_SCRYPT`'s cost, sized for a Pi. A PIN has few values, so the lockout in
  ``kiosk.domain.volunteers`` is the real defence; the hash only slows down a copied file.
- **Dashboard passwords** (the central server, never the Pi) are hashed with argon2id through
  argon2-cffi (RFC 9106's low-memory profile, its default). The package is imported only when a
  dashboard password is hashed or checked, so the kiosk never needs it installed.

Every format ever stored still verifies: dashboard passwords written before argon2 were
``scrypt$n$r$p$salt_hex$hash_hex`` (hex, N=2**14). :func:`check_password` says when a stored
hash is due an upgrade (an old scrypt hash, or argon2 parameters below today's), and the
dashboard login then stores a new hash of the password it has just seen
(``central.web.auth.upgrade_password_hash``): users keep their passwords and move to argon2id
the next time they sign in.

A stored hash in no known format never verifies (and never raises): a hand-edited row or a
truncated copy refuses the login instead of failing the request.

    >>> check_password("correct horse", hash_password("correct horse"))
    PasswordCheck(ok=True, needs_rehash=False)
    >>> verify_scrypt("2468", hash_scrypt("2468"))
    True
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the kiosk does not have argon2-cffi; only the server imports it, lazily
    from argon2 import PasswordHasher

log = logging.getLogger("kiosk.domain.passwords")


@dataclass(frozen=True)
class ScryptCost:
    """scrypt's cost parameters: memory is 128 x ``n`` x ``r`` bytes."""

    n: int
    r: int = 8
    p: int = 1


#: PINs: 2**13 x 8 x 128 bytes = 8 MiB and a few tens of milliseconds on a Raspberry Pi 4 per
#: PIN tried. The PIN space is small, so this slows a copied file down without making the door
#: slow; the lockout is the real defence.
PIN_SCRYPT = ScryptCost(n=2**13)
#: What dashboard passwords were hashed with before argon2id: verified, never written.
LEGACY_PASSWORD_SCRYPT = ScryptCost(n=2**14)
#: The most memory a stored scrypt hash may ask for: a hand-edited ``n`` cannot exhaust memory.
_SCRYPT_MAXMEM = 64 * 2**20
_SALT_BYTES = 16
_HASH_BYTES = 32
_SCRYPT = "scrypt"
_ARGON2 = "$argon2"


@dataclass(frozen=True)
class PasswordCheck:
    """Whether a password matched its stored hash, and whether that hash should be replaced by
    a new one (:func:`hash_password`) now that the password is known to be right."""

    ok: bool
    needs_rehash: bool = False


# -- scrypt (PINs; dashboard passwords before argon2id) ------------------------------------------
def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def _scrypt(secret: str, salt: bytes, cost: ScryptCost, dklen: int) -> bytes:
    return hashlib.scrypt(
        secret.encode("utf-8"),
        salt=salt,
        n=cost.n,
        r=cost.r,
        p=cost.p,
        dklen=dklen,
        maxmem=_SCRYPT_MAXMEM,
    )


def hash_scrypt(secret: str, *, salt: bytes | None = None, cost: ScryptCost = PIN_SCRYPT) -> str:
    """A salted scrypt hash of ``secret`` in one string, ``scrypt$n$r$p$salt$hash`` (base64),
    its cost kept with it so the cost can be raised later without breaking old hashes."""
    salt = secrets.token_bytes(_SALT_BYTES) if salt is None else salt
    digest = _scrypt(secret, salt, cost, _HASH_BYTES)
    return "$".join((_SCRYPT, str(cost.n), str(cost.r), str(cost.p), _b64(salt), _b64(digest)))


def _verify_scrypt(secret: str, stored: str, decode: Callable[[str], bytes]) -> bool:
    """``secret`` against ``scrypt$n$r$p$salt$hash`` with salt and hash read by ``decode``."""
    try:
        scheme, n, r, p, salt_text, digest_text = stored.split("$")
        if scheme != _SCRYPT:
            return False
        salt, expected = decode(salt_text), decode(digest_text)
        if not expected:
            return False
        actual = _scrypt(secret, salt, ScryptCost(int(n), int(r), int(p)), len(expected))
    except (ValueError, TypeError, AttributeError, binascii.Error, MemoryError):
        return False
    return hmac.compare_digest(actual, expected)


def verify_scrypt(secret: str, stored: str) -> bool:
    """Whether ``secret`` matches ``stored`` (a :func:`hash_scrypt` string); False for anything
    malformed."""
    return _verify_scrypt(secret, stored, _unb64)


# -- dashboard passwords (argon2id) ----------------------------------------------------------------
def _argon2() -> PasswordHasher:
    """argon2-cffi's hasher with its default (RFC 9106 low-memory) parameters, imported here so
    that only the central server needs the package."""
    from argon2 import PasswordHasher

    return PasswordHasher()


def hash_password(password: str, salt: bytes | None = None) -> str:
    """An argon2id hash of a dashboard password (``$argon2id$v=19$m=...``); ``salt`` only for
    tests that need the same hash twice."""
    return _argon2().hash(password, salt=salt)


def check_password(password: str, stored: str) -> PasswordCheck:
    """Whether ``password`` matches a stored dashboard hash (argon2id, or the scrypt hex hashes
    written before it), and whether the stored hash should be replaced. Never raises for a
    malformed hash: it does not match (and a warning is logged, without the hash)."""
    if not isinstance(stored, str) or not isinstance(password, str):
        return PasswordCheck(False)
    if stored.startswith(_ARGON2):
        from argon2.exceptions import InvalidHashError, VerificationError

        hasher = _argon2()
        try:
            hasher.verify(stored, password)
        except VerificationError:
            return PasswordCheck(False)
        except InvalidHashError:
            log.warning("a stored password hash is not a readable argon2 hash")
            return PasswordCheck(False)
        return PasswordCheck(True, hasher.check_needs_rehash(stored))
    if stored.startswith(_SCRYPT + "$"):
        return PasswordCheck(_verify_scrypt(password, stored, bytes.fromhex), needs_rehash=True)
    log.warning("a stored password hash is in no format this server knows")
    return PasswordCheck(False)


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a stored dashboard hash (see :func:`check_password`)."""
    return check_password(password, stored).ok


def needs_rehash(stored: str) -> bool:
    """Whether a stored dashboard hash is due an upgrade, judged without the password (an old
    scrypt hash, or argon2 parameters below today's), so a login can skip a second check."""
    if not isinstance(stored, str):
        return False
    if stored.startswith(_ARGON2):
        from argon2.exceptions import InvalidHashError

        try:
            return _argon2().check_needs_rehash(stored)
        except (InvalidHashError, ValueError):
            return False
    return stored.startswith(_SCRYPT + "$")
