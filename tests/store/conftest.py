from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.store import LocalStore
from tests.fakes.store import MemoryStore


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def open_store(data_dir: Path) -> Iterator[Callable[..., LocalStore]]:
    """Open (another) LocalStore on the test's data folder; all are closed at the end."""
    opened: list[LocalStore] = []

    def _open(**kwargs) -> LocalStore:
        store = LocalStore(kwargs.pop("path", data_dir), **kwargs)
        opened.append(store)
        return store

    yield _open
    for store in opened:
        store.close()


@pytest.fixture
def store(request: pytest.FixtureRequest, open_store: Callable[..., LocalStore]) -> Any:
    """A LocalStore on the test's data folder; a test marked ``on_both_stores`` runs a second
    time on tests.fakes.store's MemoryStore, the one the other tests use in LocalStore's place."""
    if getattr(request, "param", "local") == "memory":
        return MemoryStore()
    return open_store()
