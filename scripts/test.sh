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
# The suite runs on both databases the portal supports (docs/testing.md): the embedded SQLite, then
# PostgreSQL (a test database of the run's own on TEST_POSTGRES_URL's server), whose row locks and
# types (integer ranges, case-sensitive LIKE, JSON) differ from SQLite's. The PostgreSQL run leaves out
# the slow tests marked database_agnostic, which ran on SQLite. TEST_DATABASES=sqlite (or postgresql)
# runs one of them only.
databases=${TEST_DATABASES:-sqlite postgresql}
failed=()
collected=0
for database in $databases; do
  set +e
  case "$database" in
    sqlite)
      say "pytest on SQLite"
      python -m pytest "$@"
      ;;
    postgresql)
      say "pytest on PostgreSQL ($TEST_POSTGRES_URL), but the tests marked database_agnostic"
      DATABASE_URL=$TEST_POSTGRES_URL python -m pytest --skip-database-agnostic "$@"
      ;;
    *)
      echo "TEST_DATABASES names sqlite and postgresql, not $database" >&2
      exit 2
      ;;
  esac
  status=$?
  set -e
  case "$status" in
    0) collected=1 ;;
    5) ;; # no test collected: a failure unless the other database ran some (the tests given are all database_agnostic)
    *) failed+=("$database") ;;
  esac
done
if [ "$collected" = 0 ] && [ ${#failed[@]} = 0 ]; then
  echo "pytest collected no tests: that is a failure." >&2
  exit 1
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "The suite failed on: ${failed[*]}" >&2
  exit 1
fi
