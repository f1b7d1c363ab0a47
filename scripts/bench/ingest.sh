#!/usr/bin/env bash
# make bench-ingest: BENCH_OFFERS (100,000) demo offers into a scratch database: the first
# load without embeddings (offers/s), the same file again (seconds, and whether anything
# was written), then a load with embeddings of BENCH_EMBED_OFFERS (1,000) offers
# (offers/s, bound by the model).
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CACHE=${JOBMATCH_CACHE:-/var/cache/jobmatch}
# shellcheck source=/dev/null
. "$CACHE/env"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$CACHE/target}
N=${BENCH_OFFERS:-100000}
EMBED_N=${BENCH_EMBED_OFFERS:-1000}
PG=127.0.0.1:5432
BIN=$CARGO_TARGET_DIR/release/offre-ingestion
DIR=$CACHE/bench
mkdir -p "$DIR"

cd "$REPO"
cargo build --release --locked --quiet --bins   # as make run: the same artifacts

psql_admin() { psql -h "${PG%:*}" -p "${PG#*:}" -U postgres -w -X -q -v ON_ERROR_STOP=1 "$@"; }
fresh_db() { psql_admin -d postgres -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", n / (b - a) }'; }
# Every row version of the offers tables: any insert, update or delete changes it.
fingerprint() {
  psql_admin -d "$1" -tA -c "SELECT md5(string_agg(t, '|')) FROM (
    SELECT coalesce(md5(string_agg(ctid::text || ':' || xmin::text, ',' ORDER BY ctid)), '') AS t FROM offers.bronze_payloads
    UNION ALL SELECT coalesce(md5(string_agg(ctid::text || ':' || xmin::text, ',' ORDER BY ctid)), '') FROM offers.offers
    UNION ALL SELECT coalesce(md5(string_agg(ctid::text || ':' || xmin::text, ',' ORDER BY ctid)), '') FROM offers.offer_skills
    UNION ALL SELECT coalesce(md5(string_agg(ctid::text || ':' || xmin::text, ',' ORDER BY ctid)), '') FROM offers.quarantine
    UNION ALL SELECT coalesce(md5(string_agg(ctid::text || ':' || xmin::text, ',' ORDER BY ctid)), '') FROM offers.embeddings
    UNION ALL SELECT coalesce(md5(string_agg(ctid::text || ':' || xmin::text, ',' ORDER BY ctid)), '') FROM offers.outbox) f"
}
count_in() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" | head -n 1; }

FILE=$DIR/offers-$N.jsonl
t0=$(now); "$BIN" demo-data --count "$N" --seed 1 >"$FILE" 2>/dev/null; t1=$(now)
echo "bench-ingest: $N demo offers generated in $(secs "$t0" "$t1") s ($(du -h "$FILE" | cut -f1))"

DB=jobmatch_bench
fresh_db "$DB"
export DATABASE_URL=postgres://postgres@$PG/$DB
t0=$(now); first=$("$BIN" ingest --no-embed --file "$FILE" 2>/dev/null); t1=$(now)
before=$(fingerprint "$DB")
t2=$(now); second=$("$BIN" ingest --no-embed --file "$FILE" 2>/dev/null); t3=$(now)
after=$(fingerprint "$DB")
[[ $before == "$after" ]] && writes="none" || writes="SOME (fingerprint changed)"

SAMPLE=$DIR/offers-$EMBED_N.jsonl
head -n "$EMBED_N" "$FILE" >"$SAMPLE"
fresh_db "${DB}_embed"
t4=$(now); embedded=$(DATABASE_URL=postgres://postgres@$PG/${DB}_embed "$BIN" ingest --file "$SAMPLE" 2>/dev/null); t5=$(now)

cat <<TXT

| step | offers | time | offers/s | notes |
|---|---|---|---|---|
| first load, no embeddings | $(count_in new <<<"$first") new | $(secs "$t0" "$t1") s | $(rate "$N" "$t0" "$t1") | bronze + silver + skills |
| same file again | $(count_in unchanged <<<"$second") unchanged | $(secs "$t2" "$t3") s | $(rate "$N" "$t2" "$t3") | rows written: $writes |
| load with embeddings | $(count_in embedded <<<"$embedded") embedded | $(secs "$t4" "$t5") s | $(rate "$EMBED_N" "$t4" "$t5") | bound by the model |
TXT
psql_admin -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "DROP DATABASE IF EXISTS ${DB}_embed WITH (FORCE)"
