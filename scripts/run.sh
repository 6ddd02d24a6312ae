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

children=()
stop_children() {
  [ ${#children[@]} -eq 0 ] && return 0
  kill "${children[@]}" 2>/dev/null || true
  wait "${children[@]}" 2>/dev/null || true
}
trap stop_children EXIT INT TERM

say "Preparing the database"
python manage.py migrate --noinput
login=$(python manage.py ensure_demo_user)

# The demo cloud: moto's EC2 server, a real EC2 API on this machine, registered site-wide so a
# new user can launch at once. Its state lives in memory and starts empty with each run.
DEMO_CLOUD_PORT=${DEMO_CLOUD_PORT:-5055}
say "Starting the demo cloud (moto EC2) on 127.0.0.1:$DEMO_CLOUD_PORT (log: var/log/demo-cloud.log)"
moto_server -H 127.0.0.1 -p "$DEMO_CLOUD_PORT" >"$VAR/log/demo-cloud.log" 2>&1 &
children+=($!)
python manage.py setup_demo_cloud --host 127.0.0.1 --port "$DEMO_CLOUD_PORT"
# The desktop cloud (docs/desktop-cloud.md): real VMs under QEMU, offered once `make image` has
# built a base image; its VMs reach this portal at 10.0.2.2 (the host seen from QEMU's user network).
desktop=$(python manage.py setup_desktop_cloud)

say "Starting the Celery worker with the monitor's beat (log: var/log/worker.log)"
celery -A portal worker --beat --schedule "$VAR/celerybeat-schedule" --loglevel INFO --concurrency 2 \
  --queues default,records >"$VAR/log/worker.log" 2>&1 &
children+=($!)

cat <<MSG

  Context Portal is starting on $PORTAL_URL
  $login   (an admin; sign up for an ordinary account)
  Demo cloud: "Local demo cloud" (moto EC2 on 127.0.0.1:$DEMO_CLOUD_PORT)
  $desktop
  Status page: $PORTAL_URL/health/   Stop with Ctrl-C.

MSG
gunicorn --config portal/gunicorn.conf.py --bind "$HOST:$PORT"
