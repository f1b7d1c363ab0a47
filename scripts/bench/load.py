#!/usr/bin/env python3
"""make bench-load: faults under a steady load of signed-in candidates.

Starts the whole suite from the release binaries on its own ports and a scratch
database, signs CANDIDATES candidates up (each uploads a CV), then keeps them busy
(their matches page, and a skill added every few pages: an acknowledged write) while it

  1. runs undisturbed (the baseline),
  2. kills matching (SIGKILL) and starts it again,
  3. kills offre-ingestion and starts it again,
  4. restarts PostgreSQL (the local cluster: run this bench alone).

It prints each phase's requests, errors, latency and the pages that said their results
may be out of date, and fails when a page was a 5xx while a service was down, when a
service did not recover by itself after PostgreSQL came back, or when an acknowledged
write is missing at the end. Python's standard library only.
"""

import http.client
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("JOBMATCH_CACHE", "/var/cache/jobmatch"))
BIN = Path(os.environ.get("CARGO_TARGET_DIR", CACHE / "target")) / "release"
DB = "jobmatch_bench_load"
CANDIDATES = int(os.environ.get("BENCH_LOAD_CANDIDATES", "8"))
PHASE_SECS = float(os.environ.get("BENCH_LOAD_PHASE_SECS", "12"))
DOWN_SECS = float(os.environ.get("BENCH_LOAD_DOWN_SECS", "8"))
PORTS = {"gui": 18080, "matching": 18081, "offre-ingestion": 18082, "cv-ingestion": 18083, "gui-worker": 18084}
ROLES = {"gui": "jobmatch_gui", "gui-worker": "jobmatch_gui", "matching": "jobmatch_matching",
         "offre-ingestion": "jobmatch_offers", "cv-ingestion": None}
STALE = "peuvent ne pas être à jour"
PG_VERSION = os.environ.get("BENCH_LOAD_PG_VERSION", "15")


def psql(sql, db="postgres"):
    return subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-w", "-X", "-tAq",
                           "-v", "ON_ERROR_STOP=1", "-c", sql],
                          check=True, capture_output=True, text=True).stdout.strip()


class Suite:
    """The services as processes, each restartable."""

    def __init__(self, work):
        self.work = work
        self.procs = {}
        tokens = {name: secrets.token_urlsafe(32) for name in ["service", "gui", "gui-worker", "monitoring"]}
        self.tokens = tokens
        api = ";".join([f"gui:api:{tokens['gui']}", f"gui-worker:api:{tokens['gui-worker']}",
                        f"monitoring:metrics:{tokens['monitoring']}"])
        metrics = f"monitoring:metrics:{tokens['monitoring']}"
        self.callers = {"gui": metrics, "gui-worker": metrics}
        self.api_callers = api

    def env(self, name):
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "EMBEDDING_MODEL_DIR", "ORT_DYLIB_PATH",
                                                            "REFERENTIALS_DIR", "DOCS_ASSETS_DIR", "JOBMATCH_CACHE")}
        own = {"gui": "gui", "gui-worker": "gui-worker"}.get(name, "service")
        env.update({
            "BIND_ADDR": f"127.0.0.1:{PORTS[name]}",
            "SERVICE_TOKEN": self.tokens[own],
            "SERVICE_CALLERS": self.callers.get(name, self.api_callers),
            "REDIS_URL": "redis://127.0.0.1:6379",
            "EVENTS_STREAM_PREFIX": f"bench-load-{os.getpid()}:",
            "LOG_FORMAT": "json",
            "MATCHING_URL": f"http://127.0.0.1:{PORTS['matching']}",
            "OFFRE_INGESTION_URL": f"http://127.0.0.1:{PORTS['offre-ingestion']}",
            "CV_INGESTION_URL": f"http://127.0.0.1:{PORTS['cv-ingestion']}",
            "COOKIE_SECURE": "false",
            # The candidates come through a "proxy" (this script): each has its own
            # address, as the per-address limits expect.
            "TRUSTED_PROXIES": "127.0.0.1",
        })
        role = ROLES[name]
        if role:
            env["DATABASE_URL"] = f"postgres://{role}@127.0.0.1:5432/{DB}"
            env["DATABASE_PASSWORD_FILE"] = str(CACHE / "secrets" / f"{role}.password")
        return env

    def start(self, name):
        program = [str(BIN / "gui"), "worker"] if name == "gui-worker" else [str(BIN / name)]
        log = open(self.work / f"{name}.log", "ab")
        self.procs[name] = subprocess.Popen(program, env=self.env(name), stdout=log, stderr=log)
        self.wait_ready(name)

    def wait_ready(self, name, limit=60.0):
        started = time.monotonic()
        while time.monotonic() - started < limit:
            if self.procs[name].poll() is not None:
                sys.exit(f"bench-load: {name} died; see {self.work / (name + '.log')}")
            if status(PORTS[name], "/health/ready") == 200:
                return time.monotonic() - started
            time.sleep(0.1)
        sys.exit(f"bench-load: {name} not ready after {limit} s")

    def kill(self, name):
        self.procs[name].send_signal(signal.SIGKILL)
        self.procs[name].wait()

    def stop(self):
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def status(port, path):
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", path)
        return conn.getresponse().status
    except OSError:
        return None


class Candidate:
    """One browser: cookies, CSRF tokens, its acknowledged writes."""

    def __init__(self, number):
        self.number = number
        self.email = f"charge{number}@exemple.fr"
        self.cookies = {}
        self.acknowledged = []

    def request(self, method, path, body=None, content_type=None):
        conn = http.client.HTTPConnection("127.0.0.1", PORTS["gui"], timeout=30)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
                   "X-Forwarded-For": f"10.0.0.{self.number + 1}"}
        if content_type:
            headers["Content-Type"] = content_type
        started = time.monotonic()
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        elapsed = time.monotonic() - started
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return response.status, text, elapsed

    def form(self, path, fields):
        return self.request("POST", path, urllib.parse.urlencode(fields), "application/x-www-form-urlencoded")

    @staticmethod
    def csrf(html):
        found = re.search(r'name="csrf" value="([^"]+)"', html)
        return found.group(1) if found else ""

    def sign_up(self, cv_text):
        _, page, _ = self.request("GET", "/inscription")
        password = "mot-de-passe-de-charge-2026"
        code, _, _ = self.form("/inscription", {"csrf": self.csrf(page), "email": self.email,
                                                "password": password, "confirm": password})
        assert code == 303, f"sign-up: {code}"
        _, profile, _ = self.request("GET", "/profil")
        boundary = "jobmatch" + secrets.token_hex(8)
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{self.csrf(profile)}\r\n"
                f"--{boundary}\r\nContent-Disposition: form-data; name=\"cv\"; filename=\"cv.txt\"\r\n"
                f"Content-Type: text/plain\r\n\r\n{cv_text}\r\n--{boundary}--\r\n").encode()
        code, text, _ = self.request("POST", "/profil/cv", body, f"multipart/form-data; boundary={boundary}")
        assert code in (200, 303), f"CV upload: {code} {text[:300]}"


class Load:
    def __init__(self, candidates):
        self.candidates = candidates
        self.phase = "setup"
        self.records = []  # (phase, kind, status, seconds, stale)
        self.lock = threading.Lock()
        self.running = True

    def record(self, *row):
        with self.lock:
            self.records.append((self.phase, *row))

    def loop(self, candidate):
        pages = 0
        while self.running:
            try:
                code, html, elapsed = candidate.request("GET", "/offres")
                self.record("page", code, elapsed, STALE in html)
                pages += 1
                if pages % 20 == 0:
                    label = f"Charge {candidate.number}-{pages}"
                    code, _, elapsed = candidate.form("/profil/competences",
                                                      {"csrf": Candidate.csrf(html), "label": label})
                    self.record("write", code, elapsed, False)
                    if code == 303:
                        candidate.acknowledged.append(label)
            except OSError as error:
                self.record("page", f"connection: {error.__class__.__name__}", 0.0, False)
                time.sleep(0.2)
            time.sleep(0.05)

    def report(self, phases):
        print("\n| phase | pages | writes | 5xx | other errors | pages saying \"may be out of date\" | page p50 | page p95 |")
        print("|---|---|---|---|---|---|---|---|")
        for phase in phases:
            rows = [r for r in self.records if r[0] == phase]
            pages = [r for r in rows if r[1] == "page"]
            times = sorted(r[3] for r in pages if r[2] == 200)
            q = lambda p: f"{times[min(len(times) - 1, int(len(times) * p))] * 1000:.0f} ms" if times else "-"
            server = sum(1 for r in rows if isinstance(r[2], int) and r[2] >= 500)
            other = sum(1 for r in rows if not isinstance(r[2], int) or (400 <= r[2] < 500))
            print(f"| {phase} | {len(pages)} | {sum(1 for r in rows if r[1] == 'write')} | {server} | {other} "
                  f"| {sum(1 for r in pages if r[4])} | {q(0.5)} | {q(0.95)} |")

    def server_errors(self, phase):
        return sum(1 for r in self.records if r[0] == phase and isinstance(r[2], int) and r[2] >= 500)


def main():
    work = Path(tempfile.mkdtemp(prefix="jobmatch-bench-load-"))
    psql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    psql(f"CREATE DATABASE {DB}")
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", DB, "-w", "-X", "-q", "-v", "ON_ERROR_STOP=1",
                    "-f", str(REPO / "migrations/bootstrap.sql")], check=True, capture_output=True,
                   env={**os.environ, "PGOPTIONS": "-c client_min_messages=warning"})
    suite = Suite(work)
    failures = []
    try:
        for name in ["offre-ingestion", "matching", "cv-ingestion", "gui", "gui-worker"]:
            suite.start(name)
        offers = work / "offers.jsonl"
        with open(offers, "wb") as out:
            subprocess.run([str(BIN / "offre-ingestion"), "demo-data", "--count", "200", "--seed", "7"],
                           check=True, stdout=out, stderr=subprocess.DEVNULL)
        subprocess.run([str(BIN / "offre-ingestion"), "ingest", "--file", str(offers)], check=True,
                       env=suite.env("offre-ingestion"), capture_output=True)
        titles = [json.loads(line)["intitule"] for line in offers.read_text().splitlines()[:CANDIDATES]]
        candidates = [Candidate(i) for i in range(CANDIDATES)]
        for candidate, title in zip(candidates, titles):
            candidate.sign_up(f"{candidate.email}\nProfil\n{title}\nExpérience professionnelle\n"
                              f"2019 - 2024 {title}, Entreprise {candidate.number}\n"
                              "Compétences\nTravail en équipe, Relation client, Rigueur\n")
        print(f"bench-load: {CANDIDATES} candidates signed up, 200 offers; phases of {PHASE_SECS:.0f} s, "
              f"services down {DOWN_SECS:.0f} s; logs in {work}")

        load = Load(candidates)
        threads = [threading.Thread(target=load.loop, args=(c,), daemon=True) for c in candidates]
        load.phase = "baseline"
        for thread in threads:
            thread.start()
        time.sleep(PHASE_SECS)

        for name in ["matching", "offre-ingestion"]:
            load.phase = f"{name} killed"
            suite.kill(name)
            time.sleep(DOWN_SECS)
            suite.start(name)
            load.phase = f"{name} back"
            time.sleep(PHASE_SECS)

        load.phase = "PostgreSQL restarted"
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", PG_VERSION, "main", "restart", "-m", "fast"],
                       check=True, capture_output=True)
        restarted = time.monotonic()
        recovered = {}
        while len(recovered) < len(PORTS) and time.monotonic() - restarted < 60:
            for name, port in PORTS.items():
                if name not in recovered and status(port, "/health/ready") == 200:
                    recovered[name] = time.monotonic() - restarted
            time.sleep(0.1)
        load.phase = "after PostgreSQL"
        time.sleep(PHASE_SECS)
        load.running = False
        for thread in threads:
            thread.join(timeout=40)

        phases = ["baseline", "matching killed", "matching back", "offre-ingestion killed", "offre-ingestion back",
                  "PostgreSQL restarted", "after PostgreSQL"]
        load.report(phases)
        print("\nready again after PostgreSQL's restart, without a restart of their own: "
              + ", ".join(f"{n} {recovered[n]:.1f} s" for n in PORTS if n in recovered))
        for phase in ["matching killed", "matching back", "offre-ingestion killed", "offre-ingestion back",
                      "after PostgreSQL"]:
            if load.server_errors(phase):
                failures.append(f"{load.server_errors(phase)} 5xx during '{phase}'")
        stale = sum(1 for r in load.records if r[0] == "matching killed" and r[1] == "page" and r[4])
        if stale == 0:
            failures.append("no page said its results may be out of date while matching was down")
        missing = set(PORTS) - set(recovered)
        if missing:
            failures.append(f"not ready 60 s after PostgreSQL's restart: {sorted(missing)}")
        acknowledged = [(c.number, label) for c in candidates for label in c.acknowledged]
        stored = set(psql("SELECT label FROM gui.profile_skills WHERE label LIKE 'Charge %'", db=DB).splitlines())
        lost = [label for _, label in acknowledged if label not in stored]
        print(f"acknowledged writes: {len(acknowledged)}, found in the database: {len(acknowledged) - len(lost)}")
        if lost:
            failures.append(f"{len(lost)} acknowledged writes lost: {lost[:5]}")
    finally:
        suite.stop()
    if failures:
        sys.exit("bench-load: FAILED: " + "; ".join(failures))
    print("bench-load: no 5xx while a service was down, every service recovered by itself, no write lost")


if __name__ == "__main__":
    main()
