#!/usr/bin/env bash
# `make reliability`: the fault tests (clusters/tests/test_site_faults.py, docs/reliability.md) RUNS
# times (3); every run of each fault adds its row to $FAULT_RESULTS (var/fault-results.jsonl, emptied
# first), and scripts/reliability_table.py writes their table into docs/reliability.md.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"

ensure_venv requirements-dev.txt
# Each fault test starts a Redis and a PostgreSQL server of its own, and restarts them.
apt_install redis-server postgresql
ensure_redis
export PATH="$VENV/bin:$PATH"
export FAULT_RESULTS=${FAULT_RESULTS:-$VAR/fault-results.jsonl}
rm -f "$FAULT_RESULTS"
runs=${RUNS:-3}
status=0
for run in $(seq "$runs"); do
  say "fault tests, run $run of $runs"
  python -m pytest -p no:cacheprovider -q -m slow clusters/tests/test_site_faults.py || status=1
done
python scripts/reliability_table.py "$FAULT_RESULTS" docs/reliability.md
exit "$status"
