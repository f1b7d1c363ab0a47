#!/usr/bin/env bash
# The benchmark's reference engine, Python sentence-transformers on torch (CPU), in a
# throw-away venv under the cache (torch is ~3 GB: never part of setup or tests).
set -euo pipefail
CACHE=${JOBMATCH_CACHE:-/var/cache/jobmatch}
VENV=$CACHE/venv-bench
PINS="sentence-transformers==6.2.0"   # the version that made the reference fixture
if [[ -x $VENV/bin/python && $(cat "$VENV/.pins" 2>/dev/null) == "$PINS" ]]; then exit 0; fi
echo "bench: installing the reference ($PINS, with torch) in $VENV; this takes a while once"
rm -rf "$VENV"
/usr/bin/python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check $PINS
echo "$PINS" >"$VENV/.pins"
