"""Opening the store reads only the risk list in force, not every version it keeps.

A list built from LSOA data holds about half a million postcodes and every import is a new
version, so reading all of them at open would make the kiosk start slower with every import.
"""

from __future__ import annotations

from pathlib import Path

from kiosk.domain.postcodes import parse_risk_area
from kiosk.domain.risk import RiskList
from tests.store.helpers import at


def _save_versions(open_store, count: int) -> list[RiskList]:
    store = open_store()
    saved = [
        store.save_risk_list(frozenset({parse_risk_area(f"WS{n}")}), f"{n}.csv", at())
        for n in range(1, count + 1)
    ]
    store.close()
    return saved


def test_opening_reads_one_version_however_many_are_kept(open_store, monkeypatch) -> None:
    saved = _save_versions(open_store, 6)
    reads: list[int] = []
    real = RiskList.from_dict.__func__

    def counting(cls, data):
        reads.append(int(data.get("number", 0)))
        return real(cls, data)

    monkeypatch.setattr(RiskList, "from_dict", classmethod(counting))
    reopened = open_store()
    assert reopened.risk_list() == saved[-1]
    assert reads == [6]  # the version in force only
    assert [r.number for r in reopened.risk_history()] == [1, 2, 3, 4, 5, 6]


def test_a_damaged_old_version_is_found_when_the_history_is_read(
    open_store, data_dir: Path
) -> None:
    saved = _save_versions(open_store, 3)
    (data_dir / "risk" / "v1.json").write_text("{not json")
    reopened = open_store()
    assert reopened.risk_list() == saved[-1]  # the door is not held up by an old version
    assert [r.number for r in reopened.risk_history()] == [2, 3]
    assert any("risk/v1.json" in p for p in reopened.problems())
    assert not (data_dir / "risk" / "v1.json").exists()  # moved to quarantine, not deleted
    assert list((data_dir / "quarantine").glob("*risk--v1.json"))
    fourth = reopened.save_risk_list(frozenset({parse_risk_area("WS9")}), "c.csv", at())
    assert fourth.number == 4


def test_when_the_newest_versions_are_damaged_the_newest_readable_one_is_in_force(
    open_store, data_dir: Path
) -> None:
    saved = _save_versions(open_store, 4)
    (data_dir / "risk" / "v4.json").write_text("[]")
    (data_dir / "risk" / "v3.json").write_text("")
    reopened = open_store()
    assert reopened.risk_list() == saved[1]
    problems = reopened.problems()
    assert any("risk/v4.json" in p for p in problems)
    assert any("risk/v3.json" in p for p in problems)
