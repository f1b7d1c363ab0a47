#!/bin/bash
# compose's one-shot db-init job (image pgvector/pgvector:pg15, as user postgres), run on
# every `up` before any service starts: migrations/bootstrap.sql as the superuser (roles,
# the vector extension, each schema owned by its role, grants; idempotent), then each
# role's password from its compose secret. Passwords never appear on a command line:
# psql reads each file itself (\set with backquotes).
set -euo pipefail
export PGHOST=${PGHOST:-postgres} PGUSER=${PGUSER:-postgres} PGDATABASE=${POSTGRES_DB:-jobmatch}
PGPASSWORD=$(< /run/secrets/postgres_password)
export PGPASSWORD PGOPTIONS='-c client_min_messages=warning'
psql=(psql -X -q -v ON_ERROR_STOP=1)

"${psql[@]}" -f /db-init/bootstrap.sql
for role in jobmatch_offers jobmatch_gui jobmatch_matching; do
  printf '\\set pw `cat /run/secrets/db_%s`\nALTER ROLE %s PASSWORD :'"'"'pw'"'"';\n' "$role" "$role" |
    "${psql[@]}"
done
echo "db-init: database $PGDATABASE bootstrapped; passwords set for jobmatch_offers, jobmatch_gui, jobmatch_matching"
