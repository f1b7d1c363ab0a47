#!/usr/bin/env bash
# A private Docker engine for a machine that reaches no image registry (Debian 12, as
# root; see shared/notes/docker-compose.md): docker.io + Compose v2 + buildx, a dockerd
# on its own socket and data root that touches no firewall or sysctl, a base image made
# with debootstrap, and local stand-ins tagged with the upstream names docker-compose.yml
# uses, so that the operators' compose file is tested unchanged. Idempotent: a second run
# only checks (and rebuilds a stand-in whose files changed, from the build cache).
#
# Usage: scripts/docker-engine.sh [up]   engine + images; prints `export DOCKER_HOST=...`
#                                        lines on stdout (eval "$(scripts/docker-engine.sh)")
#        scripts/docker-engine.sh cli    the client and Compose only (no daemon), for
#                                        `docker compose config`; prints the export lines
#        scripts/docker-engine.sh env    only the export lines
#        scripts/docker-engine.sh stop   stop the daemon (by its pid)
# Environment: JOBMATCH_CACHE (/var/cache/jobmatch): the engine lives in $JOBMATCH_CACHE/docker.
#              MIRROR: the Debian mirror (default: the machine's apt sources).
set -Eeuo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=$(realpath -m "${JOBMATCH_CACHE:-/var/cache/jobmatch}")
W=$CACHE/docker
export DOCKER_CONFIG=$W/config
export DOCKER_HOST=unix://$W/docker.sock
PIDFILE=$W/dockerd.pid
LOG=$W/engine.log
STAND_INS=$REPO/deploy/stand-ins
export DEBIAN_FRONTEND=noninteractive

# stdout carries only the export lines (for eval); everything else goes to stderr.
t0=$(date +%s)
say() { echo "docker-engine: [$(($(date +%s) - t0))s] $*" >&2; }
die() { echo "docker-engine: error: $*" >&2; exit 1; }
run() { # quiet command, its output in $LOG (shown on failure)
  echo "+ $*" >>"$LOG"
  if ! "$@" >>"$LOG" 2>&1; then
    echo "docker-engine: error: failed: $*" >&2
    tail -n 30 "$LOG" | sed 's/^/  | /' >&2
    exit 1
  fi
}
print_env() { printf 'export DOCKER_HOST=%q DOCKER_CONFIG=%q\n' "$DOCKER_HOST" "$DOCKER_CONFIG"; }

mirror() { # the Debian mirror of the machine's own apt sources (not the security one)
  local uri=${MIRROR:-}
  [[ -n $uri || ! -f /etc/apt/sources.list.d/debian.sources ]] ||
    uri=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  [[ -n $uri || ! -f /etc/apt/sources.list ]] ||
    uri=$(awk '$1 == "deb" && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list)
  [[ -n $uri ]] || die "no Debian mirror in the apt sources (set MIRROR)"
  echo "$uri"
}

daemon_up() { [[ -S $W/docker.sock ]] && docker version >/dev/null 2>&1; }
daemon_pid() { [[ -s $PIDFILE ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null && cat "$PIDFILE"; }

stop() {
  local pid
  if pid=$(daemon_pid); then
    say "stopping dockerd (pid $pid)"
    kill -TERM "$pid"
    for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && die "dockerd (pid $pid) still running after 30 s"
  else
    say "dockerd not running"
  fi
  # dockerd leaves its default network namespace mounted under the exec root.
  if mountpoint -q "$W/exec/netns/default" 2>/dev/null; then umount "$W/exec/netns/default"; fi
}

# 1. Engine (bookworm's docker.io 20.10) and debootstrap. --no-install-recommends keeps
# needrestart out: it could restart the machine's services.
step_packages() {
  command -v dockerd >/dev/null && command -v debootstrap >/dev/null && return 0
  say "installing docker.io and debootstrap"
  run apt-get update
  run apt-get install -y --no-install-recommends docker.io debootstrap
}

# The client alone, for `make test` (no daemon): taken out of docker.io's package, which
# is not installed (its service would start and set up the host's firewall).
step_client() {
  command -v docker >/dev/null && return 0
  say "docker client from Debian's docker.io package (not installed)"
  local t=$W/client
  rm -rf "$t"; mkdir -p "$t"
  run env -C "$t" apt-get download docker.io
  run dpkg -x "$t"/docker.io_*.deb "$t/x"
  install -m 755 "$t/x/usr/bin/docker" /usr/local/bin/docker
  rm -rf "$t"
}

# 2. Compose v2 and buildx: bookworm has no Compose v2; trixie's .debs run on bookworm.
# Private apt lists: the machine's sources and package state stay untouched.
step_plugins() {
  local p=$DOCKER_CONFIG/cli-plugins
  [[ -x $p/docker-compose && -x $p/docker-buildx ]] && return 0
  say "Compose v2 and buildx plugins from Debian trixie"
  local a=$W/apt
  rm -rf "$a"
  mkdir -p "$a/lists/partial" "$a/cache/archives/partial" "$a/x" "$p"
  : >"$a/status"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $(mirror) trixie main" >"$a/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$a/sources.list" -o Dir::Etc::SourceParts=/dev/null
              -o "Dir::State::Lists=$a/lists" -o "Dir::Cache=$a/cache" -o "Dir::State::status=$a/status"
              -o APT::Sandbox::User=root)
  run apt-get "${opts[@]}" update
  run env -C "$a" apt-get "${opts[@]}" download docker-compose docker-buildx
  local d; for d in "$a"/docker-compose_*.deb "$a"/docker-buildx_*.deb; do run dpkg -x "$d" "$a/x"; done
  install -m 755 "$a"/x/usr/libexec/docker/cli-plugins/docker-{compose,buildx} "$p/"
  rm -rf "$a"
}

# 3. dockerd on a private socket and data root; no iptables, masquerading, forwarding
# or default bridge: the machine's firewall and sysctls are never touched. Compose's
# own networks still work (no outbound network; builds use --network host).
step_daemon() {
  if daemon_up; then return 0; fi
  daemon_pid >/dev/null && die "dockerd (pid $(cat "$PIDFILE")) runs but does not answer on $DOCKER_HOST (see $W/dockerd.log)"
  say "starting dockerd on $DOCKER_HOST"
  rm -f "$PIDFILE" "$W/docker.sock"
  setsid dockerd --data-root "$W/data" --exec-root "$W/exec" -H "$DOCKER_HOST" --pidfile "$PIDFILE" \
    --storage-driver=overlay2 --iptables=false --ip-masq=false --ip-forward=false --bridge=none \
    >>"$W/dockerd.log" 2>&1 </dev/null &
  for _ in $(seq 120); do daemon_up && break; sleep 0.5; done
  daemon_up || { tail -n 20 "$W/dockerd.log" >&2; die "dockerd did not answer within 60 s"; }
}

# 4. Base image without a registry: a minbase debootstrap, made like the official slim
# image (no docs, man pages or locales; apt keeps no lists or caches; no service starts
# in a build), imported and tagged with the names the Dockerfiles use, so BuildKit never
# pulls it. BASE_REVISION: bump it when this recipe changes, and the image is made again.
BASE_REVISION=2
slim_rootfs() { # slim_rootfs DIR
  local r=$1
  cat >"$r/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF2'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
EOF2
  cat >"$r/etc/apt/apt.conf.d/docker-clean" <<'EOF2'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
Acquire::Languages "none";
EOF2
  printf '#!/bin/sh\nexit 101\n' >"$r/usr/sbin/policy-rc.d"
  chmod 755 "$r/usr/sbin/policy-rc.d"
  find "$r/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete 2>/dev/null || true
  rm -rf "$r"/usr/share/man/* "$r"/usr/share/info/* "$r"/usr/share/locale/* \
    "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/*.bin "$r"/var/cache/apt/archives/*.deb "$r"/var/log/*.log
}
step_base_image() {
  local have
  have=$(docker image inspect -f '{{index .Config.Labels "jobmatch.base-revision"}}' local/debian:bookworm 2>/dev/null || true)
  if [[ $have != "$BASE_REVISION" ]]; then
    say "base image local/debian:bookworm (debootstrap, about a minute)"
    local rootfs=$W/rootfs
    rm -rf "$rootfs"
    run debootstrap --variant=minbase bookworm "$rootfs" "$(mirror)"
    slim_rootfs "$rootfs"
    tar -C "$rootfs" -c . |
      docker import -c 'CMD ["bash"]' -c "LABEL jobmatch.base-revision=$BASE_REVISION" - local/debian:bookworm >>"$LOG"
    rm -rf "$rootfs"
  fi
  run docker tag local/debian:bookworm debian:bookworm-slim
  run docker tag local/debian:bookworm debian:bookworm
}

# 5. Stand-ins for the upstream images, tagged with the upstream names. The build
# cache makes a rebuild of unchanged files a no-op.
step_stand_ins() {
  local m; m=$(mirror)
  build() { # build DIR TAG
    say "stand-in $2 (deploy/stand-ins/$1)"
    run docker build --network host --build-arg MIRROR="$m" -t "$2" "$STAND_INS/$1"
  }
  build postgres pgvector/pgvector:pg15
  build redis redis:7-bookworm
  build nginx nginx:1.25-bookworm
  build prometheus prom/prometheus:v2.45.0
}

main() {
  local cmd=${1:-up}
  case $cmd in
    env) print_env; return 0 ;;
    stop) stop; return 0 ;;
    cli)
      # The client and Compose only, no daemon: what `make test` needs to validate
      # docker-compose.yml offline (`docker compose config`).
      [[ $EUID -eq 0 ]] || die "run as root"
      mkdir -p "$W"
      step_client
      step_plugins
      print_env
      return 0 ;;
    up) ;;
    *) die "unknown command $cmd (up, cli, env, stop)" ;;
  esac
  [[ $EUID -eq 0 ]] || die "run as root"
  mkdir -p "$W"
  echo "== docker-engine $(date -Is)" >>"$LOG"
  step_packages
  step_plugins
  docker compose version >&2
  step_daemon
  step_base_image
  step_stand_ins
  say "ready: $(docker version --format 'server {{.Server.Version}}'), images:"
  docker image ls --format '  {{.Repository}}:{{.Tag}} {{.Size}}' \
    --filter reference='*/*:*' --filter reference='*:*' >&2
  print_env
}

main "$@"
