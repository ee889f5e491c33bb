"""``kiosk-central copy-to URL``: move a server's whole database to another one, usually from
the embedded SQLite file to the PostgreSQL a county-wide deployment runs on.

Why a command and not a dump: the two databases speak different SQL, and what must survive the
move is exact: every row with its own id (the kiosks' roster and erasure cursors are ids), the
audit log with its hash chain, the server's identity (``server_meta``: kiosks would otherwise
take the new database for a restored one), the organisations' privacy salts. The tables are read
as one snapshot (a single read transaction) and written in one transaction on the target, in
foreign-key order, so the target is either the whole copy or untouched. Afterwards every table's
row count is compared and the audit chain verified on the target; PostgreSQL's id sequences are
moved past the copied ids so the next kiosk batch does not collide with them.

The source is only read and stays as it was: point the server at the target
(``[database] url`` in central.toml) once the copy says it is done. Stop the server first: rows
written after the snapshot would not be in the copy (the command says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Table, delete, func, insert, select, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from central.db import CentralDB, CentralError, metadata, normalise_url, schema_version
from kiosk.lsoa_import import ProgressFactory

#: Rows read and written at a time: bounded memory for a county's year of attendances.
CHUNK_ROWS = 5_000


@dataclass(frozen=True)
class CopiedTable:
    name: str
    rows: int


def copy_database(
    source: CentralDB, target_url: str, actor: str, progress: ProgressFactory | None = None
) -> list[CopiedTable]:
    """Copy every row of ``source`` into the empty database at ``target_url`` (created at this
    server's schema if it has none), check the copy, and say in the target's audit log that
    ``actor`` made it and from where. Raises ``CentralError`` saying what was wrong, with the
    target left as it was, when the target is the source, cannot be reached, is not empty, the
    source holds nothing, or the copy does not match."""
    from central.audit import record

    if _same_database(source, target_url):
        raise CentralError("copy-to: the target is the database being copied; name another one")
    if source.schema_state().empty:
        raise _nothing_to_copy(source)
    try:
        target = CentralDB.open(target_url, migrate=True, upgrade=False)
    except (ArgumentError, OperationalError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise CentralError(
            f"copy-to: cannot open the target database {_shown(target_url)}: {reason}"
        ) from None
    try:
        _refuse_unless_empty(target, target_url)
        with source.reading() as src:  # one snapshot of the source: one read transaction
            if source.dialect == "postgresql":
                src = src.execution_options(isolation_level="REPEATABLE READ")
            counts = {t.name: _count(src, t) for t in _copied_tables()}
            if not any(n for name, n in counts.items() if name != schema_version.name):
                raise _nothing_to_copy(source)
            with target.engine.begin() as dst:
                # The target's history of revisions is replaced by the source's, so the copy
                # keeps when each upgrade was really applied.
                dst.execute(delete(schema_version))
                for table in _copied_tables():
                    _copy_table(src, dst, table, counts[table.name], progress)
                if target.dialect == "postgresql":
                    _move_sequences_past_copied_ids(dst)
        _check_copy(target, counts)
        record(
            target,
            actor,
            "database.copy",
            subject=_shown(source.engine.url),
            detail={"rows": sum(counts.values()), "tables": len(counts)},
        )
        return [CopiedTable(name, rows) for name, rows in counts.items()]
    finally:
        target.close()


def _copied_tables() -> list[Table]:
    """Every table of the schema, parents before children (Alembic's own table is the target's:
    both are at this server's revision)."""
    return list(metadata.sorted_tables)


def _copy_table(
    src: Connection, dst: Connection, table: Table, total: int, progress: ProgressFactory | None
) -> None:
    if total == 0:
        return
    bar = progress(table.name, total) if progress else None
    order = list(table.primary_key.columns) or list(table.columns)
    rows = src.execution_options(yield_per=CHUNK_ROWS).execute(select(table).order_by(*order))
    for chunk in rows.partitions():
        dst.execute(insert(table), [dict(row._mapping) for row in chunk])
        if bar is not None:
            bar.update(len(chunk))
    if bar is not None:
        bar.close()


def _move_sequences_past_copied_ids(dst: Connection) -> None:
    """Rows were written with their own ids, which leaves PostgreSQL's sequences at 1: move
    each past the highest copied id (or back to the start for an empty table)."""
    for table in _copied_tables():
        for column in table.primary_key.columns:
            if column.autoincrement is not True:
                continue
            sequence = dst.execute(
                text("SELECT pg_get_serial_sequence(:table, :column)"),
                {"table": table.name, "column": column.name},
            ).scalar()
            if sequence is None:
                continue
            highest = dst.execute(select(func.max(column))).scalar()
            dst.execute(
                text("SELECT setval(CAST(:sequence AS regclass), :value, :called)"),
                {"sequence": sequence, "value": highest or 1, "called": highest is not None},
            )


def _refuse_unless_empty(target: CentralDB, target_url: str) -> None:
    with target.engine.connect() as conn:
        for table in _copied_tables():
            if table is schema_version:
                continue
            if held := _count(conn, table):
                raise CentralError(
                    f"copy-to: the target ({_shown(target_url)}) is not empty: table "
                    f"{table.name} holds {held} row(s); copy-to fills only an empty database, "
                    "so nothing was written"
                )


def _check_copy(target: CentralDB, expected: dict[str, int]) -> None:
    from central.audit import verify

    with target.engine.connect() as conn:
        found = {t.name: _count(conn, t) for t in _copied_tables()}
    wrong = [f"{n}: {c} copied, {found[n]} found" for n, c in expected.items() if found[n] != c]
    if wrong:
        raise CentralError("copy-to: the copy does not match the source: " + "; ".join(wrong))
    verdict = verify(target)
    if not verdict.ok:
        raise CentralError(f"copy-to: the copied audit log does not verify: {verdict}")


def _nothing_to_copy(source: CentralDB) -> CentralError:
    return CentralError(
        f"copy-to: the database to copy ({_shown(source.engine.url)}) holds no data: is --db "
        "(or central.toml's [database] url) the server's database?"
    )


def _count(conn: Connection, table: Table) -> int:
    return int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)


def _same_database(source: CentralDB, target_url: str) -> bool:
    here, there = source.engine.url, make_url(normalise_url(target_url))
    if here.get_backend_name() == there.get_backend_name() == "sqlite":
        return Path(here.database or "").resolve() == Path(there.database or "").resolve()
    return _shown(here) == _shown(there)


def _shown(url: str | URL) -> str:
    """A URL fit for a message: without its password."""
    parsed = url if isinstance(url, URL) else make_url(normalise_url(url))
    return parsed.render_as_string(hide_password=True)
