#!/usr/bin/env bash
# Makes the compose secrets docker-compose.yml reads, in deploy/secrets/ (gitignored):
# a file each, made only when missing, so running it again changes nothing. To rotate
# one, delete its file, run this again, then `docker compose up -d --force-recreate`
# (db-init re-applies the roles' passwords; a secret's content is not part of compose's
# configuration, so without --force-recreate the running containers keep the old file
# and would then fail to authenticate). The
# PostgreSQL superuser's password is the cluster's from its first start: changing the
# file later needs an ALTER ROLE postgres by hand.
#
#   postgres_password              the superuser (db-init only)
#   db_jobmatch_{offers,gui,matching}  each service's database role
#   redis_password, redis.conf, redis_url   Redis with a password; REDIS_URL_FILE
#   token_{service,gui,gui_worker,monitoring}  each caller's bearer token (SERVICE_TOKEN_FILE)
#   callers_api, callers_metrics   SERVICE_CALLERS_FILE: name:scopes:token, one a line
#   ft_client_secret               France Travail API (FT_CLIENT_SECRET, or "unset")
#   grafana_admin_password         Grafana's `admin` user
#
# Files are mode 644 in a mode 700 directory: compose bind-mounts each file as it is
# (it ignores uid/gid/mode for file secrets) into containers that run as other users
# (10001, postgres, redis, nobody); on the host only root reaches them.
set -euo pipefail

DIR=${SECRETS_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/secrets}
umask 022
install -d -m 700 "$DIR"

random() { head -c 32 /dev/urandom | base64 | tr -d '/+=\n'; }
made=()
secret() { # secret NAME: makes NAME with a random value when missing
  [[ -s $DIR/$1 ]] && return 0
  random >"$DIR/$1.tmp" && mv "$DIR/$1.tmp" "$DIR/$1"
  made+=("$1")
}
derive() { # derive NAME: writes stdin to NAME when it differs (derived from other secrets)
  local tmp=$DIR/$1.tmp
  cat >"$tmp"
  if cmp -s "$tmp" "$DIR/$1"; then rm -f "$tmp"; else mv "$tmp" "$DIR/$1"; made+=("$1"); fi
}
value() { cat "$DIR/$1"; }

for name in postgres_password db_jobmatch_offers db_jobmatch_gui db_jobmatch_matching \
            redis_password token_service token_gui token_gui_worker token_monitoring \
            grafana_admin_password; do
  secret "$name"
done

derive redis.conf <<EOF
# Written by deploy/make-secrets.sh from redis_password.
bind * -::*
requirepass $(value redis_password)
# The stream's pending entries and consumer group survive a restart.
appendonly yes
EOF
# User `default`: what requirepass sets; every client reads user:password URLs alike.
derive redis_url <<<"redis://default:$(value redis_password)@redis:6379"

# Who may call what (crates/platform/src/auth.rs): the internal APIs accept the GUI and
# its worker (api) and the monitoring (metrics); the GUI and the worker accept only the
# monitoring. The internal services' own token (token_service) opens nothing anywhere:
# they call no one.
derive callers_api <<EOF
gui:api:$(value token_gui)
gui-worker:api:$(value token_gui_worker)
monitoring:metrics:$(value token_monitoring)
EOF
derive callers_metrics <<<"monitoring:metrics:$(value token_monitoring)"

if [[ -n ${FT_CLIENT_SECRET:-} ]]; then
  derive ft_client_secret <<<"$FT_CLIENT_SECRET"
elif [[ ! -s $DIR/ft_client_secret ]]; then
  # Only `ingest --api` (profile ingest) reads it; compose needs the file to exist.
  derive ft_client_secret <<<"unset"
fi

chmod 644 "$DIR"/*
if ((${#made[@]})); then
  echo "make-secrets: wrote ${made[*]} in $DIR"
else
  echo "make-secrets: $DIR up to date"
fi
