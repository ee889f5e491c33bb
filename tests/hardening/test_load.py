"""300 kiosks syncing at once against a real server on PostgreSQL: no errors, and the server
holds exactly what was sent (none lost, none duplicated). Timings are bench/load.py's job."""

from __future__ import annotations

import os

import pytest

from bench.load import postgres_schema, report, run_load
from tests.sync.servers import PG_ENV

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def test_300_kiosks_syncing_at_once_lose_and_duplicate_nothing(tmp_path):
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set (run scripts/ci-postgres.sh)")
    with postgres_schema(base) as url:
        result = run_load(
            url,
            kiosks=300,
            batches=1,
            events=20,
            orgs=30,
            workers=2,
            deadline=60,
            log=tmp_path / "server.log",
        )
    print(report(result))
    assert result.errors == []
    assert result.sent == 300 * 20
    assert result.held == result.distinct == result.sent
    assert (result.lost, result.duplicated, result.refused) == (0, 0, 0)
    assert result.kiosks_not_fully_held == 0
    assert result.statuses == {"accepted": result.sent}
