#!/usr/bin/env bash
# make bench-match: builds the corpus once (BENCH_MATCH_OFFERS demo offers, 20,000 by
# default, embedded with the real model into the database jobmatch_bench_match, kept
# between runs: embedding 20,000 offers takes ~5 min on 2 cores, the next runs none),
# then runs the benchmark (services/matching/benches/match.rs).
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CACHE=${JOBMATCH_CACHE:-/var/cache/jobmatch}
# shellcheck source=/dev/null
. "$CACHE/env"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$CACHE/target}
N=${BENCH_MATCH_OFFERS:-20000}
DB=${BENCH_DB:-jobmatch_bench_match}
export BENCH_DB=$DB
PG=127.0.0.1:5432
cd "$REPO"
cargo build --release --locked --quiet --bins
psql_admin() { psql -h "${PG%:*}" -p "${PG#*:}" -U postgres -w -X -q -tA -v ON_ERROR_STOP=1 "$@"; }
[[ -n $(psql_admin -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DB'") ]] ||
  psql_admin -d postgres -c "CREATE DATABASE $DB"
have=$(psql_admin -d "$DB" -c "SELECT count(*) FROM offers.embeddings" 2>/dev/null || echo 0)
if ((have < N)); then
  echo "bench-match: embedding a corpus of $N demo offers into $DB (once; ~5 min for 20,000)"
  mkdir -p "$CACHE/bench"
  corpus=$CACHE/bench/match-corpus-$N.jsonl
  "$CARGO_TARGET_DIR/release/offre-ingestion" demo-data --count "$N" --seed 1 --date 2026-11-27 >"$corpus"
  OFFER_MAX_AGE_DAYS=36500 DATABASE_URL=postgres://postgres@$PG/$DB \
    "$CARGO_TARGET_DIR/release/offre-ingestion" ingest --file "$corpus" >/dev/null
fi
cargo bench --locked -p matching --bench match
