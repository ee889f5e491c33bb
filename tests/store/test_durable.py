"""AtomicJSONStorage: TinyDB files that are never half-written and are parsed only when changed."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tinydb import Query, TinyDB

from kiosk.store import durable
from kiosk.store.durable import AtomicJSONStorage
from kiosk.store.errors import CorruptFileError, StoreError


def test_tinydb_inserts_and_finds_through_the_atomic_storage(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    with TinyDB(path, storage=AtomicJSONStorage) as db:
        db.insert({"greeting_name": "Sam"})
        db.insert({"greeting_name": "Priya"})
        db.table("cards").insert({"uid": "04A23B1C"})
    with TinyDB(path, storage=AtomicJSONStorage) as db:
        assert db.search(Query().greeting_name == "Priya") == [{"greeting_name": "Priya"}]
        assert db.table("cards").all() == [{"uid": "04A23B1C"}]
    # and the file is an ordinary TinyDB JSON file
    with TinyDB(path, access_mode="r") as plain:
        assert len(plain) == 2


def test_a_write_leaves_no_temporary_file_behind(tmp_path: Path) -> None:
    storage = AtomicJSONStorage(tmp_path / "db.json")
    for n in range(5):
        storage.write({"t": {"1": {"n": n}}})
    assert sorted(os.listdir(tmp_path)) == ["db.json"]
    assert json.loads((tmp_path / "db.json").read_text()) == {"t": {"1": {"n": 4}}}


def test_a_write_that_fails_keeps_the_old_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "db.json"
    storage = AtomicJSONStorage(path)
    storage.write({"t": {"1": {"n": "old"}}})

    def broken_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(StoreError, match="could not write"):
        storage.write({"t": {"1": {"n": "new"}}})
    monkeypatch.undo()
    assert json.loads(path.read_text()) == {"t": {"1": {"n": "old"}}}
    assert os.listdir(tmp_path) == ["db.json"]
    assert AtomicJSONStorage(path).read() == {"t": {"1": {"n": "old"}}}


def test_a_write_fsyncs_the_new_file_and_then_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[bool] = []  # True for a folder
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        synced.append(stat.S_ISDIR(os.fstat(fd).st_mode))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    AtomicJSONStorage(tmp_path / "db.json").write({"t": {}})
    assert synced == [False, True]


def test_a_file_replaced_by_another_writer_is_seen_at_once(tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    mine, theirs = AtomicJSONStorage(path), AtomicJSONStorage(path)
    mine.write({"t": {"1": {"v": 1}}})
    before = mine.generation
    theirs.write({"t": {"1": {"v": 2}}})
    assert mine.peek() == {"t": {"1": {"v": 2}}}
    assert mine.generation != before


def test_an_unchanged_file_is_not_parsed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "db.json"
    AtomicJSONStorage(path).write({"t": {"1": {"v": 1}}})
    reader = AtomicJSONStorage(path)
    parses: list[str] = []
    real_parse = durable.parse_tables
    monkeypatch.setattr(
        durable, "parse_tables", lambda raw, p: parses.append(p) or real_parse(raw, p)
    )
    for _ in range(10):
        assert reader.peek() == {"t": {"1": {"v": 1}}}
    assert len(parses) == 1


def test_read_gives_tinydb_a_private_copy(tmp_path: Path) -> None:
    storage = AtomicJSONStorage(tmp_path / "db.json")
    storage.write({"t": {"1": {"v": 1}}})
    copy = storage.read()
    assert copy is not None
    copy["t"]["1"]["v"] = 99
    assert storage.peek() == {"t": {"1": {"v": 1}}}


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b'{"t": {"1": {"v": 1}', "truncated"),
        (b"", "empty"),
        (b'{"t": {"1": \x00\x00\x00\x00', "zero bytes"),
        (b"hello", "not valid JSON"),
        (b"[1, 2]", "not a TinyDB database"),
        (b'{"t": [1]}', "not a table"),
        (b'{"t": {"1": 5}}', "not an object"),
        (b'{"t": {"1": "\xff"}}', "not UTF-8"),
    ],
)
def test_a_damaged_file_is_reported_with_its_path_and_what_is_wrong(
    tmp_path: Path, content: bytes, words: str
) -> None:
    path = tmp_path / "db.json"
    path.write_bytes(content)
    with pytest.raises(CorruptFileError) as caught:
        AtomicJSONStorage(path).peek()
    assert caught.value.path == str(path)
    assert words in caught.value.reason
    assert str(path) in str(caught.value)


def test_a_missing_file_reads_as_an_empty_database(tmp_path: Path) -> None:
    storage = AtomicJSONStorage(tmp_path / "missing.json")
    assert storage.read() is None
    assert not storage.exists()


def test_unchanged_documents_are_not_serialised_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = AtomicJSONStorage(tmp_path / "db.json")
    docs = {str(i): {"n": i} for i in range(50)}
    storage.write({"t": docs})
    dumped: list[object] = []
    real_dump = durable.dump_json
    monkeypatch.setattr(durable, "dump_json", lambda v: dumped.append(v) or real_dump(v))
    storage.write({"t": {**docs, "51": {"n": 51}}})
    assert {"n": 51} in dumped
    assert not any(d == {"n": 3} for d in dumped)
    assert json.loads((tmp_path / "db.json").read_text())["t"]["51"] == {"n": 51}


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["append", "replace", "delete", "new_table", "reload"]),
            st.integers(0, 5),
            st.text(max_size=5),
        ),
        max_size=25,
    )
)
def test_the_file_always_holds_exactly_what_was_written(tmp_path_factory, steps) -> None:
    path = tmp_path_factory.mktemp("serialise") / "db.json"
    storage = AtomicJSONStorage(path)
    tables: dict[str, dict[str, object]] = {"events": {}}
    next_id = 1
    for op, n, text in steps:
        table = dict(tables["events"])
        if op == "append":
            table[str(next_id)] = {"n": next_id, "text": text}
            next_id += 1
        elif op == "replace" and table:
            key = sorted(table)[n % len(table)]
            table[key] = {"replaced": text}
        elif op == "delete" and table:
            del table[sorted(table)[n % len(table)]]
        elif op == "new_table":
            tables[f"t{n}"] = {"1": {"text": text}}
        elif op == "reload":
            storage = AtomicJSONStorage(path)
            storage.peek()
        tables = {**tables, "events": table}
        storage.write(tables)
        assert json.loads(path.read_text(encoding="utf-8")) == tables
