#!/usr/bin/env bash
# The SQL checked when it compiles: every `sqlx::query!` is checked against a database
# that has every migration, and what the check learnt (column and parameter types) is
# kept in `.sqlx/`, so that `cargo check` and builds need no database (SQLX_OFFLINE,
# .cargo/config.toml).
#
#   scripts/sqlx.sh prepare   rewrite .sqlx/ after a change to a query or a migration
#   scripts/sqlx.sh check     fail when .sqlx/ is not what the queries and migrations give
#                             (make test runs it)
#
# The database `jobmatch_sqlx` is made afresh each time, as in production: the bootstrap
# as the superuser, then each schema's migrations as the role that owns it.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${JOBMATCH_CACHE:-/var/cache/jobmatch}
SQLX=$CACHE/bin/cargo-sqlx
PG=${SQLX_PG:-127.0.0.1:5432}
DB=jobmatch_sqlx
mode=${1:-}
[[ $mode == prepare || $mode == check ]] || { echo "usage: $0 prepare|check" >&2; exit 2; }
[[ -x $SQLX ]] || { echo "sqlx: $SQLX is missing: run scripts/setup.sh --for-tests" >&2; exit 1; }

q() { PGOPTIONS='-c client_min_messages=warning' psql -h "${PG%:*}" -p "${PG#*:}" -U postgres -w -X -q -v ON_ERROR_STOP=1 "$@" >/dev/null; }
q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
q -d "$DB" -f "$REPO/migrations/bootstrap.sql"
# Each schema with its owner, in the order a fresh database gets them (crates/schemas).
for set in offers:jobmatch_offers gui:jobmatch_gui; do
  schema=${set%%:*} role=${set#*:}
  args=(-c "SET ROLE $role" -c "SET search_path TO $schema, public")
  for migration in "$REPO/migrations/$schema"/*.sql; do args+=(-f "$migration"); done
  q -d "$DB" -1 "${args[@]}"
done

cd "$REPO"
export DATABASE_URL="postgres://postgres@$PG/$DB"
# `cargo sqlx prepare` runs `cargo check` with SQLX_OFFLINE=false on every workspace crate
# that uses the macros; --all-targets: tests and benches have queries too.
# It must run as `cargo sqlx` (it reads $CARGO): cargo finds cargo-sqlx on the PATH.
export PATH=$CACHE/bin:$PATH
if [[ $mode == check ]]; then
  cargo sqlx prepare --workspace --check -- --all-targets --locked
else
  cargo sqlx prepare --workspace -- --all-targets --locked
fi
