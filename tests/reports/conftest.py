"""Reports tests: the database fixtures come from tests/database_fixtures.py; here, a kiosk."""

from __future__ import annotations

import pytest

from central.db import CentralDB
from tests.reports.helpers import MON_PLAY, WED_BABY, Kiosk


@pytest.fixture
def kiosk(db: CentralDB) -> Kiosk:
    """lichfield's kiosk at the library: Stay and Play on Mondays, Baby Group on Wednesdays,
    a risk list of WS7 1AA, WS11 4 and WS12."""
    k = Kiosk(db).timetable(MON_PLAY, WED_BABY)
    k.risk("WS7 1AA", "WS11 4", "WS12")
    return k
