#!/usr/bin/env bash
# End-to-end test of docker-compose.yml on this machine, as operators would run it but
# with the images made from the binaries built on the host (docker-compose.test.yml):
# the private engine (scripts/docker-engine.sh), the build, `up --wait`, demo offers,
# then through the proxy a candidate signs up, uploads a CV and reads their matches;
# Prometheus must scrape every target; `down -v` at the end (KEEP_STACK=1 keeps it).
#
# Needs, as root: `make setup` done, and the binaries built first:
#   cargo build --release --locked --bins     (into $CARGO_TARGET_DIR/release)
# Environment: PROXY_PORT (18080: not make run's 8080), DEMO_OFFERS (200),
#              TEST_SUBNET_PREFIX (172.30.100: the test stack's internal /24).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${JOBMATCH_CACHE:-/var/cache/jobmatch}
BIN=${CARGO_TARGET_DIR:-$CACHE/target}/release
cd "$REPO"
t0=$(date +%s)
say() { echo "compose-test: [$(($(date +%s) - t0))s] $*"; }

missing=()
for name in gui matching offre-ingestion cv-ingestion; do [[ -x $BIN/$name ]] || missing+=("$name"); done
if ((${#missing[@]})); then
  echo "compose-test: no ${missing[*]} in $BIN; build them first:" >&2
  echo "  CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$CACHE/target} cargo build --release --locked --bins" >&2
  exit 1
fi

say "engine"
eval "$(scripts/docker-engine.sh)"
deploy/prepare-context.sh --binaries "$BIN"
deploy/make-secrets.sh

# Its own project, port and subnet: never the operators' stack nor `make run`'s ports.
export COMPOSE_PROJECT_NAME=${COMPOSE_PROJECT_NAME:-jobmatch-test}
export COMPOSE_FILE=docker-compose.yml:docker-compose.test.yml
export PROXY_BIND=127.0.0.1 PROXY_PORT=${PROXY_PORT:-18080}
net=${TEST_SUBNET_PREFIX:-172.30.100}
export BACKEND_SUBNET=$net.0/24 BACKEND_IP_RANGE=$net.128/25 PROXY_IPV4=$net.10
export DEMO_OFFERS=${DEMO_OFFERS:-200}
# .env.example: the documented defaults, whatever a local .env says (exports win).
dc() { docker compose --env-file "$REPO/.env.example" "$@"; }

finish() {
  local status=$?
  set +e
  if ((status != 0)); then
    echo "compose-test: FAILED; the stack's state and last logs:" >&2
    dc ps -a >&2
    dc logs --tail 25 >&2
  fi
  if [[ ${KEEP_STACK:-0} == 1 ]]; then
    say "stack kept (KEEP_STACK=1): COMPOSE_FILE=$COMPOSE_FILE COMPOSE_PROJECT_NAME=$COMPOSE_PROJECT_NAME docker compose down -v"
  else
    local d0; d0=$(date +%s)
    dc --profile demo --profile ingest down -v --remove-orphans >/dev/null 2>&1
    say "down -v in $(($(date +%s) - d0)) s"
  fi
  say "the engine keeps running; scripts/docker-engine.sh stop ends it"
  exit "$status"
}
trap finish EXIT

say "config"
dc config -q
say "build (host binaries)"
nice -n 10 docker compose --env-file "$REPO/.env.example" build
say "up --wait"
# Grafana's image cannot be made without a registry (Debian does not package it): the
# stack runs without it here; its dashboard is checked offline by `make test`.
dc up -d --wait --pull never --scale grafana=0
dc ps --format '  {{.Service}}: {{.Status}}'

say "demo offers ($DEMO_OFFERS, embedded)"
dc --profile demo run --rm demo-offers >/dev/null

say "a candidate through the proxy: sign-up, CV, matches, rate limit"
python3 - "http://127.0.0.1:$PROXY_PORT" <<'PY'
"""A candidate's path through nginx with the standard library only: cookies by hand
(the GUI's are Secure and __Host-, which http.cookiejar would not send over http)."""
import http.client, re, sys, time, urllib.parse, uuid

base = urllib.parse.urlsplit(sys.argv[1])
cookies = {}

def request(method, path, body=None, headers=None):
    conn = http.client.HTTPConnection(base.hostname, base.port, timeout=60)
    headers = dict(headers or {})
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read().decode("utf-8", "replace")
    for header in resp.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        value = rest.split(";", 1)[0]
        if "Max-Age=0" in header:
            cookies.pop(name, None)
        else:
            cookies[name] = value
    conn.close()
    return resp.status, resp.headers, data

def csrf(path):
    status, _, html = request("GET", path)
    assert status == 200, f"GET {path}: {status}"
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)

def form(path, fields, headers=None):
    body = urllib.parse.urlencode(fields)
    return request("POST", path, body,
                   {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})})

email = f"compose-test-{uuid.uuid4().hex[:8]}@example.org"
password = "un mot de passe assez long"
# A forged X-Forwarded-For: the GUI must count the sign-up against the address nginx
# saw, not this one (the shell checks the rate-limit row below).
status, headers, _ = form("/inscription", {"csrf": csrf("/inscription"), "email": email,
                                            "password": password, "confirm": password},
                          {"X-Forwarded-For": "203.0.113.7"})
assert status == 303 and headers["Location"].startswith("/profil"), f"sign-up: {status}"
print(f"  signed up {email}")

cv = ("Camille Martin\nDéveloppeuse backend Rust et PostgreSQL\nLyon\n\n"
      "Expérience\n2019-2024 Développeuse logicielle, Exemple SA, Lyon\n"
      "Services web en Rust, API REST, PostgreSQL, Docker, Linux, Python.\n\n"
      "Compétences\nRust, PostgreSQL, SQL, Docker, Git, Linux, anglais courant\n").encode()
boundary = uuid.uuid4().hex
body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf('/profil')}\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"cv\"; filename=\"cv.txt\"\r\n"
        "Content-Type: text/plain\r\n\r\n").encode() + cv + f"\r\n--{boundary}--\r\n".encode()
status, headers, _ = request("POST", "/profil/cv", body,
                             {"Content-Type": f"multipart/form-data; boundary={boundary}"})
assert status == 303 and "cv=1" in headers["Location"], f"CV upload: {status} {headers.get('Location')}"
print("  CV uploaded and read")

# The offers index of each matching replica picks the demo offers up within its poll.
deadline = time.time() + 120
while True:
    status, _, html = request("GET", "/offres")
    assert status == 200, f"GET /offres: {status}"
    found = re.findall(r'<h2 id="offre-[^"]*"><a href="/offres/[^"]+">([^<]+)</a>', html)
    if found:
        break
    assert time.time() < deadline, "no match after 120 s"
    time.sleep(5)
    form("/offres/actualiser", {"csrf": csrf("/offres")})
assert len(found) == 20, f"20 matches on the page, not {len(found)}"
print(f"  {len(found)} matches, first: {found[0]}")

# One session, both GUI replicas: sessions and CSRF live in PostgreSQL, so whichever
# replica nginx picks serves the signed-in page (nginx's log names the upstream of
# each probe; the shell checks there were two).
for n in range(12):
    status, _, html = request("GET", f"/offres?replica-probe={n}")
    assert status == 200 and re.search(r'<h2 id="offre-', html), f"probe {n}: {status}, signed out?"
print("  12 pages of one session served signed in")

# nginx's own limit on sign-in POSTs (10/min, burst 5): a quick series meets a 429.
codes = [form("/connexion", {"csrf": "x", "email": email, "password": "faux"})[0] for _ in range(10)]
assert 429 in codes, f"no 429 from the sign-in limit: {codes}"
print(f"  sign-in rate limit: {codes}")
PY

# Per-address limits see the client through the proxy: the sign-up was counted against
# the address nginx saw (its log's first field), neither the forged X-Forwarded-For nor
# the proxy's own address.
# nginx's access log, without the terminal codes compose puts around lines.
proxy_log() { dc logs --no-color --no-log-prefix proxy | sed 's/\x1b\[[0-9;]*[A-Za-z]//g'; }
counted=$(dc exec -T postgres psql -U postgres -d "${POSTGRES_DB:-jobmatch}" -tAc \
  "SELECT key FROM gui.rate_limits WHERE key LIKE 'sign-up:from:%'")
client=$(proxy_log | awk '/"POST \/inscription / && !found {print $1; found = 1}')
echo "  sign-up counted as ${counted} (nginx saw ${client})"
[[ $counted == "sign-up:from:$client" && $client != "203.0.113.7" && $client != "$PROXY_IPV4" ]] ||
  { echo "compose-test: the GUI did not count the sign-up against the client's address" >&2; exit 1; }

upstreams=$(proxy_log | sed -n 's/.*replica-probe=.* upstream=\([^ ]*\) .*/\1/p' | sort -u)
echo "  the session's pages came from: $(echo $upstreams)"
(($(wc -l <<<"$upstreams") >= 2)) || { echo "compose-test: one session was served by one GUI replica only" >&2; exit 1; }

say "Prometheus targets"
# job=targets: every replica is a target of its own (Docker DNS, dns_sd_configs).
expected="prometheus=1 gui=2 gui-worker=1 matching=2 offre-ingestion=1 cv-ingestion=1"
for attempt in $(seq 1 12); do
  if dc exec -T prometheus wget -qO- http://127.0.0.1:9090/api/v1/targets |
       python3 -c '
import json, sys
jobs = {}
for t in json.load(sys.stdin)["data"]["activeTargets"]:
    jobs.setdefault(t["labels"]["job"], []).append(t["health"])
print("  " + ", ".join(job + ": " + "/".join(h) for job, h in sorted(jobs.items())))
want = dict(e.split("=") for e in sys.argv[1].split())
ok = all(len(jobs.get(job, [])) == int(n) for job, n in want.items())
sys.exit(0 if ok and all(h == "up" for hs in jobs.values() for h in hs) else 1)
' "$expected"; then
    break
  fi
  ((attempt < 12)) || { echo "compose-test: Prometheus does not scrape every target" >&2; exit 1; }
  sleep 5
done
say "Prometheus: the alert rules loaded, the domain metrics scraped"
prom() { dc exec -T prometheus wget -qO- "http://127.0.0.1:9090/api/v1/$1"; }
prom rules | python3 -c '
import json, sys
rules = [r["name"] for g in json.load(sys.stdin)["data"]["groups"] for r in g["rules"]]
names = ", ".join(rules)
print(f"  {len(rules)} alert rules: {names}")
sys.exit(0 if len(rules) >= 10 else 1)'
for attempt in $(seq 1 12); do
  # The demo run's 200 offers, as offre-ingestion reads them from the runs' rows.
  if prom 'query?query=offers_ingested_total' | python3 -c '
import json, sys
result = json.load(sys.stdin)["data"]["result"]
value = result and float(result[0]["value"][1])
print(f"  offers_ingested_total = {value}")
sys.exit(0 if value == 200 else 1)'; then
    break
  fi
  ((attempt < 12)) || { echo "compose-test: offers_ingested_total never reached Prometheus" >&2; exit 1; }
  sleep 5
done
prom 'query?query=sum(match_stage_duration_seconds_count)' | python3 -c '
import json, sys
result = json.load(sys.stdin)["data"]["result"]
value = result and float(result[0]["value"][1])
print(f"  /match stages timed: {value}")
sys.exit(0 if value and value > 0 else 1)'
say "ALL OK"
