#!/usr/bin/env bash
# `make run`: the portal on http://127.0.0.1:8000 with a Celery worker, on a fresh Debian machine.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"

ensure_venv requirements.txt
ensure_redis
export PATH="$VENV/bin:$PATH"
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
export PORTAL_URL=${PORTAL_URL:-http://$HOST:$PORT}

say "Preparing the database"
python manage.py migrate --noinput
login=$(python manage.py ensure_demo_user)

say "Starting the Celery worker (log: var/log/worker.log)"
celery -A portal worker --loglevel INFO --concurrency 2 --queues default >"$VAR/log/worker.log" 2>&1 &
worker=$!
trap 'kill $worker 2>/dev/null; wait $worker 2>/dev/null' EXIT INT TERM

cat <<MSG

  Context Portal is starting on $PORTAL_URL
  $login   (an admin; sign up for an ordinary account)
  Status page: $PORTAL_URL/health/   Stop with Ctrl-C.

MSG
gunicorn portal.wsgi --bind "$HOST:$PORT" --workers 2 --access-logfile - --error-logfile -
