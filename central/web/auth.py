"""Who is asking: a signed session cookie from the login form, or HTTP Basic credentials.

- The login form (``POST /dashboard/login``) checks the name and password against the users
  table (``kiosk-central user add``) and sets ``doorstep_session``: the name, an expiry and a
  fingerprint of the stored password hash, signed with HMAC-SHA256. Changing a password or
  disabling a user ends their sessions. The cookie is ``HttpOnly``, ``SameSite=Lax`` and
  ``Secure`` over HTTPS.
- ``Authorization: Basic`` is accepted on every page and download (scripts: ``curl -u``).
- ``GET /dashboard/login/basic`` asks the browser for Basic credentials (401 challenge) and
  turns them into the session cookie, so a browser given ``https://name:pw@host/...`` (or a
  headless one taking a screenshot) reaches the pages with a plain GET.

The signing key is ``$KIOSK_CENTRAL_SECRET`` when set (use it when several server processes
share the load), else a random key per server process (sessions end when it restarts).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import select

from central.db import CentralDB, users
from central.reports._sql import reading

COOKIE = "doorstep_session"
SESSION_SECONDS = 8 * 3600
SECRET_ENV = "KIOSK_CENTRAL_SECRET"


@dataclass(frozen=True)
class User:
    name: str
    role: str  # staff | commissioner
    org_id: str | None

    @property
    def is_commissioner(self) -> bool:
        return self.role == "commissioner"

    def may_see(self, org_id: str) -> bool:
        return self.is_commissioner or self.org_id == org_id


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Sessions:
    """Issues and checks signed session cookies."""

    def __init__(self, secret: bytes | None = None) -> None:
        env = os.environ.get(SECRET_ENV)
        self.secret = secret or (env.encode("utf-8") if env else secrets.token_bytes(32))

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self.secret, payload.encode("ascii"), hashlib.sha256).digest())

    def _fingerprint(self, password_hash: str) -> str:
        return _b64(hmac.new(self.secret, password_hash.encode(), hashlib.sha256).digest()[:12])

    def issue(self, name: str, password_hash: str, now: float | None = None) -> str:
        body = {
            "u": name,
            "exp": int((now or time.time()) + SESSION_SECONDS),
            "p": self._fingerprint(password_hash),
        }
        payload = _b64(json.dumps(body, separators=(",", ":")).encode("utf-8"))
        return f"{payload}.{self._sign(payload)}"

    def check(self, db: CentralDB, cookie: str, now: float | None = None) -> User | None:
        """The user a cookie belongs to, if it is ours, unexpired, and still matches them."""
        payload, _, signature = cookie.partition(".")
        if not payload or not hmac.compare_digest(signature, self._sign(payload)):
            return None
        try:
            body = json.loads(_unb64(payload))
        except (ValueError, binascii.Error):
            return None
        if not isinstance(body, dict) or int(body.get("exp", 0)) < (now or time.time()):
            return None
        row = user_row(db, str(body.get("u", "")))
        if row is None or not hmac.compare_digest(
            str(body.get("p", "")), self._fingerprint(row.password_hash)
        ):
            return None
        return User(row.name, row.role, row.org_id)


def user_row(db: CentralDB, name: str) -> object | None:
    """The enabled user called ``name`` (with their password hash), or None."""
    with reading(db) as conn:
        row = conn.execute(select(users).where(users.c.name == name)).first()
    return row if row is not None and row.disabled_at is None else None


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """``Authorization: Basic ...`` as (name, password), or None."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    name, sep, password = decoded.partition(":")
    return (name, password) if sep else None


def check_password(db: CentralDB, name: str, password: str) -> User | None:
    found = db.check_user(name, password)
    return User(found["name"], found["role"], found["org_id"]) if found else None
