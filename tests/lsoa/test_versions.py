"""Each LSOA import is a new risk-list version that says how it was chosen and from what."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

import kiosk.domain.risk as risk_module
from kiosk.domain.postcodes import RiskArea
from kiosk.domain.risk import RiskList, RiskSource
from kiosk.lsoa_import import build_lsoa_risk_areas, save_lsoa_risk_list
from kiosk.store import LocalStore
from tests.lsoa.helpers import SOUTH_STAFFS, Lsoa, Pc, write_imd, write_onspd

AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    onspd = write_onspd(
        tmp_path / "ONSPD_FEB_2023_UK.csv",
        [Pc("WV8 1AA", "E01029600"), Pc("WV8 2AA", "E01029601"), Pc("WV8 3AA", "E01029602")],
    )
    imd = write_imd(
        tmp_path / "File_1_IoD2019.csv",
        [Lsoa("E01029600", 5), Lsoa("E01029601", 9_000), Lsoa("E01029602", 20_000)],
    )
    return onspd, imd


def test_each_import_is_a_new_version_with_rule_and_sources(tmp_path, files):
    store = LocalStore(tmp_path / "kiosk")
    first = save_lsoa_risk_list(store, build_lsoa_risk_areas(*files, deciles="1"), AT)
    second = save_lsoa_risk_list(
        store,
        build_lsoa_risk_areas(*files, most_deprived="30%", local_authorities=[SOUTH_STAFFS]),
        AT,
    )
    assert (first.number, second.number) == (1, 2)
    assert store.risk_list().version == second.version
    assert second.match("WV8 2AA") == "postcode" and first.match("WV8 2AA") is None
    assert second.rule == (
        "IMD 2019 rank <= 30% (9,853 LSOAs); LAD E07000196 (South Staffordshire)"
    )
    assert [s.role for s in second.sources] == ["postcodes", "imd"]
    assert second.source == "ONSPD_FEB_2023_UK.csv + File_1_IoD2019.csv"


def test_rule_and_sources_survive_reopening_the_store(tmp_path, files):
    store = LocalStore(tmp_path / "kiosk")
    saved = save_lsoa_risk_list(store, build_lsoa_risk_areas(*files, deciles="1-3"), AT)
    store.close()
    (again,) = LocalStore(tmp_path / "kiosk").risk_history()
    assert again == saved
    assert again.sources[0].sha256 == saved.sources[0].sha256 and len(saved.sources[0].sha256) == 64
    assert again.rule == "IMD 2019 deciles 1-3"


def test_a_version_written_before_rules_existed_still_loads(tmp_path):
    old = {
        "number": 1,
        "version": "v1-x",
        "digest": "x",
        "created_at": AT.isoformat(),
        "source": "council.csv",
        "areas": ["postcode:WS7 1AA", "sector:WS7 2"],
    }
    loaded = RiskList.from_dict(old)
    assert (loaded.rule, loaded.sources) == ("", ())
    assert loaded.match("WS7 2BB") == "sector"
    # and a list without them is written as before (no new keys)
    assert set(loaded.to_dict()) == set(old)


def test_source_record_round_trips():
    src = RiskSource("imd", "File_1.csv", "ab" * 32, 123, "2019-09-26", "mtime", 32_844)
    assert RiskSource.from_dict(json.loads(json.dumps(src.to_dict()))) == src


def test_a_big_lists_version_is_hashed_once_not_on_every_decision(monkeypatch):
    calls = []
    real = risk_module.digest_areas
    monkeypatch.setattr(risk_module, "digest_areas", lambda areas: calls.append(1) or real(areas))
    areas = frozenset(RiskArea("postcode", f"WV{n // 1000 + 1} {n % 10}AA") for n in range(5000))
    big = RiskList(7, areas, AT)
    versions = {big.version for _ in range(100)}
    assert len(versions) == 1 and len(calls) == 1


@pytest.mark.parametrize("enabled", [True, False])
def test_loading_a_list_leaves_the_garbage_collector_as_it_was(enabled):
    import gc

    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        RiskList.from_dict({"number": 1, "areas": ["postcode:WS7 1AA"]})
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
