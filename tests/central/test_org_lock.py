"""The organisation's lock a batch takes with its token is the lock every writer takes."""

from __future__ import annotations

import pytest
from sqlalchemy import literal, select, text

from central.db.engine import lock_key, lock_key_sql
from central.db.enrolment import device_by_token

pytestmark = [pytest.mark.postgres, pytest.mark.parametrize("backend", ["postgres"])]


@pytest.mark.parametrize(
    "name", ["org:lichfield", "org:", "org:Ysgol Gymraeg Aberdâr ☕", "x" * 64]
)
def test_postgresql_works_out_the_same_key(db, name):
    with db.reading() as conn:
        assert conn.execute(select(lock_key_sql(literal(name)))).scalar_one() == lock_key(name)


def test_a_batch_holds_its_organisations_lock_from_its_token_on(db):
    db.add_org("lichfield")
    db.add_org("tamworth")
    db.add_site("lichfield", "library")
    token = db.add_device("lichfield", "library", "kiosk-1")
    try_lock = text("SELECT pg_try_advisory_xact_lock(:k)")
    with db.engine.begin() as batch:
        device = device_by_token(batch, token, lock_org=True)
        assert device is not None and device.org_id == "lichfield"
        with db.engine.begin() as other:
            # Another writer of the organisation (Database.writing) waits; of another, not.
            assert other.execute(try_lock, {"k": lock_key("org:lichfield")}).scalar() is False
            assert other.execute(try_lock, {"k": lock_key("org:tamworth")}).scalar() is True
    with db.writing("lichfield"):
        pass  # released with the batch's transaction


def test_an_unknown_token_takes_no_lock(db):
    db.add_org("lichfield")
    with db.engine.begin() as conn:
        assert device_by_token(conn, "dsk_nobody", lock_org=True) is None
        held = conn.execute(
            text(
                "SELECT count(*) FROM pg_locks "
                "WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
            )
        ).scalar_one()
    assert held == 0
