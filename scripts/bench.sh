#!/usr/bin/env bash
# `make bench` and `make bench-quick`: every benchmark of bench/, each starting what it needs; their
# printed tables go to bench/RESULTS.md (bench/RESULTS-quick.md with --quick, so that a quick run
# never replaces the full numbers), each with the command that made it.
#
#   scripts/bench.sh [--quick] [BENCHMARK.py ...]    only the benchmarks named, when some are
#   LAUNCH_BENCH_ARGS="--sizes 100 --workers 2" scripts/bench.sh launch_bench.py   other arguments
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"

# Every benchmark, the one place they are listed: its file in bench/, its arguments for `make bench`,
# and for `make bench-quick` (under 2 minutes in all). A file that does not exist is skipped.
# <NAME>_ARGS in the environment (LAUNCH_BENCH_ARGS for launch_bench.py) replaces a benchmark's arguments.
BENCHMARKS=(
  "render_bench.py|--instances 1000|--instances 1000"
  "launch_bench.py||--quick"
  "web_bench.py||--quick"
)

mode=full
results=bench/RESULTS.md
if [ "${1:-}" = "--quick" ]; then
  mode=quick
  results=bench/RESULTS-quick.md
  shift
fi

ensure_venv requirements-dev.txt
ensure_redis
[ -f bench/web_bench.py ] && { apt_install wrk; ensure_postgres; }
export PATH="$VENV/bin:$PATH"

output=$(mktemp)
at_exit "rm -f '$output'"
failed=0
for entry in "${BENCHMARKS[@]}"; do
  IFS='|' read -r name full quick <<<"$entry"
  [ -f "bench/$name" ] || continue
  if [ $# -gt 0 ] && [[ " $* " != *" $name "* ]]; then continue; fi
  override="$(basename "$name" .py | tr '[:lower:]' '[:upper:]')_ARGS"
  if [ -n "${!override+set}" ]; then arguments=${!override}
  elif [ "$mode" = quick ]; then arguments=$quick
  else arguments=$full
  fi
  command=".venv/bin/python bench/$name${arguments:+ $arguments}"
  say "$command"
  started=$SECONDS
  status=0
  # shellcheck disable=SC2086 # the arguments are words
  python "bench/$name" $arguments | tee "$output" || status=$?
  say "bench/$name: $((SECONDS - started)) s, exit status $status"
  python bench/results.py "$results" "bench/$name" "$command" "$output" "$status"
  [ "$status" = 0 ] || failed=1
done
say "Tables written to $results"
exit "$failed"
