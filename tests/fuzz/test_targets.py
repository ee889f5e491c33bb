"""The fuzz targets as ordinary tests: every seed and every input a fuzz run ever crashed on
(``tests/fuzz/crashes/TARGET/``) must pass, and hypothesis throws bytes at each target too.

This is also ``scripts/ci-fuzz.sh``'s fallback where atheris cannot be installed:
``FUZZ_EXAMPLES=20000 pytest tests/fuzz`` fuzzes the same contracts, driven by hypothesis
instead of coverage.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.targets import TARGETS

HERE = Path(__file__).parent
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))


def _inputs(kind: str) -> list[tuple[str, Path]]:
    return [
        (name, path)
        for name in TARGETS
        for path in sorted((HERE / kind / name).glob("*"))
        if path.is_file()
    ]


@pytest.mark.parametrize(
    ("name", "path"), _inputs("seeds") + _inputs("crashes"), ids=lambda v: getattr(v, "name", v)
)
def test_every_seed_and_every_past_crash_passes(name: str, path: Path) -> None:
    TARGETS[name](path.read_bytes())


def _seeds(name: str) -> list[bytes]:
    return [p.read_bytes() for p in sorted((HERE / "seeds" / name).glob("*"))]


@st.composite
def mutated(draw: st.DrawFn, name: str) -> bytes:
    """A seed with a few bytes replaced, inserted or cut: near-misses of real input."""
    data = bytearray(draw(st.sampled_from(_seeds(name))))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        how = draw(st.sampled_from(["replace", "insert", "cut"]))
        chunk = draw(st.binary(min_size=1, max_size=6))
        if how == "insert" or not data:
            data[at:at] = chunk
        elif how == "replace":
            data[at : at + len(chunk)] = chunk
        else:
            del data[at : at + len(chunk)]
    return bytes(data)


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_any_bytes_keep_every_targets_contract(name: str) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )
    @given(st.one_of(st.binary(max_size=200), mutated(name)))
    def run(data: bytes) -> None:
        TARGETS[name](data)

    run()
