"""``InLookup``: a batch's lookups built once answer exactly what building them anew answered."""

from __future__ import annotations

from sqlalchemy import bindparam, event, select

from central.db.batch_rows import InLookup, rows_in_chunks
from central.db.schema import devices


def _fleet(db) -> None:
    for org in ("lichfield", "tamworth"):
        db.add_org(org)
        db.add_site(org, "library")
        for n in range(5):
            db.add_device(org, "library", f"{org}-{n}")


_BY_ID = InLookup(
    select(devices.c.device_id, devices.c.org_id).where(devices.c.org_id == bindparam("org")),
    devices.c.device_id,
)
_IDS_BY_HOLDS = InLookup(select(devices.c.device_id), devices.c.holds_up_to, scalars=True)


def test_it_finds_the_rows_asked_for_with_the_other_values_bound_by_name(db, monkeypatch):
    _fleet(db)
    monkeypatch.setattr("central.db.batch_rows.CHUNK", 2)  # several statements per lookup
    wanted = ["lichfield-0", "lichfield-3", "tamworth-1", "nobody", "lichfield-4"]
    with db.reading() as conn:
        found = sorted(tuple(r) for r in _BY_ID.rows(conn, wanted, org="lichfield"))
        anew = sorted(
            tuple(r)
            for r in rows_in_chunks(
                conn,
                select(devices.c.device_id, devices.c.org_id).where(
                    devices.c.org_id == "lichfield"
                ),
                devices.c.device_id,
                wanted,
            )
        )
        other_org = sorted(r.device_id for r in _BY_ID.rows(conn, wanted, org="tamworth"))
    assert (
        found
        == anew
        == [
            ("lichfield-0", "lichfield"),
            ("lichfield-3", "lichfield"),
            ("lichfield-4", "lichfield"),
        ]
    )
    assert other_org == ["tamworth-1"]


def test_whole_number_columns_and_scalars(db):
    _fleet(db)
    with db.reading() as conn:
        ids = sorted(_IDS_BY_HOLDS.rows(conn, [0, 7]))
    assert ids == sorted(f"{org}-{n}" for org in ("lichfield", "tamworth") for n in range(5))


def test_no_values_runs_no_statement(db):
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_rest) -> None:
        statements.append(statement)

    with db.reading() as conn:
        event.listen(db.engine, "before_cursor_execute", seen)
        try:
            assert list(_BY_ID.rows(conn, [], org="lichfield")) == []
        finally:
            event.remove(db.engine, "before_cursor_execute", seen)
    assert statements == []
