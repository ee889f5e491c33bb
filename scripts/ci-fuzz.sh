#!/usr/bin/env bash
# Coverage-guided fuzzing of the parsers (atheris), each target for a bounded time.
#
#   bash scripts/ci-fuzz.sh                  # every target, FUZZ_SECONDS (default 30) each
#   FUZZ_SECONDS=300 bash scripts/ci-fuzz.sh wire
#
# Targets (tests/fuzz/targets.py): postcodes (parse_postcode, parse_risk_area), risk_file
# (parse_risk_file), wire (sync.protocol: the body of POST /api/v1/events), admin_times
# (kiosk-admin's --at, --from, --start, --weekday, --date). Each run starts from the seeds in
# tests/fuzz/seeds/TARGET and a scratch corpus; prints its executions and coverage; and on a
# crash keeps the input in $FUZZ_ARTIFACTS/TARGET/crash-* (default artifacts/fuzz), prints the
# traceback and makes the script exit 1. Add a kept input to tests/fuzz/crashes/TARGET/ once
# fixed: tests/fuzz/test_targets.py replays every one.
#
# Without atheris (pip install atheris; manylinux wheels for CPython 3.11), it says so and falls
# back to hypothesis-driven fuzzing of the same targets (tests/fuzz/test_targets.py).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

PY="${PYTHON:-.venv/bin/python}"
[ -x "$PY" ] || PY=python3
SECONDS_EACH="${FUZZ_SECONDS:-30}"
ARTIFACTS="${FUZZ_ARTIFACTS:-artifacts/fuzz}"
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(postcodes risk_file wire admin_times)

say() { echo "ci-fuzz: $*"; }

if ! "$PY" -c "import atheris" 2>/dev/null; then
    say "atheris is not installed for $PY (pip install atheris): NOT coverage-guided;"
    say "falling back to hypothesis-driven fuzzing of the same targets (FUZZ_EXAMPLES=20000)"
    FUZZ_EXAMPLES="${FUZZ_EXAMPLES:-20000}" "$PY" -m pytest tests/fuzz -q -p no:cacheprovider
    exit $?
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
failed=0
summary=()

for target in "${TARGETS[@]}"; do
    seeds="tests/fuzz/seeds/$target"
    if [ ! -d "$seeds" ]; then
        say "no target '$target' (seeds in tests/fuzz/seeds/)"
        exit 2
    fi
    corpus="$WORK/corpus-$target"
    art="$ARTIFACTS/$target"
    mkdir -p "$corpus" "$art"
    log="$WORK/$target.log"
    dict=()
    [ -f "tests/fuzz/dicts/$target.dict" ] && dict=(-dict="tests/fuzz/dicts/$target.dict")
    say "$target: fuzzing for ${SECONDS_EACH}s"
    "$PY" tests/fuzz/fuzz.py "$target" \
        -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
        -print_final_stats=1 -artifact_prefix="$art/" "${dict[@]}" "$corpus" "$seeds" >"$log" 2>&1
    rc=$?
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
    last="$(grep -E '^#[0-9]+' "$log" | tail -n 1)"
    cov="$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")"
    ft="$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")"
    corp="$(sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p' <<<"$last")"
    [ -n "$execs" ] || execs="$(sed -n 's/^#\([0-9]*\).*/\1/p' <<<"$last")"
    line="$target: execs=${execs:-?} cov=${cov:-?} ft=${ft:-?} corpus=${corp:-?} rc=$rc"
    if [ "$rc" -ne 0 ]; then
        failed=1
        line="$line CRASH"
        say "$target CRASHED (exit $rc); the input is kept in:"
        find "$art" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' \) \
            -printf '    %p\n'
        grep -A 30 -E "Uncaught Python exception|ERROR: libFuzzer" "$log" | head -n 40
    fi
    say "$line"
    summary+=("$line")
done

echo
say "summary (${SECONDS_EACH}s per target):"
for line in "${summary[@]}"; do echo "  $line"; done
if [ "$failed" -ne 0 ]; then
    say "FAILED: a target crashed; see the inputs under $ARTIFACTS/"
    exit 1
fi
say "ok: no crash"
