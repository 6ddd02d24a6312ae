# Shared by scripts/run.sh and scripts/test.sh: a venv with pinned requirements, Debian packages
# installed when missing, a local Redis started when none answers, and a PostgreSQL for the tests.
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

# at_exit COMMAND — run COMMAND when the script ends, after the commands added before it (each script
# adds its own instead of replacing another's trap). An interrupted script ends through them too.
EXIT_COMMANDS=()
run_exit_commands() {
  local command
  for command in "${EXIT_COMMANDS[@]}"; do eval "$command" || true; done
}
at_exit() {
  EXIT_COMMANDS+=("$1")
  trap run_exit_commands EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# ensure_postgres — a PostgreSQL server for the tests; exports TEST_POSTGRES_URL, a URL whose user may
# create databases. TEST_POSTGRES_URL when set; else the server on 127.0.0.1:5432 when it lets the
# postgres user in without a password; else a server of the script's own (start_own_postgres). An
# existing server's users, passwords and configuration are never changed.
ensure_postgres() {
  if [ -n "${TEST_POSTGRES_URL:-}" ]; then
    postgres_answers "$TEST_POSTGRES_URL" && return 0
    echo "PostgreSQL at TEST_POSTGRES_URL ($TEST_POSTGRES_URL) does not answer; start it or unset TEST_POSTGRES_URL." >&2
    return 1
  fi
  local url=postgres://postgres@127.0.0.1:5432/postgres
  if postgres_answers "$url"; then
    export TEST_POSTGRES_URL=$url
    return 0
  fi
  start_own_postgres
}

# start_own_postgres — initdb and pg_ctl from Debian's postgresql package (installed when missing) run
# a throwaway server in a new directory of /tmp, on a free port of 127.0.0.1, with trust
# authentication for its own postgres user; stopped and removed when the script ends. PostgreSQL
# refuses to run as root: as root, the server runs as the package's postgres user (who may not reach
# a checkout in a home directory, hence /tmp); otherwise as the user running the script.
start_own_postgres() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1) || true
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    apt_install postgresql
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  local run=()
  [ "$(id -u)" = 0 ] && run=(runuser -u postgres --)
  local data port
  data=$(mktemp -d "${TMPDIR:-/tmp}/context-portal-postgresql.XXXXXX")
  at_exit "stop_own_postgres '${run[*]}' '$bin' '$data'"
  [ "$(id -u)" = 0 ] && chown postgres: "$data"
  port=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  say "Starting a PostgreSQL of the tests' own on 127.0.0.1:$port ($data)"
  "${run[@]}" "$bin/initdb" -D "$data/data" --auth=trust -U postgres --no-sync >"$data/initdb.log" 2>&1 || {
    cat "$data/initdb.log" >&2
    return 1
  }
  # A throwaway server: no durability (fsync, full-page writes), which the tests do not test, and
  # room for the connections of the workers and servers some tests start at once.
  "${run[@]}" "$bin/pg_ctl" -D "$data/data" -l "$data/server.log" -w -t 60 -o "-p $port -k $data \
    -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
    -c max_connections=200" start >/dev/null || {
    tail -n 20 "$data/server.log" >&2
    return 1
  }
  export TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$port/postgres
  postgres_answers "$TEST_POSTGRES_URL" && return 0
  echo "The tests' own PostgreSQL does not answer on 127.0.0.1:$port (see $data/server.log)" >&2
  return 1
}

stop_own_postgres() {
  local run=$1 bin=$2 data=$3
  # shellcheck disable=SC2086 # "runuser -u postgres --" or nothing: words
  $run "$bin/pg_ctl" -D "$data/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$data"
}
