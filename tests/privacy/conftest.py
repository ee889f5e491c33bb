"""Family rights tests: the database fixtures come from tests/database_fixtures.py; here, a
kiosk of lichfield with two families, one of whom will ask to be forgotten."""

from __future__ import annotations

import pytest

from central.db import CentralDB
from tests.privacy.helpers import Families, populate
from tests.reports.helpers import MON_PLAY, WED_BABY, Kiosk


@pytest.fixture
def kiosk(db: CentralDB) -> Kiosk:
    k = Kiosk(db).timetable(MON_PLAY, WED_BABY)
    k.risk("WS7 1AA", "WS11 4", "WS12")
    return k


@pytest.fixture
def families(db: CentralDB, kiosk: Kiosk) -> Families:
    """Sarah (erased in the tests) and Tom, with April 2016's attendances, all synced."""
    return populate(db, kiosk)
