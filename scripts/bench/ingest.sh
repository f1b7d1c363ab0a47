#!/usr/bin/env bash
# make bench-ingest: BENCH_OFFERS (100,000) demo offers into a scratch database: the first
# load without embeddings (offers/s), the same file again (seconds, and whether anything
# was written), then a load with embeddings of BENCH_EMBED_OFFERS (1,000) offers
# (offers/s, bound by the model), then the same offers as one search response of about
# 1 GB on a single line (peak memory against BENCH_BIG_BOUND_MB, 256, and the report).
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

# The same offers as a France Travail search response saved on ONE line of about 1 GB
# (each description padded to some 10 KB): streamed, in memory bounded whatever the size.
BIG=$DIR/search-response-1gb.json
BIG_BOUND_MB=${BENCH_BIG_BOUND_MB:-256}
if [[ ! -s $BIG ]]; then
  python3 - "$FILE" "$BIG" <<'PY'
import json, sys
source, target = sys.argv[1], sys.argv[2]
padding = " Missions : " + "accueil, conseil et suivi des clients de l'agence ; " * 190
with open(source, encoding="utf-8") as lines, open(target, "w", encoding="utf-8") as out:
    out.write('{"filtresPossibles":[],"resultats":[')
    for i, line in enumerate(lines):
        offer = json.loads(line)
        offer["description"] = (offer.get("description") or "") + padding
        out.write(("," if i else "") + json.dumps(offer, ensure_ascii=False, separators=(",", ":")))
    out.write("]}")
PY
fi
fresh_db "${DB}_big"
t6=$(now)
big=$(DATABASE_URL=postgres://postgres@$PG/${DB}_big /usr/bin/time -f '%M' -o "$DIR/big.rss" \
  "$BIN" ingest --no-embed --file "$BIG" 2>/dev/null)
t7=$(now)
big_mb=$(( $(tail -n 1 "$DIR/big.rss") / 1024 ))
big_size=$(du -h --apparent-size "$BIG" | cut -f1)
[[ $(count_in read <<<"$big") == "$N" && $(count_in new <<<"$big") == "$N" ]] \
  || { echo "bench-ingest: the 1 GB run's report is wrong: $big" >&2; exit 1; }
(( big_mb <= BIG_BOUND_MB )) \
  || { echo "bench-ingest: the 1 GB run peaked at $big_mb MB, past the bound of $BIG_BOUND_MB MB" >&2; exit 1; }

cat <<TXT

| step | offers | time | offers/s | notes |
|---|---|---|---|---|
| first load, no embeddings | $(count_in new <<<"$first") new | $(secs "$t0" "$t1") s | $(rate "$N" "$t0" "$t1") | bronze + silver + skills |
| same file again | $(count_in unchanged <<<"$second") unchanged | $(secs "$t2" "$t3") s | $(rate "$N" "$t2" "$t3") | rows written: $writes |
| load with embeddings | $(count_in embedded <<<"$embedded") embedded | $(secs "$t4" "$t5") s | $(rate "$EMBED_N" "$t4" "$t5") | bound by the model |
| one-line search response of $big_size | $(count_in new <<<"$big") new of $(count_in read <<<"$big") read | $(secs "$t6" "$t7") s | $(rate "$N" "$t6" "$t7") | peak RSS $big_mb MB (bound $BIG_BOUND_MB MB) |
TXT
psql_admin -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "DROP DATABASE IF EXISTS ${DB}_embed WITH (FORCE)" \
  -c "DROP DATABASE IF EXISTS ${DB}_big WITH (FORCE)"
