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

Login throttling (:class:`LoginThrottle`): after 5 failed logins for one name, or 20 from one
client address, within 15 minutes, further attempts (form or Basic) are refused with 429 and
``Retry-After`` *before* the password is checked, so guessing stops even when a guess is right.
Failures are kept in the ``login_failures`` table, so every server process sees them. Every
success (at the form), failure and refusal goes to the audit log (``central.audit``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select

from central import audit
from central.db import CentralDB, login_failures, users, utcnow
from central.reports._sql import reading

COOKIE = "doorstep_session"
SESSION_SECONDS = 8 * 3600
SECRET_ENV = "KIOSK_CENTRAL_SECRET"
#: Failed logins allowed per name, and per client address, within THROTTLE_WINDOW.
NAME_LIMIT = 5
ADDRESS_LIMIT = 20
THROTTLE_WINDOW = timedelta(minutes=15)


@dataclass(frozen=True)
class User:
    name: str
    role: str  # staff | finance | commissioner
    org_id: str | None
    grants: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_commissioner(self) -> bool:
        return self.role == "commissioner"

    @property
    def sees_lines(self) -> bool:
        """The invoice's lines say which families qualify and why: for the organisation's
        finance role (who sends the invoice) and the commissioner, not every staff login."""
        return self.role in ("finance", "commissioner")

    @property
    def sees_refs(self) -> bool:
        """Family and child references join registers to the invoice's lines: staff see
        names on registers without them (issue 18)."""
        return self.sees_lines

    @property
    def sees_names(self) -> bool:
        """Staff see their own families' names; a commissioner only with the names grant."""
        return not self.is_commissioner or "names" in self.grants

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
        return User(row.name, row.role, row.org_id, db.user_grants(row.name))


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
    if not found:
        return None
    return User(found["name"], found["role"], found["org_id"], db.user_grants(found["name"]))


class Throttled(Exception):
    """Too many failed logins: try again in ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins: try again in {retry_after} seconds")
        self.retry_after = retry_after


class LoginThrottle:
    """Counts failed logins per name and per client address in the database.

    ``clock`` gives the time (tests move it instead of sleeping).
    """

    def __init__(
        self,
        db: CentralDB,
        clock: Callable[[], datetime] = utcnow,
        name_limit: int = NAME_LIMIT,
        address_limit: int = ADDRESS_LIMIT,
        window: timedelta = THROTTLE_WINDOW,
    ) -> None:
        self.db = db
        self.clock = clock
        self.name_limit = name_limit
        self.address_limit = address_limit
        self.window = window

    def retry_after(self, name: str, address: str) -> int | None:
        """Seconds until ``name`` may try again from ``address``, or None if they may now."""
        now = self.clock()
        since = now - self.window
        f = login_failures
        waits = []
        with reading(self.db) as conn:
            for column, value, limit in (
                (f.c.name, name[:200], self.name_limit),
                (f.c.address, address[:64], self.address_limit),
            ):
                times = (
                    conn.execute(
                        select(f.c.at).where(column == value, f.c.at > since).order_by(f.c.at)
                    )
                    .scalars()
                    .all()
                )
                if len(times) >= limit:
                    # Allowed again once all but limit-1 of these have left the window.
                    free_at = times[len(times) - limit] + self.window
                    waits.append(max(1, math.ceil((free_at - now).total_seconds())))
        return max(waits) if waits else None

    def failed(self, name: str, address: str) -> None:
        now = self.clock()
        with self.db.engine.begin() as conn:
            conn.execute(
                insert(login_failures).values(at=now, name=name[:200], address=address[:64])
            )
            conn.execute(delete(login_failures).where(login_failures.c.at <= now - self.window))

    def succeeded(self, name: str) -> None:
        """A right password for ``name`` clears its count (not its address's)."""
        with self.db.engine.begin() as conn:
            conn.execute(delete(login_failures).where(login_failures.c.name == name[:200]))


def sign_in(
    db: CentralDB,
    throttle: LoginThrottle,
    name: str,
    password: str,
    address: str,
    via: str,
    log_success: bool = True,
) -> User | None:
    """Check ``name`` and ``password`` unless throttled (raises :class:`Throttled`), counting
    and auditing failures. ``via`` is ``form``, ``basic`` or ``basic-login``."""
    wait = throttle.retry_after(name, address)
    where = {"address": address, "via": via}
    if wait is not None:
        audit.record(
            db, "anonymous", "login.throttled", _known(db, name), {**where, "retry_after": wait}
        )
        raise Throttled(wait)
    user = check_password(db, name, password) if name else None
    if user is None:
        throttle.failed(name, address)
        audit.record(db, "anonymous", "login.failed", _known(db, name), where)
        return None
    throttle.succeeded(name)
    if log_success:
        audit.record(db, user.name, "login.ok", user.name, where)
    return user


def _known(db: CentralDB, name: str) -> str:
    """The name tried, if it is a user's: a mistyped password in the name box is not kept."""
    with reading(db) as conn:
        found = conn.execute(select(users.c.name).where(users.c.name == name)).first()
    return name if found else "(not a user)"
