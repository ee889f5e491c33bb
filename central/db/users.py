"""Reporting users: roles, passwords (hashed by ``kiosk.domain.passwords``) and grants."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update

from central.db.base import Database
from central.db.errors import AlreadyExists, CentralError, NotFound
from central.db.records import check_id, require_org
from central.db.schema import GRANTS, user_grants, users, utcnow, web_sessions

#: ``staff`` see their organisation's totals and registers; ``finance`` (the organisation's
#: person who sends the invoice) also its lines, which say who qualifies and why; the
#: ``commissioner`` sees every organisation.
ROLES: tuple[str, ...] = ("staff", "finance", "commissioner")
#: Roles that belong to one organisation.
ORG_ROLES: tuple[str, ...] = ("staff", "finance")


def hash_password(password: str, salt: bytes | None = None) -> str:
    """A dashboard password's argon2id hash (``kiosk.domain.passwords``, the one password
    module)."""
    from kiosk.domain.passwords import hash_password as hashed

    return hashed(password, salt)


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (argon2id, or the scrypt hashes written before
    it); False for a malformed hash (``kiosk.domain.passwords``)."""
    from kiosk.domain.passwords import verify_password as verified

    return verified(password, stored)


class Users(Database):
    """Reporting users of the dashboard and their grants (``users``, ``user_grants``)."""

    def add_user(self, name: str, role: str, org_id: str | None = None) -> str:
        """Add a reporting user; returns a generated password (only its hash is stored)."""
        name = check_id(name, "user name")
        if role not in ROLES:
            raise CentralError(f"role {role!r} must be one of {', '.join(ROLES)}")
        if role in ORG_ROLES and not org_id:
            raise CentralError(f"a {role} user belongs to an organisation: give --org ORG")
        password = secrets.token_urlsafe(15)
        with self.engine.begin() as conn:
            if org_id:
                require_org(conn, org_id)
            if conn.execute(select(users.c.name).where(users.c.name == name)).first():
                raise AlreadyExists(f"user {name!r} already exists")
            conn.execute(
                insert(users).values(
                    name=name,
                    role=role,
                    org_id=org_id,
                    password_hash=hash_password(password),
                    created_at=utcnow(),
                )
            )
        return password

    def check_user(self, name: str, password: str) -> dict[str, Any] | None:
        """The user's name, role and organisation if ``password`` is theirs, else None."""
        with self.reading() as conn:
            row = conn.execute(select(users).where(users.c.name == name)).first()
        if row is None or row.disabled_at is not None:
            return None
        if not verify_password(password, row.password_hash):
            return None
        return {"name": row.name, "role": row.role, "org_id": row.org_id}

    # -- users: disabling and grants ---------------------------------------------------------------
    def disable_user(self, name: str, now: datetime | None = None) -> bool:
        """Stop ``name`` signing in (their sessions end too); False if already disabled."""
        with self.engine.begin() as conn:
            row = conn.execute(select(users.c.disabled_at).where(users.c.name == name)).first()
            if row is None:
                raise NotFound(f"no user {name!r}: see 'kiosk-central user list'")
            if row.disabled_at is not None:
                return False
            conn.execute(
                update(users).where(users.c.name == name).values(disabled_at=now or utcnow())
            )
            conn.execute(delete(web_sessions).where(web_sessions.c.user_name == name))
        return True

    def reset_password(self, name: str) -> str:
        """Give ``name`` a new generated password (returned, only its hash is stored) and end
        every dashboard session they have open."""
        password = secrets.token_urlsafe(15)
        with self.engine.begin() as conn:
            found = conn.execute(
                update(users)
                .where(users.c.name == name)
                .values(password_hash=hash_password(password))
            )
            if found.rowcount == 0:
                raise NotFound(f"no user {name!r}: see 'kiosk-central user list'")
            conn.execute(delete(web_sessions).where(web_sessions.c.user_name == name))
        return password

    def list_users(self) -> list[dict[str, Any]]:
        """Every user with their role, organisation, whether disabled, and their grants."""
        with self.reading() as conn:
            rows = conn.execute(select(users).order_by(users.c.name)).all()
            granted: dict[str, list[str]] = {}
            for g in conn.execute(select(user_grants).order_by(user_grants.c.grant)):
                granted.setdefault(g.user_name, []).append(g.grant)
        return [
            {
                "name": r.name,
                "role": r.role,
                "org_id": r.org_id,
                "disabled": r.disabled_at is not None,
                "grants": granted.get(r.name, []),
            }
            for r in rows
        ]

    def user_grants(self, name: str) -> frozenset[str]:
        with self.reading() as conn:
            found = conn.execute(
                select(user_grants.c.grant).where(user_grants.c.user_name == name)
            ).scalars()
            return frozenset(found)

    def grant(self, name: str, what: str, by: str, now: datetime | None = None) -> bool:
        """Give ``name`` the right ``what`` (one of :data:`GRANTS`); False if they had it."""
        if what not in GRANTS:
            raise CentralError(f"grant {what!r} must be one of {', '.join(GRANTS)}")
        with self.engine.begin() as conn:
            row = conn.execute(select(users.c.role).where(users.c.name == name)).first()
            if row is None:
                raise NotFound(f"no user {name!r}: see 'kiosk-central user list'")
            if what == "names" and row.role != "commissioner":
                raise CentralError(
                    f"{name} is {row.role}: staff already see their own organisation's names; "
                    "the names grant is for commissioners"
                )
            held = conn.execute(
                select(user_grants.c.grant).where(
                    user_grants.c.user_name == name, user_grants.c.grant == what
                )
            ).first()
            if held is not None:
                return False
            conn.execute(
                insert(user_grants).values(
                    user_name=name, grant=what, granted_by=by[:200], granted_at=now or utcnow()
                )
            )
        return True

    def revoke_grant(self, name: str, what: str) -> bool:
        """Take the right ``what`` away from ``name``; False if they did not have it."""
        if what not in GRANTS:
            raise CentralError(f"grant {what!r} must be one of {', '.join(GRANTS)}")
        with self.engine.begin() as conn:
            if conn.execute(select(users.c.name).where(users.c.name == name)).first() is None:
                raise NotFound(f"no user {name!r}: see 'kiosk-central user list'")
            done = conn.execute(
                delete(user_grants).where(
                    user_grants.c.user_name == name, user_grants.c.grant == what
                )
            )
        return bool(done.rowcount)
