# Shared by scripts/run.sh and scripts/test.sh: a venv with pinned requirements, Debian packages
# installed when missing, and a local Redis started when none answers.
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$ROOT/.venv"
PYTHON=${PYTHON:-python3}
VAR="${PORTAL_VAR_DIR:-$ROOT/var}"
mkdir -p "$VAR/log"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else echo "root is needed to run: $*" >&2; return 1
  fi
}

# apt_install PKG... — install the Debian packages that are not installed yet.
apt_install() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "Installing Debian packages: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# ensure_venv REQUIREMENTS_FILE — create .venv and install the pinned requirements when they changed.
ensure_venv() {
  local requirements="$ROOT/$1" stamp digest
  if ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    apt_install python3-venv
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    say "Creating the virtual environment in .venv"
    "$PYTHON" -m venv "$VENV"
  fi
  digest=$(cat "$requirements" "$ROOT/requirements.txt" "$ROOT/pyproject.toml" | sha256sum | cut -c1-16)
  stamp="$VENV/.installed-$(basename "$1")-$digest"
  if [ ! -f "$stamp" ]; then
    say "Installing $1"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    # The project itself, editable: puts the portalctl command in .venv/bin.
    "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps -e "$ROOT"
    touch "$stamp"
  fi
}

redis_answers() {
  "$VENV/bin/python" - "$1" <<'PY' >/dev/null 2>&1
import sys, redis
redis.Redis.from_url(sys.argv[1], socket_connect_timeout=1, socket_timeout=1).ping()
PY
}

# ensure_redis — the Celery broker: use the configured one, or start a local Redis when none runs.
ensure_redis() {
  local url=${CELERY_BROKER_URL:-redis://127.0.0.1:6379/0}
  redis_answers "$url" && return 0
  case "$url" in
    redis://127.0.0.1:6379*|redis://localhost:6379*) ;;
    *) echo "The Celery broker $url does not answer; start it or unset CELERY_BROKER_URL." >&2; return 1 ;;
  esac
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server
  say "Starting Redis on 127.0.0.1:6379"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir "$VAR" --logfile "$VAR/log/redis.log"
  local i
  for i in $(seq 50); do redis_answers "$url" && return 0; sleep 0.2; done
  echo "Redis did not start; see $VAR/log/redis.log" >&2
  return 1
}

postgres_answers() {
  "$VENV/bin/python" - "$1" <<'PY' >/dev/null 2>&1
import sys, psycopg
psycopg.connect(sys.argv[1], connect_timeout=2).close()
PY
}

# ensure_postgres — a PostgreSQL server for the tests that need one; exports TEST_POSTGRES_URL.
ensure_postgres() {
  export TEST_POSTGRES_URL=${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
  postgres_answers "$TEST_POSTGRES_URL" && return 0
  command -v pg_ctlcluster >/dev/null 2>&1 || apt_install postgresql
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  say "Starting PostgreSQL $version"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  local i
  for i in $(seq 50); do postgres_answers "$TEST_POSTGRES_URL" && return 0; sleep 0.2; done
  # The machine's server does not let us in without a password: rather than change its users, run
  # a server of our own, with trust authentication, in a directory of /tmp (the postgres user may not
  # reach var/ in a home directory) on another port, as the postgres user.
  local data=/tmp/context-portal-postgresql port=${TEST_POSTGRES_PORT:-5439} bin
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  say "Starting a PostgreSQL of the tests' own on 127.0.0.1:$port ($data)"
  if [ ! -s "$data/PG_VERSION" ]; then
    mkdir -p "$data" && as_root chown postgres: "$data"
    as_root runuser -u postgres -- "$bin/initdb" -D "$data" --auth=trust -U postgres >/dev/null
  fi
  as_root runuser -u postgres -- "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w \
    -o "-p $port -k /tmp -c listen_addresses=127.0.0.1" start >/dev/null || true
  export TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$port/postgres
  for i in $(seq 50); do postgres_answers "$TEST_POSTGRES_URL" && return 0; sleep 0.2; done
  echo "PostgreSQL does not answer on 127.0.0.1:5432 nor on 127.0.0.1:$port (see $data/server.log)" >&2
  return 1
}
