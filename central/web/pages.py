"""Rendering the dashboard's pages (Jinja2, autoescaped) and the stand-alone reach report."""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from central.health import LABELS
from central.reports.charts import WEB_DPI, Chart
from central.reports.money import format_money
from central.reports.period import long_date
from central.reports.reach import Reach, percent
from central.reports.wording import plural

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


def _number(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _short_date(value: date) -> str:
    return f"{value:%a} {value.day} {value:%b %Y}"


_CODE = re.compile(r"`([^`]+)`")


def code_spans(text: str) -> Markup:
    """Plain text with its `commands` as ``<code>``: escaped first, so only the tags we add
    are markup (what to do about a kiosk names commands to run)."""
    return Markup(_CODE.sub(r"<code>\1</code>", str(escape(text))))


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(("html",)),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        money=lambda v: format_money(v if isinstance(v, Decimal) or v is None else Decimal(v)),
        percent=percent,
        long_date=long_date,
        short_date=_short_date,
        number=_number,
        code_spans=code_spans,
        state_label=lambda level: LABELS.get(level, level),
        share1=lambda v: "—" if v is None else f"{100 * v:.1f}%",
        plural=lambda n, word, words=None: plural(n or 0, word, words),
    )
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def chart_src(chart: Chart) -> str:
    """A chart as an inline ``<img>`` source: SVG, or PNG for a raster one (the map)."""
    if chart.raster:
        return "data:image/png;base64," + base64.b64encode(chart.png(dpi=WEB_DPI)).decode()
    return "data:image/svg+xml;base64," + base64.b64encode(chart.svg().encode()).decode()


def chart_views(charts: Sequence[Chart]) -> list[dict[str, str]]:
    """Charts as ``<img>`` sources (inline data) with their titles and alt text."""
    return [{"name": c.name, "title": c.title, "alt": c.alt, "src": chart_src(c)} for c in charts]


def stylesheet() -> str:
    return (STATIC / "dashboard.css").read_text(encoding="utf-8")


def standalone_reach_html(reach: Reach, charts: Sequence[Chart]) -> str:
    """The reach report as one HTML file (styles and charts inside), for e-mail or archive."""
    return render(
        "reach_standalone.html",
        reach=reach,
        charts=chart_views(charts),
        inline_css=stylesheet(),
        show_names=reach.org_id is not None,
    )


def standalone_area_reach_html(
    area: Any, charts: Sequence[Chart], no_map: str | None = None
) -> str:
    """Reach against the population as one HTML file (styles and pictures inside); ``no_map``
    says why there is no map."""
    return render(
        "area_reach_standalone.html",
        area=area,
        area_charts=chart_views(charts),
        no_map=no_map,
        show_area_rows=True,
        inline_css=stylesheet(),
    )
