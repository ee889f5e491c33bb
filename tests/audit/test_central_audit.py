"""The server's audit log: a hash chain the database refuses to change, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, insert, inspect, select, text, update
from sqlalchemy.exc import DBAPIError

from central import audit
from central.db import CentralDB, audit_log
from tests.schema_history import rewind


def _drop_guard(db: CentralDB) -> None:
    """What an intruder with the database's owner rights would do first."""
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            conn.execute(text("DROP TRIGGER audit_log_no_change ON audit_log"))
            conn.execute(text("DROP TRIGGER audit_log_no_truncate ON audit_log"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))


def _three(db: CentralDB) -> None:
    audit.record(db, "admin", "user.add", "alice", {"role": "staff", "org": "lichfield"})
    audit.record(db, "alice", "report.download", "lichfield", {"report": "invoice"})
    audit.record(db, "carol", "login.ok", "carol")


def test_rows_are_chained_in_order_and_read_back(db):
    t0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    audit.record(db, "admin", "user.add", "alice", {"role": "staff"}, now=t0)
    audit.record(db, "alice", "login.ok", "alice", now=t0 + timedelta(minutes=1))
    first, second = audit.entries(db)
    assert (first.actor, first.action, first.subject, first.detail) == (
        "admin",
        "user.add",
        "alice",
        {"role": "staff"},
    )
    assert first.at == t0 and first.prev_hash == audit.GENESIS
    assert second.prev_hash == first.hash != second.hash
    verdict = audit.verify(db)
    assert verdict.ok and verdict.rows == 2 and verdict.head == second.hash


def test_show_filters_by_time_actor_and_action_prefix(db):
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    audit.record(db, "alice", "login.failed", "alice", now=t0)
    audit.record(db, "alice", "login.ok", "alice", now=t0 + timedelta(days=2))
    audit.record(db, "bob", "login.ok", "bob", now=t0 + timedelta(days=3))
    audit.record(db, "bob", "loginx.other", "bob", now=t0 + timedelta(days=3))
    assert [e.action for e in audit.entries(db, action="login")] == [
        "login.failed",
        "login.ok",
        "login.ok",
    ]
    assert [e.actor for e in audit.entries(db, action="login.ok")] == ["alice", "bob"]
    assert len(list(audit.entries(db, actor="bob"))) == 2
    assert len(list(audit.entries(db, since=t0 + timedelta(days=1)))) == 3


def test_update_and_delete_of_the_log_are_refused_by_the_database(db):
    _three(db)
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(update(audit_log).values(actor="someone else"))
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.id == 2))
    if db.dialect == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(text("TRUNCATE audit_log"))
    assert [e.actor for e in audit.entries(db)] == ["admin", "alice", "carol"]
    assert audit.verify(db).ok


def test_verify_finds_a_changed_row(db):
    _three(db)
    _drop_guard(db)
    with db.engine.begin() as conn:
        conn.execute(
            update(audit_log).where(audit_log.c.id == 2).values(detail='{"report":"reach"}')
        )
    verdict = audit.verify(db)
    assert not verdict.ok and verdict.broken_id == 2 and "changed" in verdict.problem


def test_verify_finds_a_removed_row(db):
    _three(db)
    _drop_guard(db)
    with db.engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.id == 2))
    verdict = audit.verify(db)
    assert not verdict.ok and verdict.broken_id == 3


def test_verify_finds_a_row_rewritten_with_a_fresh_hash_of_its_own(db):
    """Re-hashing the changed row is not enough: the next row no longer follows it."""
    _three(db)
    _drop_guard(db)
    with db.engine.begin() as conn:
        row = conn.execute(select(audit_log).where(audit_log.c.id == 2)).one()
        forged = audit.entry_hash(
            row.prev_hash, row.at, "mallory", row.action, row.subject, row.detail
        )
        conn.execute(
            update(audit_log).where(audit_log.c.id == 2).values(actor="mallory", hash=forged)
        )
    verdict = audit.verify(db)
    assert not verdict.ok and verdict.broken_id == 3


def test_secrets_and_odd_actions_are_refused(db):
    with pytest.raises(audit.AuditError, match="detail.password"):
        audit.record(db, "alice", "login.failed", "alice", {"password": "x"})
    with pytest.raises(audit.AuditError, match="detail.a.pin"):
        audit.record(db, "alice", "login.failed", "alice", {"a": {"pin": "1234"}})
    with pytest.raises(audit.AuditError, match="dotted"):
        audit.record(db, "alice", "Login Failed")
    assert list(audit.entries(db)) == []


def test_migration_6_gives_an_older_database_the_log_and_its_guard(db):
    """A database without the audit tables (version 5) gets them, and their triggers."""
    rewind(db, 5)
    with db.engine.connect() as conn:
        assert "audit_log" not in inspect(conn).get_table_names()
    assert db.migrate() == ("0005", "0012")
    assert db.migrate() == ("0012", "0012")  # safe to run again
    audit.record(db, "admin", "org.add", "lichfield")
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(delete(audit_log))
    db.add_org("lichfield")
    db.add_user("carol", "commissioner")
    assert db.grant("carol", "names", by="admin")
    assert db.user_grants("carol") == {"names"}
    assert audit.verify(db).ok


def test_a_forged_row_appended_directly_is_found(db):
    _three(db)
    with db.engine.begin() as conn:  # INSERT is allowed: the chain catches a bad one
        conn.execute(
            insert(audit_log).values(
                at=datetime.now(UTC),
                actor="mallory",
                action="user.grant",
                subject="mallory",
                detail="{}",
                prev_hash=audit.GENESIS,
                hash="f" * 64,
            )
        )
    verdict = audit.verify(db)
    assert not verdict.ok and verdict.broken_id == 4
