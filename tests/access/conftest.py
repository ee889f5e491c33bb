"""Access tests: the database fixtures come from tests/database_fixtures.py."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from central.app import create_app
from tests.access.helpers import Clock, County, seed_county


@pytest.fixture
def county(db) -> County:
    return seed_county(db)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(db, clock):
    app = create_app(db)
    app.state.login_throttle.clock = clock
    with TestClient(app, base_url="http://testserver") as c:
        yield c
