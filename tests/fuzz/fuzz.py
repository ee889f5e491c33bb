"""Coverage-guided fuzzing of the parsers with atheris (libFuzzer for Python).

    python tests/fuzz/fuzz.py TARGET [libFuzzer options] [CORPUS_DIR...]
    python tests/fuzz/fuzz.py wire -max_total_time=30 /tmp/corpus tests/fuzz/seeds/wire

TARGET is one of tests.fuzz.targets.TARGETS (postcodes, risk_file, wire, admin_times). The
modules under test are instrumented for coverage; a crash (any exception but the parser's
documented error, or a broken contract) stops the run and libFuzzer writes the input to
``crash-<sha1>`` (see ``-artifact_prefix``). ``scripts/ci-fuzz.sh`` runs every target for a
bounded time.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

with atheris.instrument_imports(include=["kiosk", "sync", "tests.fuzz"]):
    from tests.fuzz.targets import TARGETS


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: fuzz.py {{{','.join(TARGETS)}}} [libFuzzer options] [corpus...]")
    target = TARGETS[sys.argv[1]]
    atheris.Setup([sys.argv[0], *sys.argv[2:]], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
