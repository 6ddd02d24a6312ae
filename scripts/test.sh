#!/usr/bin/env bash
# `make test`: lint, Django's checks and the whole test suite, with everything they need
# installed and started by this script. Extra arguments go to pytest (e.g. -m "not slow").
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"

ensure_venv requirements-dev.txt
# cloud-init's schema validator checks every rendered cloud-config; Chromium drives the browser tests;
# the Slurm service's test runs Debian's slurmctld, slurmd and munged from the rendered configuration.
apt_install cloud-init chromium chromium-driver slurm-wlm munge
# The desktop cloud's boot tests (docs/desktop-cloud.md): QEMU, the seed's ISO maker, SSH into the
# guests, and debootstrap for the base image, which is kept between runs in the user's cache
# (a fresh clone's var/ would build it again each time).
apt_install qemu-system-x86 qemu-utils genisoimage debootstrap e2fsprogs openssh-client
export PORTAL_IMAGE_DIR=${PORTAL_IMAGE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/context-portal/images}
# The fault tests (docs/reliability.md) start, and restart, a Redis and a PostgreSQL of their own.
apt_install redis-server postgresql
ensure_redis
ensure_postgres
export PATH="$VENV/bin:$PATH"

say "ruff"
ruff check .
ruff format --check .
say "Django checks"
python manage.py check
python manage.py makemigrations --check --dry-run
say "pytest"
set +e
python -m pytest "$@"
status=$?
set -e
if [ "$status" = 5 ]; then
  echo "pytest collected no tests: that is a failure." >&2
  exit 1
fi
[ "$status" = 0 ] || exit "$status"
# The randomized convergence test (issue 11) and the races between writers run on PostgreSQL too
# (its row locks and SQLite's one write lock interleave writers differently), whenever slow tests ran.
case " $* " in
  *"not slow"*) ;;
  *)
    if [ $# -eq 0 ]; then
      say "pytest: the convergence test and the writers' races on PostgreSQL"
      DATABASE_URL=$TEST_POSTGRES_URL python -m pytest clusters/tests/test_writer_races.py -q
      DATABASE_URL=$TEST_POSTGRES_URL python -m pytest clusters/tests/test_convergence.py -m slow -q
    fi
    ;;
esac
