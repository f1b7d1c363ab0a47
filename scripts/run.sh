#!/usr/bin/env bash
# Builds and starts every jobmatch service on localhost, prints where they answer, and
# stops them all on Ctrl-C (SIGTERM to each, which lets in-flight requests finish).
# Ports: GUI_PORT (8080), MATCHING_PORT (8081), OFFRE_INGESTION_PORT (8082),
# CV_INGESTION_PORT (8083), WORKER_PORT (8084: the GUI's events worker, health and
# metrics). Database: JOBMATCH_DATABASE (jobmatch) on 127.0.0.1:5432.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${JOBMATCH_CACHE:-/var/cache/jobmatch}
# shellcheck source=/dev/null
. "$CACHE/env"
DB=${JOBMATCH_DATABASE:-jobmatch}
PG=${JOBMATCH_PG:-127.0.0.1:5432}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$CACHE/target}

cd "$REPO"
if [[ -x $CARGO_TARGET_DIR/release/gui ]]; then
  echo "run: building (release; seconds when little changed)..."
else
  echo "run: building (release): the first build compiles ~370 crates, about 8 minutes on 2 cores..."
fi
# cargo's own progress: a bar on a terminal, a line per crate otherwise.
cargo build --release --locked --bins
BIN=$CARGO_TARGET_DIR/release
bash "$REPO/scripts/commands.sh" "$BIN"

# Tokens live in files readable by root only, never in the repo: one per caller (the
# GUI, its worker, the operator's monitoring), and each service accepts only the callers
# it has (SERVICE_CALLERS_FILE): the GUI's token calls the APIs, reads no metrics.
SECRETS=$CACHE/secrets
install -d -m 700 "$SECRETS"
token_file() { # token_file NAME: the file of NAME's token, made on first use
  local file=$SECRETS/$1.token
  [[ -s $file ]] || (umask 077; head -c 32 /dev/urandom | base64 | tr -d '/+=\n' >"$file")
  echo "$file"
}
TOKEN_FILE=$(token_file service)              # what the internal services send (they call no one)
GUI_TOKEN_FILE=$(token_file gui)
WORKER_TOKEN_FILE=$(token_file gui-worker)
MONITORING_TOKEN_FILE=$(token_file monitoring)
callers_file() { # callers_file SERVICE CALLER:SCOPES...: the callers SERVICE accepts
  local file=$SECRETS/callers-$1 entry
  shift
  (umask 077
   for entry in "$@"; do echo "${entry%%:*}:${entry#*:}:$(cat "$(token_file "${entry%%:*}")")"; done >"$file")
  echo "$file"
}
API_CALLERS_FILE=$(callers_file api gui:api gui-worker:api monitoring:metrics)
METRICS_CALLERS_FILE=$(callers_file metrics-only monitoring:metrics)
export SERVICE_TOKEN_FILE=$TOKEN_FILE SERVICE_CALLERS_FILE=$API_CALLERS_FILE
export LOG_FORMAT=${LOG_FORMAT:-text}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}

LOGS=$CACHE/logs
mkdir -p "$LOGS"
PIDS=()
DEMO_PID=""
stop_all() {
  trap - INT TERM EXIT
  [[ -z $DEMO_PID ]] || kill -TERM "$DEMO_PID" 2>/dev/null || true
  if ((${#PIDS[@]})); then
    echo
    echo "run: stopping..."
    kill -TERM "${PIDS[@]}" 2>/dev/null || true
    wait "${PIDS[@]}" 2>/dev/null || true
  fi
  echo "run: stopped"
}
trap stop_all EXIT
trap 'exit 0' INT TERM   # Ctrl-C is the normal way to stop: EXIT then stops the services

# The database as the superuser makes it ready (migrations/bootstrap.sql: roles, schemas
# owned by them, grants; idempotent); each service then connects as its own role, with
# the password `make setup` keeps in $SECRETS.
PGOPTIONS='-c client_min_messages=warning' psql -h "${PG%:*}" -p "${PG#*:}" -U postgres -d "$DB" \
  -w -X -q -v ON_ERROR_STOP=1 -f "$REPO/migrations/bootstrap.sql" >/dev/null
# db_env ROLE: the variables that connect a process as ROLE.
db_env() { echo "DATABASE_URL=postgres://$1@$PG/$DB DATABASE_PASSWORD_FILE=$SECRETS/$1.password"; }

# start NAME PORT [DATABASE_ROLE]: one service in the background, its log in $LOGS; no
# role, no database access at all.
start() {
  local name=$1 port=$2 role=${3:-}
  # shellcheck disable=SC2046 # db_env's words are NAME=VALUE pairs
  env BIND_ADDR=127.0.0.1:$port ${role:+$(db_env "$role")} \
    "$BIN/$name" >"$LOGS/$name.log" 2>&1 &
  PIDS+=($!)
}

# wait_ready NAME PORT: until /health/ready answers 200 (or the process died).
wait_ready() {
  local name=$1 port=$2 pid=${PIDS[-1]}
  for _ in $(seq 1 100); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$port/health/ready" 2>/dev/null; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "run: $name failed to start; its log ($LOGS/$name.log):" >&2
      tail -n 20 "$LOGS/$name.log" >&2
      exit 1
    fi
    sleep 0.2
  done
  echo "run: $name not ready after 20 s; see $LOGS/$name.log" >&2
  exit 1
}

GUI_PORT=${GUI_PORT:-8080}
MATCHING_PORT=${MATCHING_PORT:-8081}
OFFRE_INGESTION_PORT=${OFFRE_INGESTION_PORT:-8082}
CV_INGESTION_PORT=${CV_INGESTION_PORT:-8083}
WORKER_PORT=${WORKER_PORT:-8084}
# Where the GUI finds the other services.
export MATCHING_URL=http://127.0.0.1:$MATCHING_PORT OFFRE_INGESTION_URL=http://127.0.0.1:$OFFRE_INGESTION_PORT \
  CV_INGESTION_URL=http://127.0.0.1:$CV_INGESTION_PORT

# offre-ingestion first: it migrates the offers schema that matching reads.
start offre-ingestion "$OFFRE_INGESTION_PORT" jobmatch_offers
wait_ready offre-ingestion "$OFFRE_INGESTION_PORT"
start matching "$MATCHING_PORT" jobmatch_matching
wait_ready matching "$MATCHING_PORT"
start cv-ingestion "$CV_INGESTION_PORT"
wait_ready cv-ingestion "$CV_INGESTION_PORT"
SERVICE_TOKEN_FILE=$GUI_TOKEN_FILE SERVICE_CALLERS_FILE=$METRICS_CALLERS_FILE \
  start gui "$GUI_PORT" jobmatch_gui
wait_ready gui "$GUI_PORT"
# The events worker: new offers reach the candidates (stale caches, re-matches,
# notifications); /health and /metrics on WORKER_PORT.
# shellcheck disable=SC2046
env BIND_ADDR=127.0.0.1:$WORKER_PORT $(db_env jobmatch_gui) \
  SERVICE_TOKEN_FILE="$WORKER_TOKEN_FILE" SERVICE_CALLERS_FILE="$METRICS_CALLERS_FILE" \
  "$BIN/gui" worker >"$LOGS/gui-worker.log" 2>&1 &
PIDS+=($!)
wait_ready gui-worker "$WORKER_PORT"

# First start: a few thousand demo offers, ingested in the background (the embeddings
# take a few minutes on CPU; offers appear in GET /offers at once). A later start
# finishes the embeddings if an earlier one was stopped midway.
DEMO_OFFERS=${DEMO_OFFERS:-3000}
DEMO_FILE=$CACHE/demo-offers.jsonl
DEMO_NOTE=""
q() { psql -h "${PG%:*}" -p "${PG#*:}" -U postgres -d "$DB" -tAqc "$1" 2>/dev/null || echo 0; }
OFFERS=$(q "SELECT count(*) FROM offers.offers")
PENDING=$(q "SELECT count(*) FROM offers.offers o WHERE o.archived_at IS NULL
             AND NOT EXISTS (SELECT 1 FROM offers.embeddings e WHERE e.offer_id = o.id)")
if [[ $OFFERS == 0 && $DEMO_OFFERS -gt 0 ]]; then
  "$BIN/offre-ingestion" demo-data --count "$DEMO_OFFERS" >"$DEMO_FILE" 2>>"$LOGS/demo-load.log"
fi
if [[ -s $DEMO_FILE && ($OFFERS == 0 || $PENDING != 0) ]]; then
  # shellcheck disable=SC2046
  env $(db_env jobmatch_offers) "$BIN/offre-ingestion" ingest --file "$DEMO_FILE" \
    >>"$LOGS/demo-load.log" 2>&1 &
  DEMO_PID=$!
  if [[ $OFFERS == 0 ]]; then
    DEMO_NOTE="Loading $DEMO_OFFERS demo offers in the background: $LOGS/demo-load.log"
  else
    DEMO_NOTE="Embedding the $PENDING demo offers an earlier start left, in the background: $LOGS/demo-load.log"
  fi
fi

cat <<TXT

jobmatch is running.
  GUI                      http://127.0.0.1:$GUI_PORT/
  matching API docs        http://127.0.0.1:$MATCHING_PORT/docs
  offre-ingestion API docs http://127.0.0.1:$OFFRE_INGESTION_PORT/docs
  cv-ingestion API docs    http://127.0.0.1:$CV_INGESTION_PORT/docs
  gui worker (events)      http://127.0.0.1:$WORKER_PORT/health/ready
Logs in $LOGS; the metrics token (monitoring) in $MONITORING_TOKEN_FILE. Ctrl-C stops everything.
$DEMO_NOTE
TXT
# Returns when any service exits; stop_all then stops the others.
wait -n "${PIDS[@]}"
echo "run: a service exited; see $LOGS" >&2
