"""Charts for the reach report (matplotlib, Agg backend): SVG for the web, PNG for the PDF.

Every chart comes with alt text that states its figures in words, and the web page and the PDF
also give the figures as a table, so nothing is only in a picture. Colours are a dark and a light
blue (distinguishable without colour vision, and against white at well over 3:1).

    >>> for chart in reach_charts(reach):                       # doctest: +SKIP
    ...     Path(f"{chart.name}.svg").write_text(chart.svg())
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import matplotlib
from matplotlib.figure import Figure
from matplotlib.text import Text

from central.reports.reach import Counts, Reach, percent

if TYPE_CHECKING:
    from central.reports.trend import Trend

# The Agg (raster) backend, never a display. Figures are made with ``Figure`` directly, not
# pyplot, so nothing global is kept between requests of the web server.
matplotlib.use("Agg")

QUALIFYING = "#1f4e79"  # dark blue
OTHERS = "#9dc3e6"  # light blue
REFERENCE = "#b35806"  # dark orange, for the overall share line
INK = "#1a1a1a"
GRID = "#d9d9d9"
#: More sessions than this and the mix chart shows recurring sessions instead of each one held.
MAX_SESSION_BARS = 40

#: Our look, applied while a chart is drawn and saved (never to the whole process).
STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 11,
    "axes.edgecolor": "#8c8c8c",
    "axes.labelcolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.fonttype": "none",  # text stays text in SVG (smaller, searchable)
    "svg.hashsalt": "doorstep",  # the same figures give the same file
    # Labels are people's words (session, site and organisation names): draw every text as
    # written. With mathtext on, a session called "$\frac$" is parsed as a formula and the
    # whole page fails; "Fees $5 or $10" would lose its dollar signs.
    "text.parse_math": False,
    "text.usetex": False,
}


#: Dots per inch of a raster chart on a web page (sharp on a high-density screen).
WEB_DPI = 144


@dataclass(frozen=True)
class Chart:
    name: str
    title: str
    alt: str
    figure: Figure = field(repr=False, compare=False)
    #: Shown on the web as a PNG, not SVG: a map of a county's LSOAs is 100,000 points or
    #: more, megabytes as SVG and some tens of kilobytes as a picture.
    raster: bool = field(default=False, compare=False)

    def svg(self) -> str:
        buf = io.StringIO()
        _as_written(self.figure)
        with matplotlib.rc_context(STYLE):
            self.figure.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
        return buf.getvalue()

    def png(self, dpi: int = 150) -> bytes:
        buf = io.BytesIO()
        _as_written(self.figure)
        with matplotlib.rc_context(STYLE):
            self.figure.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
        return buf.getvalue()


def _as_written(figure: Figure) -> None:
    """No text of ``figure`` is read as mathtext, even one made outside :data:`STYLE`."""
    for text in figure.findobj(Text):
        text.set_parse_math(False)


def _figure(width: float = 6.4, height: float = 3.6) -> tuple[Figure, Any]:
    fig = Figure(figsize=(width, height), layout="constrained")
    ax = fig.add_subplot()
    ax.grid(axis="y", color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    return fig, ax


def _nothing_to_show(ax: Any, message: str) -> None:
    """An empty chart says so in words: no axes counting nothing, no legend for no bars."""
    ax.set_axis_off()
    ax.text(
        0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color=INK, fontsize=12
    )


def _stacked(
    ax: Any, labels: Sequence[str], qualifying: Sequence[int], others: Sequence[int]
) -> None:
    x = range(len(labels))
    ax.bar(x, qualifying, color=QUALIFYING, label="qualify for the incentive")
    ax.bar(x, others, bottom=qualifying, color=OTHERS, label="do not qualify")
    ax.set_xticks(list(x), labels)
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(0, 1.18), ncols=2)
    ax.yaxis.get_major_locator().set_params(integer=True)
    for i, (q, o) in enumerate(zip(qualifying, others, strict=True)):
        if q + o:
            ax.annotate(str(q + o), (i, q + o), ha="center", va="bottom", fontsize=9, color=INK)


def reach_chart(reach: Reach) -> Chart:
    """Children reached by month (or by site, for a single month), qualifying and not."""
    rows: list[Counts] = reach.by_month if len(reach.by_month) > 1 else reach.by_site
    by = "month" if len(reach.by_month) > 1 else "site"
    if reach.org_id is None and by == "site":
        rows, by = reach.by_org, "organisation"
    fig, ax = _figure()
    title = f"Children reached by {by}"
    if not any(c.children for c in rows):
        nobody = f"No children came in {reach.period.label}."
        _nothing_to_show(ax, nobody)
        return Chart("reach", title, f"Bar chart, {title.lower()}: {nobody}", fig)
    labels = [c.label for c in rows]
    _stacked(
        ax,
        labels,
        [c.qualifying_children for c in rows],
        [c.children - c.qualifying_children for c in rows],
    )
    ax.set_ylabel("children (each counted once)")
    if len(labels) > 6:
        ax.tick_params(axis="x", labelrotation=45)
    parts = "; ".join(
        f"{c.label}: {c.children} children, {c.qualifying_children} qualify ({percent(c.share)})"
        for c in rows
    )
    alt = (
        f"Bar chart, {title.lower()}, {reach.period.label}. {parts or 'No children came.'}"
        if len(rows) <= 12
        else f"Bar chart, {title.lower()}, {reach.period.label}: {len(rows)} bars; "
        f"{reach.total.children} children in all, {reach.total.qualifying_children} qualify "
        f"({percent(reach.total.share)}). The figures are in the table that follows."
    )
    return Chart("reach", title, alt, fig)


def visits_chart(reach: Reach) -> Chart:
    """Families by how often they came in the period."""
    fig, ax = _figure()
    bands = reach.visit_bands
    if not any(b.families for b in bands):
        nobody = f"No families came in {reach.period.label}."
        _nothing_to_show(ax, nobody)
        return Chart("visits", "How often families came", f"Bar chart: {nobody}", fig)
    _stacked(
        ax,
        [b.label for b in bands],
        [b.qualifying_families for b in bands],
        [b.families - b.qualifying_families for b in bands],
    )
    ax.set_ylabel("families")
    parts = "; ".join(
        f"{b.label}: {b.families} families ({b.qualifying_families} qualify)" for b in bands
    )
    alt = f"Bar chart, families by how often they came, {reach.period.label}. {parts}."
    return Chart("visits", "How often families came", alt, fig)


def heard_from_chart(reach: Reach) -> Chart:
    """New registrations by how they first heard of the organisation."""
    rows = list(reversed(reach.heard_from))
    if not reach.registrations:
        fig, ax = _figure()
        nobody = f"No new families registered in {reach.period.label}."
        _nothing_to_show(ax, nobody)
        return Chart("heard_from", "How new families heard of us", f"Bar chart: {nobody}", fig)
    fig, ax = _figure(6.4, max(3.6, 0.6 + 0.36 * len(rows)))
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", color=GRID, linewidth=0.8)
    ax.barh([label for _c, label, _n in rows], [n for _c, _l, n in rows], color=QUALIFYING)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("new families")
    for i, (_c, _l, n) in enumerate(rows):
        if n:
            ax.annotate(f" {n}", (n, i), va="center", ha="left", fontsize=9, color=INK)
    parts = "; ".join(f"{label}: {n}" for _c, label, n in reach.heard_from)
    alt = (
        f"Bar chart, how the {reach.registrations} families who registered in "
        f"{reach.period.label} first heard of us. {parts}."
    )
    return Chart("heard_from", "How new families heard of us", alt, fig)


def mix_chart(reach: Reach) -> Chart:
    """The qualifying share of the children at each session, against the overall share."""
    rows = [c for c in reach.occurrences if c.child_attendances]
    each = reach.org_id is not None and len(rows) <= MAX_SESSION_BARS
    if reach.org_id is None:  # every organisation: the mix of each one's sessions
        rows = [c for c in reach.by_org if c.child_attendances][:MAX_SESSION_BARS]
    elif not each:
        rows = [c for c in reach.by_session if c.child_attendances][:MAX_SESSION_BARS]
    what = "organisation" if reach.org_id is None else "session"
    shares = [100 * (c.attendance_share or 0) for c in rows]
    fig, ax = _figure()
    # The share of child-attendances (each child counted at every session), not of children:
    # the title says so, as the headline beside it counts each child once.
    title = (
        "Qualifying share of child-attendances by organisation"
        if reach.org_id is None
        else "Qualifying share of child-attendances at each session"
    )
    if not rows:
        nobody = f"No children came in {reach.period.label}."
        _nothing_to_show(ax, nobody)
        return Chart("mix", title, f"Bar chart with no sessions: {nobody}", fig)
    bar_label = "share at its sessions" if reach.org_id is None else "share at the session"
    ax.bar(range(len(rows)), shares, color=QUALIFYING, width=0.7, label=bar_label)
    overall = reach.total.attendance_share
    if overall is not None:
        ax.axhline(
            100 * overall,
            color=REFERENCE,
            linestyle="--",
            linewidth=1.6,
            label=f"overall: {percent(overall)} of child-attendances",
        )
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(0, 1.18), ncols=2)
    ax.set_ylim(0, 100)
    ax.set_ylabel("% of child-attendances that qualify")
    if each:
        ax.set_xticks(
            range(len(rows)),
            [f"{c.key[2].day} {c.key[2]:%b}" for c in rows],
            rotation=90 if len(rows) > 10 else 0,
        )
        ax.set_xlabel("each session held")
    else:
        ax.set_xticks(
            range(len(rows)), [c.label[:28] for c in rows], rotation=90 if len(rows) > 6 else 0
        )
    ax.tick_params(axis="x", labelsize=9)
    lo, hi = min(shares), max(shares)
    alt = (
        f"Bar chart, the share of child-attendances (each child counted at every session) "
        f"that qualify at each {'session held' if each else what} in {reach.period.label}: "
        f"{len(rows)} bars, from {lo:.0f}% to {hi:.0f}%, {percent(overall)} overall. "
        "The figures are in the table that follows."
    )
    return Chart("mix", title, alt, fig)


def reach_charts(reach: Reach) -> list[Chart]:
    """The four charts of the reach report, in the order they are shown."""
    with matplotlib.rc_context(STYLE):
        return [reach_chart(reach), visits_chart(reach), heard_from_chart(reach), mix_chart(reach)]


def trend_chart(trend: Trend) -> Chart:
    """Children reached each month (qualifying and not) and the qualifying share, with the
    baseline month marked."""
    from central.reports.trend import points_text, share_text

    with matplotlib.rc_context(STYLE):
        fig, ax = _figure(7.2, 3.8)
        months = trend.months
        title = "Children reached month by month"
        if trend.empty:
            _nothing_to_show(ax, f"No children came in {trend.period.label}.")
            return Chart("trend", title, f"No children came in {trend.period.label}.", fig)
        labels = [m.label + ("\n(baseline)" if m.month == trend.baseline else "") for m in months]
        _stacked(
            ax,
            labels,
            [m.qualifying_children for m in months],
            [m.other_children for m in months],
        )
        ax.set_ylabel("children (each once a month)")
        share = ax.twinx()
        share.plot(
            range(len(months)),
            [100 * m.share if m.share is not None else float("nan") for m in months],
            color=REFERENCE,
            marker="o",
            linewidth=1.8,
            label="qualifying share",
        )
        share.set_ylim(0, 100)
        share.set_ylabel("% of the children who qualify", color=REFERENCE)
        share.spines["right"].set_visible(True)
        share.legend(frameon=False, loc="upper right", bbox_to_anchor=(1, 1.18))
        base = next(i for i, m in enumerate(months) if m.month == trend.baseline)
        ax.axvline(base, color="#8c8c8c", linestyle=":", linewidth=1.2)
        if len(months) > 6:
            ax.tick_params(axis="x", labelrotation=45, labelsize=8)
        last, first = months[-1], trend.base
        alt = (
            f"Bar and line chart, children reached each month in {trend.period.label}, "
            f"{trend.scope}. Baseline {first.label}: {first.children} children, "
            f"{first.qualifying_children} qualifying ({share_text(first.share)}). "
            f"{last.label}: {last.children} children, {last.qualifying_children} qualifying "
            f"({share_text(last.share)}, {points_text(last.share, first.share)} on the "
            "baseline). The figures are in the table that follows."
        )
        return Chart("trend", title, alt, fig)
