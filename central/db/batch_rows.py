"""Row-level helpers for applying batches: one-statement inserts, lookups in chunks, what is
kept of a refused event, and which families were erased. Used by :mod:`central.db.ingest` (the
batch) and by the package's readers that look up many ids at once."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import pydantic_core
from sqlalchemy import (
    ARRAY,
    JSON,
    BigInteger,
    Connection,
    Integer,
    Select,
    String,
    Table,
    any_,
    bindparam,
    func,
    insert,
    select,
)

from central.db.records import dumps
from central.db.schema import erasures, privacy_salts, seq_gaps
from kiosk.domain.erasure import Erasure, family_hash, is_erased


def insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` in one statement.

    On PostgreSQL an ``executemany`` is one INSERT per row: psycopg pipelines them, but the
    server still binds and runs each one, and SQLAlchemy and psycopg prepare each row's
    parameters one by one in Python. Here the rows travel as one JSON array (encoded by
    pydantic-core, in Rust) that ``json_populate_recordset`` turns back into the table's own
    row type, in the order given, so the events' row ids (the roster cursor) still follow
    the batch's order. Values still pass each column type's bind processing (UTC datetimes)
    first, as an ``insert()`` would; JSON columns go in as the JSON they are. SQLite runs
    in-process: a plain executemany.
    """
    if not rows:
        return
    names = tuple(rows[0])
    if (
        conn.dialect.name != "postgresql"
        or len(rows) == 1
        or any(row.keys() != rows[0].keys() for row in rows)
    ):
        conn.execute(insert(table), rows)
        return
    sql, processors = _json_insert(conn.dialect, table, names)
    if processors:
        processed = []
        for row in rows:
            copy = dict(row)
            for name, process in processors:
                copy[name] = process(copy[name])
            processed.append(copy)
        rows = processed
    conn.exec_driver_sql(sql, {"rows": pydantic_core.to_json(rows).decode("utf-8")})


#: ``_json_insert``'s answers, by dialect class, table and column names.
_JSON_INSERTS: dict[tuple[type, Table, tuple[str, ...]], tuple[str, list[Any]]] = {}


def _json_insert(dialect: Any, table: Table, names: tuple[str, ...]) -> tuple[str, list[Any]]:
    """``INSERT INTO t (names) SELECT names FROM json_populate_recordset(NULL::t, ...)`` for
    PostgreSQL, and the bind processors of its columns that have one (not JSON's)."""
    key = (type(dialect), table, names)
    if key not in _JSON_INSERTS:
        preparer = dialect.identifier_preparer
        columns = [table.c[name] for name in names]
        listed = ", ".join(preparer.format_column(column) for column in columns)
        name = preparer.format_table(table)
        sql = (
            f"INSERT INTO {name} ({listed}) SELECT {listed} "
            f"FROM json_populate_recordset(NULL::{name}, %(rows)s::json)"
        )
        processors = [
            (column.name, process)
            for column in columns
            if not isinstance(column.type, JSON)
            and (process := column.type.dialect_impl(dialect).bind_processor(dialect))
        ]
        _JSON_INSERTS[key] = (sql, processors)
    return _JSON_INSERTS[key]


_SALT = select(privacy_salts.c.salt).where(privacy_salts.c.org_id == bindparam("org"))


def salt_of(conn: Connection, org_id: str) -> str | None:
    """The organisation's salt for erased families' hashes, or None before its first erasure
    or export (``central.privacy.keys.org_salt`` makes one)."""
    value = conn.execute(_SALT, {"org": org_id}).scalar()
    return str(value) if value is not None else None


def erased_families(conn: Connection, org_id: str, named: Iterable[str]) -> dict[str, Erasure]:
    """Which of the family ids (or tokens) ``named`` belong to families erased in ``org_id``,
    matched by the salted hash the erasure kept. A token the server does not know
    (a database restored from before the erasure) still counts as erased."""
    names = sorted(set(named))
    salt = salt_of(conn, org_id)
    out: dict[str, Erasure] = {}
    tokens = [n for n in names if is_erased(n)]
    for token in tokens:
        out[token] = Erasure(token, token, salt or "")
    if salt is None:
        return out
    hashes = {family_hash(salt, n): n for n in names if not is_erased(n)}
    for row in _ERASED.rows(conn, sorted(hashes), org=org_id):
        out[hashes[row.family_hash]] = Erasure(hashes[row.family_hash], row.token, salt)
    return out


#: The attendance columns copied onto each of its ``attendance_children`` rows (for reach).
CHILD_COPIES = ("org_id", "session_date", "qualifies")


def attendance_child_rows(
    attendance: Mapping[str, Any], kids: Iterable[str]
) -> list[dict[str, Any]]:
    """The ``attendance_children`` rows of an attendance: one per child, with the copies."""
    copies = {name: attendance[name] for name in CHILD_COPIES}
    return [
        {"attendance_id": attendance["attendance_id"], "child_id": c, **copies}
        for c in dict.fromkeys(kids)
    ]


#: Refused events (and conflicting copies) a device may have kept on the server.
REJECTIONS_KEPT = 5000
#: Characters of a refused event kept (a real event is a few hundred; junk is cut short).
REJECTED_RAW_KEPT = 16_384


def at_path(doc: Any, path: str) -> Any:
    """The value at a dotted path (``data.children``) of a JSON document, or None."""
    for key in path.split("."):
        if not isinstance(doc, Mapping) or key not in doc:
            return None
        doc = doc[key]
    return doc


def kept_copy(raw: Mapping[str, Any]) -> tuple[str, str]:
    """What the server keeps of a refused or conflicting event: its JSON (cut short past
    ``REJECTED_RAW_KEPT``) and the SHA-256 of it as sent, by which it is kept once."""
    text_ = dumps(raw)
    digest = hashlib.sha256(text_.encode("utf-8")).hexdigest()
    if len(text_) > REJECTED_RAW_KEPT:
        text_ = dumps(_shortened(raw, len(text_)))
    return text_, digest


def _shortened(raw: Mapping[str, Any], size: int) -> dict[str, Any]:
    """A refused event too big to keep whole: its envelope, and a note of its size."""
    out = {k: raw[k] for k in ("event_id", "seq", "type", "device_id", "site_id", "at") if k in raw}
    out = {k: v for k, v in out.items() if isinstance(v, str | int) and len(str(v)) <= 100}
    out["_kept"] = f"cut short: {size} characters as sent, more than {REJECTED_RAW_KEPT}"
    return out


CHUNK = 500
#: Seqs read per query while moving ``holds_up_to`` forward.
HOLDS_PAGE = 2000


def gap_end(conn: Connection, device_id: str, current: int) -> int | None:
    """The end of the furthest written-off range that starts at or before ``current + 1`` and
    reaches past ``current``, or None."""
    value = conn.execute(_GAP_END, {"device": device_id, "current": current}).scalar()
    return int(value) if value is not None else None


_GAP_END = select(func.max(seq_gaps.c.to_seq)).where(
    seq_gaps.c.device_id == bindparam("device"),
    seq_gaps.c.from_seq <= bindparam("current", type_=BigInteger) + 1,
    seq_gaps.c.to_seq > bindparam("current", type_=BigInteger),
)


def rows_in_chunks(
    conn: Connection, query: Any, column: Any, values: Sequence[Any], scalars: bool = False
) -> Iterable[Any]:
    for start in range(0, len(values), CHUNK):
        chunk = values[start : start + CHUNK]
        result = conn.execute(query.where(_is_in(conn, column, chunk)))
        yield from (result.scalars() if scalars else result)


class InLookup:
    """``query`` narrowed to ``column IN (values)``, built once, for a lookup that runs with
    every batch (a module-level constant of :mod:`central.db.ingest`).

    :func:`rows_in_chunks` builds its statement anew on each call, and SQLAlchemy then walks
    the new statement to find its compiled form in the cache: under 300 kiosks at once that
    building and walking was a sixth of a batch's Python time. Here both forms are built once
    (the array of :func:`_is_in` for PostgreSQL, an expanding ``IN`` elsewhere), and
    SQLAlchemy keeps each one's cache key on the object. Other values of the query come as
    bound parameters (``bindparam("org")``), given by name to :meth:`rows`.
    """

    _VALUES = "in_values"

    def __init__(self, query: Select[Any], column: Any, scalars: bool = False) -> None:
        self.scalars = scalars
        self._column = column
        self._plain = query.where(column.in_(bindparam(self._VALUES, expanding=True)))
        kind = _array_kind(column)
        self._array = (
            query.where(column == any_(bindparam(self._VALUES, type_=ARRAY(kind))))
            if kind is not None
            else None
        )

    def rows(self, conn: Connection, values: Sequence[Any], **params: Any) -> Iterator[Any]:
        """The rows (or first column, with ``scalars``) whose ``column`` is one of ``values``,
        read ``CHUNK`` values per statement; no statement at all for no values."""
        statement = self._plain
        if self._array is not None and _as_array(conn, self._column, values):
            statement = self._array
        for start in range(0, len(values), CHUNK):
            chunk = list(values[start : start + CHUNK])
            result = conn.execute(statement, {**params, self._VALUES: chunk})
            yield from (result.scalars() if self.scalars else result)


def _array_kind(column: Any) -> type[BigInteger] | type[String] | None:
    """The element type of the array ``column``'s values travel in: whole numbers or text,
    or None for another kind of column."""
    if isinstance(column.type, Integer):
        return BigInteger
    if isinstance(column.type, String):
        return String
    return None


def _as_array(conn: Connection, column: Any, values: Sequence[Any]) -> bool:
    """Whether ``values`` travel as one array: on PostgreSQL, whole numbers for a whole-number
    column and text for a text column."""
    kind = _array_kind(column)
    if conn.dialect.name != "postgresql" or kind is None:
        return False
    wanted = int if kind is BigInteger else str
    return all(type(v) is wanted for v in values)


def _is_in(conn: Connection, column: Any, values: Sequence[Any]) -> Any:
    """``column IN values``. On PostgreSQL the values travel as one array parameter
    (``column = ANY(%(values)s::VARCHAR[])``): the statement is then the same whatever the
    count, so SQLAlchemy's compiled cache and psycopg's prepared statement serve every batch,
    where an ``IN`` list renders (and PostgreSQL plans) one parameter per value. PostgreSQL
    looks each value up in the column's index, as it does for an ``IN`` list.

    (These lookups were ``column IN (SELECT json_array_elements_text(...))`` before: the
    planner takes such a set to hold 100 values and, on tables of a few thousand rows,
    hashed it and read the whole table, on every batch; tests/central/test_in_lookup.py.)
    Text and whole-number columns only; anything else is the plain ``IN``."""
    kind = _array_kind(column)
    if kind is None or not _as_array(conn, column, values):
        return column.in_(values)
    return column == any_(bindparam(None, list(values), type_=ARRAY(kind)))


#: Erasures of an organisation by the salted hash of the family id (``erased_families``).
_ERASED = InLookup(
    select(erasures.c.family_hash, erasures.c.token).where(erasures.c.org_id == bindparam("org")),
    erasures.c.family_hash,
)
