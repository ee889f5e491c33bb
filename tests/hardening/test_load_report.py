"""bench/load.py's side-by-side table: with several rounds, the medians and the p99's range."""

from __future__ import annotations

from collections import Counter

from bench.load import LoadResult, side_by_side


def _run(p99_ms: float, server_cpu: float) -> LoadResult:
    # 100 answers: 98 at 1 s and two at p99_ms, so the p99 (the 99th of 100) is p99_ms
    events = [1.0] * 98 + [p99_ms / 1000, p99_ms / 1000]
    return LoadResult(
        kiosks=10,
        sent=100,
        wall_seconds=10.0,
        statuses=Counter({"accepted": 100}),
        errors=[],
        held=100,
        distinct=100,
        lost=0,
        duplicated=0,
        refused=0,
        kiosks_not_fully_held=0,
        latencies={"events": events},
        capacity="-",
        server_cpu=server_cpu,
        cores=2,
    )


def _cells(table: str, label: str) -> list[str]:
    line = next(line for line in table.splitlines() if line.startswith(label))
    return line[22:].split()


def test_several_rounds_show_the_medians_and_the_range():
    table = side_by_side(
        {
            1: [_run(4000, 9), _run(2000, 7), _run(3000, 8)],
            2: [_run(2500, 6), _run(2700, 5), _run(2600, 4)],
        }
    )
    assert _cells(table, "events p99 ") == ["3000", "ms", "2600", "ms"]
    assert _cells(table, "events p99, range") == ["2000-4000", "ms", "2500-2700", "ms"]
    assert _cells(table, "rounds") == ["3", "3"]
    assert _cells(table, "server CPU") == ["8", "s", "5", "s"]
    assert _cells(table, "result") == ["ok", "ok"]


def test_one_round_prints_no_range_and_any_failed_run_fails_the_column():
    bad = _run(2000, 1)
    bad.errors.append("kiosk-0001 events: HTTP 500")
    table = side_by_side({1: [_run(2000, 1)], 2: [bad]})
    assert "range" not in table and "rounds" not in table
    assert _cells(table, "errors") == ["0", "1"]
    assert _cells(table, "result") == ["ok", "FAILED"]
