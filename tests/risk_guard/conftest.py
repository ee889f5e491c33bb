"""Each test here runs against both command lines (``clis.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.risk_guard.clis import CentralCli, KioskCli


@pytest.fixture(params=[KioskCli, CentralCli], ids=["kiosk-admin", "kiosk-central"])
def cli(request: pytest.FixtureRequest, tmp_path: Path, capsys) -> KioskCli | CentralCli:
    return request.param(tmp_path, capsys)
