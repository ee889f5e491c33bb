"""Who is asking: a session cookie from the login form, or HTTP Basic credentials.

- The login form (``POST /dashboard/login``) checks the name and password against the users
  table (``kiosk-central user add``) and sets ``doorstep_session`` to a random session id (256
  bits). The server keeps the session (:class:`Sessions`, the ``web_sessions`` table): only the
  SHA-256 of the id, the user, and when it expires (8 hours after signing in). Logging out
  deletes it, so the cookie stops working at once; so do ``kiosk-central user disable`` and
  ``user reset-password``, and any other change of the user's password hash. The cookie is
  ``HttpOnly``, ``SameSite=Lax`` and ``Secure`` over HTTPS. Sessions live in the database, so
  every server process shares them and they outlast a restart.
- ``Authorization: Basic`` is accepted on every page and download (scripts: ``curl -u``).
- ``GET /dashboard/login/basic`` asks the browser for Basic credentials (401 challenge) and
  turns them into the session cookie, so a browser given ``https://name:pw@host/...`` (or a
  headless one taking a screenshot) reaches the pages with a plain GET.

Login throttling (:class:`LoginThrottle`): after 5 failed logins for one name, or 20 from one
client address, within 15 minutes, further attempts (form or Basic) are refused with 429 and
``Retry-After`` *before* the password is checked, so guessing stops even when a guess is right.
The client address is the connection's, or the one a trusted reverse proxy gives in
``X-Forwarded-For`` (only with ``kiosk-central serve --forwarded-allow-ips``), so a client
cannot pick its own. Failures are kept in the ``login_failures`` table, so every server process
sees them. Every success (at the form), failure and refusal goes to the audit log
(``central.audit``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update

from central import audit
from central.db import CentralDB, login_failures, users, utcnow, web_sessions
from central.reports._sql import reading
from kiosk.domain import passwords

COOKIE = "doorstep_session"
SESSION_SECONDS = 8 * 3600
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
        names on registers without them."""
        return self.sees_lines

    @property
    def sees_names(self) -> bool:
        """Staff see their own families' names; a commissioner only with the names grant."""
        return not self.is_commissioner or "names" in self.grants

    def may_see(self, org_id: str) -> bool:
        return self.is_commissioner or self.org_id == org_id


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Sessions:
    """Opens, checks and ends dashboard sessions, kept in the ``web_sessions`` table.

    The cookie holds a random id; the table holds its SHA-256, so neither a copy of the
    database nor its backups open a session. ``clock`` gives the time (tests move it).
    """

    def __init__(
        self,
        db: CentralDB,
        clock: Callable[[], datetime] = utcnow,
        lifetime: timedelta = timedelta(seconds=SESSION_SECONDS),
    ) -> None:
        self.db = db
        self.clock = clock
        self.lifetime = lifetime

    def issue(self, name: str, password_hash: str) -> str:
        """A new session for ``name``: the cookie value (shown only to the browser)."""
        session_id = secrets.token_urlsafe(32)
        now = self.clock()
        s = web_sessions
        with self.db.engine.begin() as conn:
            conn.execute(delete(s).where(s.c.expires_at <= now))
            conn.execute(
                insert(s).values(
                    id_hash=_digest(session_id),
                    user_name=name,
                    password_check=_digest(password_hash),
                    created_at=now,
                    expires_at=now + self.lifetime,
                )
            )
        return session_id

    def check(self, cookie: str) -> User | None:
        """The user a cookie belongs to, if its session is open, unexpired, and the user is
        still enabled with the password they signed in with."""
        s, u = web_sessions, users
        with reading(self.db) as conn:
            row = conn.execute(
                select(u.c.name, u.c.role, u.c.org_id, u.c.password_hash, s.c.password_check)
                .select_from(s.join(u, u.c.name == s.c.user_name))
                .where(
                    s.c.id_hash == _digest(cookie),
                    s.c.expires_at > self.clock(),
                    u.c.disabled_at.is_(None),
                )
            ).first()
        if row is None or not hmac.compare_digest(row.password_check, _digest(row.password_hash)):
            return None
        return User(row.name, row.role, row.org_id, self.db.user_grants(row.name))

    def end(self, cookie: str) -> None:
        """Log out: the session is deleted, so the cookie opens nothing any more."""
        with self.db.engine.begin() as conn:
            conn.execute(delete(web_sessions).where(web_sessions.c.id_hash == _digest(cookie)))


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
    """The user if ``password`` is theirs; an old-format stored hash is upgraded on the way."""
    found = db.check_user(name, password)
    if not found:
        return None
    upgrade_password_hash(db, found["name"], password)
    return User(found["name"], found["role"], found["org_id"], db.user_grants(found["name"]))


def upgrade_password_hash(db: CentralDB, name: str, password: str) -> bool:
    """Store a new argon2id hash of ``password`` if ``name``'s stored hash is due an upgrade
    (an old scrypt hash, or argon2 parameters below today's); True if it was replaced.

    Called just after the password was found right, the one moment the server knows it. The
    hash is replaced only if it is still the one checked (a ``user reset-password`` in between
    wins), and the user's open sessions are moved onto the new hash in the same transaction:
    a session ends when the password changes (:meth:`Sessions.check`), and this one has not.
    """
    with reading(db) as conn:
        stored = conn.execute(select(users.c.password_hash).where(users.c.name == name)).scalar()
    if stored is None or not passwords.needs_rehash(stored):
        return False
    if not passwords.check_password(password, stored).ok:
        return False
    fresh = passwords.hash_password(password)
    with db.engine.begin() as conn:
        changed = conn.execute(
            update(users)
            .where(users.c.name == name, users.c.password_hash == stored)
            .values(password_hash=fresh)
        ).rowcount
        if changed:
            conn.execute(
                update(web_sessions)
                .where(
                    web_sessions.c.user_name == name,
                    web_sessions.c.password_check == _digest(stored),
                )
                .values(password_check=_digest(fresh))
            )
    return bool(changed)


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
