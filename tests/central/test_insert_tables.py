"""``insert_tables``: a batch's new rows of several tables, in one statement on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from central.db.batch_rows import insert_tables
from central.db.schema import children, families
from tests.helpers import statements_run

AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _family(family_id: str) -> dict:
    return {
        "family_id": family_id,
        "org_id": "lichfield",
        "greeting_name": "Amy",
        "postcode": "WS7 1AA",
        "criteria": ["young_parent"],
        "adults": 1,
        "updated_at": AT,
        "updated_event_id": f"e-{family_id}",
    }


def _child(family_id: str, n: int) -> dict:
    return {"family_id": family_id, "child_id": f"{family_id}-{n}", "first_name": "Ben"}


def test_rows_that_refer_to_rows_of_the_same_call_are_written(db):
    db.add_org("lichfield")
    with statements_run(db.engine) as statements, db.engine.begin() as conn:
        insert_tables(
            conn,
            [
                (families, [_family("F-1"), _family("F-2")]),
                (children, [_child("F-1", 1), _child("F-1", 2), _child("F-2", 1)]),
                (families, []),  # a table with nothing to write is left out
            ],
        )
    with db.engine.connect() as conn:
        held = conn.execute(select(families.c.family_id, families.c.criteria)).all()
        kids = conn.execute(select(children.c.child_id).order_by(children.c.child_id)).all()
    assert sorted(held) == [("F-1", ["young_parent"]), ("F-2", ["young_parent"])]
    assert [k.child_id for k in kids] == ["F-1-1", "F-1-2", "F-2-1"]
    inserts = [s for s in statements if "INSERT" in s]
    if db.engine.dialect.name == "postgresql":
        # One round trip: the children's foreign key is checked at the statement's end.
        assert len(inserts) == 1 and inserts[0].startswith("WITH ")
    else:
        assert len(inserts) == 2


def test_a_duplicate_anywhere_writes_nothing(db):
    db.add_org("lichfield")
    with db.engine.begin() as conn:
        insert_tables(conn, [(families, [_family("F-1")])])
    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        insert_tables(
            conn,
            [
                (families, [_family("F-2"), _family("F-3")]),
                (children, [_child("F-2", 1), _child("F-2", 1)]),  # the same child twice
            ],
        )
    with db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(families)).scalar_one() == 1
        assert conn.execute(select(func.count()).select_from(children)).scalar_one() == 0


def test_a_child_of_no_family_is_refused(db):
    db.add_org("lichfield")
    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        insert_tables(
            conn,
            [(families, [_family("F-1"), _family("F-2")]), (children, [_child("F-9", 1)])],
        )
