"""The pictures that go with reach by area: the trend over its months and the map (issue 18)."""

from __future__ import annotations

from typing import Any

from central.db import CentralDB
from central.reports.charts import Chart


def area_charts(db: CentralDB, report: Any) -> list[Chart]:
    """The charts shown with ``report`` (an ``AreaReach``), in order."""
    return []
