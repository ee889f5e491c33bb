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
    and_,
    any_,
    bindparam,
    func,
    insert,
    literal_column,
    or_,
    select,
    true,
    union_all,
)

from central.db.records import dumps
from central.db.schema import erasures, privacy_salts
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
    if conn.dialect.name != "postgresql" or len(rows) == 1 or not _same_keys(rows):
        conn.execute(insert(table), rows)
        return
    sql, processors = _json_insert(conn.dialect, table, tuple(rows[0]))
    conn.exec_driver_sql(sql, {"rows": _json_rows(rows, processors)})


def insert_tables(
    conn: Connection, writes: Sequence[tuple[Table, Sequence[Mapping[str, Any]]]]
) -> None:
    """Insert each table's rows (:func:`insert_rows`), tables in the order given: a table
    after those its rows refer to.

    On PostgreSQL, all in one statement: each table's ``INSERT ... json_populate_recordset``
    but the last is a data-modifying ``WITH``, and the last is the statement. A batch's six
    inserts (events, families, children, cards, attendances, the children at each) were six
    round trips under the organisation's lock. Foreign keys are checked at the statement's
    end, when every row is in; a duplicate anywhere fails the whole statement, as it failed
    the batch's transaction before.
    """
    writes = [(table, rows) for table, rows in writes if rows]
    if (
        conn.dialect.name != "postgresql"
        or len(writes) < 2
        or not all(_same_keys(rows) for _table, rows in writes)
    ):
        for table, rows in writes:
            insert_rows(conn, table, rows)
        return
    statements, params = [], {}
    for n, (table, rows) in enumerate(writes):
        name = f"rows_{n}"
        sql, processors = _json_insert(conn.dialect, table, tuple(rows[0]), name)
        statements.append(sql)
        params[name] = _json_rows(rows, processors)
    written = ", ".join(f"written_{n} AS ({sql})" for n, sql in enumerate(statements[:-1]))
    conn.exec_driver_sql(f"WITH {written} {statements[-1]}", params)


def _same_keys(rows: Sequence[Mapping[str, Any]]) -> bool:
    return all(row.keys() == rows[0].keys() for row in rows)


def _json_rows(rows: Sequence[Mapping[str, Any]], processors: list[Any]) -> str:
    """``rows`` as one JSON array, each value through its column's bind processing first."""
    if processors:
        processed = []
        for row in rows:
            copy = dict(row)
            for name, process in processors:
                copy[name] = process(copy[name])
            processed.append(copy)
        rows = processed
    return pydantic_core.to_json(rows).decode("utf-8")


#: ``_json_insert``'s answers, by dialect class, table, column names and parameter name.
_JSON_INSERTS: dict[tuple[type, Table, tuple[str, ...], str], tuple[str, list[Any]]] = {}


def _json_insert(
    dialect: Any, table: Table, names: tuple[str, ...], param: str = "rows"
) -> tuple[str, list[Any]]:
    """``INSERT INTO t (names) SELECT names FROM json_populate_recordset(NULL::t, ...)`` for
    PostgreSQL, its rows in the parameter ``param``, and the bind processors of its columns
    that have one (not JSON's)."""
    key = (type(dialect), table, names, param)
    if key not in _JSON_INSERTS:
        preparer = dialect.identifier_preparer
        columns = [table.c[name] for name in names]
        listed = ", ".join(preparer.format_column(column) for column in columns)
        name = preparer.format_table(table)
        sql = (
            f"INSERT INTO {name} ({listed}) SELECT {listed} "
            f"FROM json_populate_recordset(NULL::{name}, %({param})s::json)"
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
    (each value looked up on its own for PostgreSQL, :func:`_each_value`; an expanding ``IN``
    elsewhere), and
    SQLAlchemy keeps each one's cache key on the object. Other values of the query come as
    bound parameters (``bindparam("org")``), given by name to :meth:`rows`.

    Several keys make one statement of two lookups: a row is found when, for any key, its
    column is one of that key's values. A key is a column, or ``(column, condition)`` for a
    column matched only where ``condition`` holds too (a seq is a seq of one device).
    """

    def __init__(self, query: Select[Any], *keys: Any, scalars: bool = False) -> None:
        if not keys:
            raise ValueError("InLookup needs a column to look up")
        self.scalars = scalars
        pairs = [key if isinstance(key, tuple) else (key, None) for key in keys]
        self._columns = [column for column, _condition in pairs]
        self._names = (
            ["in_values"] if len(pairs) == 1 else [f"in_values_{n}" for n in range(len(pairs))]
        )

        def narrowed(matches: Any) -> Select[Any]:
            found = [
                matches(column, name)
                if condition is None
                else and_(condition, matches(column, name))
                for (column, condition), name in zip(pairs, self._names, strict=True)
            ]
            return query.where(or_(*found))

        self._plain = narrowed(lambda column, name: column.in_(bindparam(name, expanding=True)))
        kinds = [_array_kind(column) for column in self._columns]
        self._array = (
            _each_value(query, pairs, self._names)
            if all(kind is not None for kind in kinds)
            else None
        )

    def rows(self, conn: Connection, *values: Sequence[Any], **params: Any) -> Iterator[Any]:
        """The rows (or first column, with ``scalars``) whose column is one of ``values`` (one
        list of values per key), read ``CHUNK`` values of each per statement; no statement at
        all for no values. With several keys, past ``CHUNK`` values a row found by two of them
        can come once from each statement that finds it."""
        if len(values) != len(self._columns):
            raise TypeError(f"InLookup.rows takes {len(self._columns)} list(s) of values")
        # Each value once: PostgreSQL's form finds a row once per value that names it.
        values = tuple(list(dict.fromkeys(listed)) for listed in values)
        statement = self._plain
        if self._array is not None and all(
            _as_array(conn, column, listed)
            for column, listed in zip(self._columns, values, strict=True)
        ):
            statement = self._array
        statements = max(-(-len(listed) // CHUNK) for listed in values)
        for n in range(statements):
            chunks = {
                name: list(listed[n * CHUNK : (n + 1) * CHUNK])
                for name, listed in zip(self._names, values, strict=True)
            }
            result = conn.execute(statement, {**params, **chunks})
            yield from (result.scalars() if self.scalars else result)


def _each_value(query: Select[Any], pairs: list[tuple[Any, Any]], names: list[str]) -> Any:
    """PostgreSQL's form of :class:`InLookup`: each key's values travel as one array, and each
    value is looked up on its own (``unnest`` joined ``LATERAL`` to the query).

    ``column = ANY(array)`` or ``IN`` leave PostgreSQL to choose between the column's index
    and reading the whole table, by its statistics. On a new server (tables that grew faster
    than autovacuum analyses them) it has none, guesses that a few values match a twentieth
    of the table, and reads it whole on every batch; psycopg's prepared statements then keep
    that choice for the connection's life. Here each value is a lookup of its own, so the
    index is used whatever the statistics say. With several keys, a row found by two of them
    comes twice.
    """
    parts = []
    for (column, condition), name in zip(pairs, names, strict=True):
        values = (
            func.unnest(bindparam(name, type_=ARRAY(_array_kind(column))))
            .table_valued("value")
            .render_derived(name=f"{name}_each")
        )
        where = column == values.c.value
        # OFFSET 0: PostgreSQL would otherwise fold the lookup back into a plain join, and
        # choose between index and whole table again, by the statistics it does not have.
        found = (
            query.where(where if condition is None else and_(condition, where))
            .offset(literal_column("0"))
            .lateral(f"{name}_found")
        )
        parts.append(select(*found.c).select_from(values).join(found, true()))
    return parts[0] if len(parts) == 1 else union_all(*parts)


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
    where an ``IN`` list renders (and PostgreSQL plans) one parameter per value.

    For readers that ask once a page (kiosk health, dashboards), whose queries may group:
    what runs with every batch is an :class:`InLookup`, which looks each value up on its
    own (:func:`_each_value`). Text and whole-number columns only; anything else is the
    plain ``IN``."""
    kind = _array_kind(column)
    if kind is None or not _as_array(conn, column, values):
        return column.in_(values)
    return column == any_(bindparam(None, list(values), type_=ARRAY(kind)))


#: Erasures of an organisation by the salted hash of the family id (``erased_families``).
_ERASED = InLookup(
    select(erasures.c.family_hash, erasures.c.token).where(erasures.c.org_id == bindparam("org")),
    erasures.c.family_hash,
)
