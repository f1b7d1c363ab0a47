#!/usr/bin/env bash
# Installs the commands services/offre-ingestion/README.md shows (`offre-ingestion
# ingest --file offers.jsonl`, `offre-ingestion demo-data`, `offre-ingestion embed`...)
# as small wrappers, so that they work as written in any new shell after `make run`:
# each reads the set-up's env file, defaults to the database, Redis and service token
# `make run` uses (a variable set in the shell wins), then runs the binary `make run`
# built.
# Usage: scripts/commands.sh [BINARY_DIR]; BINARY_DIR defaults to the release build,
# the wrappers go to JOBMATCH_BIN (/usr/local/bin).
set -euo pipefail
CACHE=${JOBMATCH_CACHE:-/var/cache/jobmatch}
BIN=${1:-${CARGO_TARGET_DIR:-$CACHE/target}/release}
DEST=${JOBMATCH_BIN:-/usr/local/bin}
PG=${JOBMATCH_PG:-127.0.0.1:5432}
mkdir -p "$DEST"
for name in offre-ingestion; do
  [[ -x $BIN/$name ]] || { echo "commands: $BIN/$name is not built" >&2; exit 1; }
  tmp=$(mktemp "$DEST/.$name.XXXXXX")
  cat >"$tmp" <<SH
#!/bin/sh
# jobmatch's $name, installed by \`make run\` (scripts/commands.sh) with its local defaults.
. '$CACHE/env'
# offre-ingestion's own database role, with the password \`make setup\` gave it.
if [ -z "\${DATABASE_URL_FILE:-}" ] && [ -z "\${DATABASE_URL:-}" ]; then
  DATABASE_URL=postgres://jobmatch_offers@$PG/\${JOBMATCH_DATABASE:-jobmatch}
  [ -n "\${DATABASE_PASSWORD:-}" ] || : "\${DATABASE_PASSWORD_FILE:=$CACHE/secrets/jobmatch_offers.password}"
  export DATABASE_PASSWORD_FILE
fi
: "\${REDIS_URL:=redis://127.0.0.1:6379}"
[ -n "\${SERVICE_TOKEN:-}" ] || : "\${SERVICE_TOKEN_FILE:=$CACHE/secrets/service.token}"
: "\${LOG_FORMAT:=text}"
export DATABASE_URL REDIS_URL SERVICE_TOKEN_FILE LOG_FORMAT
exec '$BIN/$name' "\$@"
SH
  chmod 755 "$tmp"
  mv -f "$tmp" "$DEST/$name"
done
echo "commands: offre-ingestion in $DEST"
