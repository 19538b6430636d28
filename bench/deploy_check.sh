#!/usr/bin/env bash
# The README's "Deployment" on one machine: two web servers and two Celery workers, each with its own
# VERITY_DATA_DIR (nothing shared but the database and the broker, as on separate machines), against a
# PostgreSQL reached by DATABASE_URL and the machine's Redis. Stops everything it started.
#   bench/deploy_check.sh DATABASE_URL [REDIS_URL]
set -euo pipefail
cd "$(dirname "$0")/.."
export DATABASE_URL="$1"
export CELERY_BROKER_URL="${2:-redis://127.0.0.1:6379/7}"
export DJANGO_SECRET_KEY="${DJANGO_SECRET_KEY:-$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')}"
export VERITY_GENERATOR=extractive HF_HUB_OFFLINE=1
BASE=$(mktemp -d /tmp/verity-deploy.XXXX)
PY=.venv/bin/python
PIDS=()
stop() { for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop EXIT

echo "== release step (once): migrate"
VERITY_DATA_DIR=$BASE/release $PY manage.py migrate --verbosity 0
for n in 1 2; do
  echo "== worker machine $n: celery worker"
  VERITY_DATA_DIR=$BASE/worker$n $PY -m celery -A verity worker -n "worker$n@%h" --concurrency 1 --loglevel INFO \
    > "$BASE/worker$n.log" 2>&1 &
  PIDS+=($!)
  echo "== web machine $n: collectstatic, gunicorn on 127.0.0.1:870$n"
  VERITY_DATA_DIR=$BASE/web$n $PY manage.py collectstatic --noinput --verbosity 0
  VERITY_DATA_DIR=$BASE/web$n VERITY_WEB_WORKERS=2 $PY -m gunicorn -c python:verity.gunicorn_conf \
    --bind "127.0.0.1:870$n" verity.wsgi > "$BASE/web$n.log" 2>&1 &
  PIDS+=($!)
done
for n in 1 2; do
  until curl -sf -o /dev/null "http://127.0.0.1:870$n/healthz"; do sleep 1; done
done
echo "== import the demo through the workers (a client of the same database and broker)"
VERITY_DATA_DIR=$BASE/release $PY manage.py kb_import demo/kb | tail -3
KEY=$(VERITY_DATA_DIR=$BASE/release $PY manage.py kb_apikey create "deploy-$$" --audience public --scope changes | tail -1)
for n in 1 2; do
  echo "== web $n: GET /healthz"
  curl -s "http://127.0.0.1:870$n/healthz"; echo
  echo "== web $n: GET /api/v1/search?q=Handy zurückschicken (first result)"
  curl -s -H "Authorization: Bearer $KEY" "http://127.0.0.1:870$n/api/v1/search?q=Handy+zur%C3%BCckschicken&locale=de&limit=1"
  echo
done
echo "== a change announced on web 1, assessed by a worker, read on web 2"
CREATED=$(curl -s -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \
  -d '{"kind": "policy", "title": "Rückgabefrist 30 Tage", "description": "Die Rückgabefrist für Geräte beträgt ab 2027-03-01 30 Tage statt 14 Tage.", "effective_date": "2027-03-01"}' \
  http://127.0.0.1:8701/api/v1/changes)
echo "POST web 1: $CREATED"
ID=$(echo "$CREATED" | $PY -c 'import json,sys; print(json.load(sys.stdin)["id"])')
for _ in $(seq 60); do
  STATUS=$(curl -s -H "Authorization: Bearer $KEY" "http://127.0.0.1:8702/api/v1/changes/$ID")
  case "$STATUS" in *'"done"'*) break;; esac
  sleep 1
done
echo "GET web 2: $(echo "$STATUS" | head -c 300) ..."
echo "== which worker did the work"
for n in 1 2; do echo "worker$n: $(grep -c 'succeeded' "$BASE/worker$n.log" || true) tasks logged"; done
echo "== access logs (no query strings)"
grep -h "GET /api/v1/search" "$BASE"/web*.log | head -2
