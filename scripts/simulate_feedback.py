#!/usr/bin/env python3
"""make simulate-feedback: the learning loop end to end, on candidates played by this script.

Starts the whole suite from the release binaries on its own ports (18080-18084) and a
database made afresh (jobmatch_simulation), with two ranking variants
(RANKING_VARIANTS); ingests the French development set's offers (../shared/eval-dev/fr,
or a subset: every relevant offer of the chosen CVs and a random sample); then plays
a candidate per CV of the set (all 297, or --candidates N of them) through the real
GUI, each from its own 127.42.x.y address (sign-ups are limited per address): sign-up,
the CV uploaded as a text file, the matches page read, and for each offer shown, acts
drawn (seeded) from the CV's relevance in qrels.tsv:

    relevance     opens  saves  applies  interview  hired   seconds on the page
    grade 2       0.75   0.40   0.30     0.15       0.03    20-240
    grade 1       0.50   0.20   0.12     0.04       0       15-120
    not relevant  0.15   0.03   0.01     0          0       2-9 (a fifth: 10-40)

(acts only on an opened offer; an interview is an application, a hire an interview;
--position-bias η makes an offer at rank r examined with probability r^-η, none by
default). Then it runs `gui report-variants` and `gui export-training-data`, and checks
them against what it played: the report's counts per variant (candidates, shown,
views, saves, applications, interviews), the export's counts (candidates, positives,
hard negatives, triplets), and each candidate's list in lists.jsonl (found by its
offers): the 20 offers in the order the page showed them, each with its eight signals
and the grade its acts make. Last, `jobmatch-feedback` trains the learned re-ranker on
half of the exported candidates and fails unless it beats the order shown (the
untrained fusion) on the other half, by NDCG@20 of the export's grades; it also scores
both orders against the set's own relevance. It prints its figures; the services are
stopped at the end, also on failure (logs and the export stay in the work folder it
prints; the database stays until the next run).

    python3 scripts/simulate_feedback.py [--candidates 0] [--offers 0] [--seed 24] [--reuse-offers] ...

Figures of a run and what they say: services/gui/README.md ("Simulated feedback").

Python's standard library only.
"""

import argparse
import concurrent.futures
import gzip
import http.client
import json
import os
import random
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("JOBMATCH_CACHE", "/var/cache/jobmatch"))
BIN = Path(os.environ.get("CARGO_TARGET_DIR", CACHE / "target")) / "release"
SHARED = Path(os.environ.get("JOBMATCH_SHARED", REPO.parent / "shared"))
DB = "jobmatch_simulation"
PORTS = {"offre-ingestion": 18082, "matching": 18081, "cv-ingestion": 18083, "gui": 18080, "gui-worker": 18084}
ROLES = {"gui": "jobmatch_gui", "gui-worker": "jobmatch_gui", "matching": "jobmatch_matching",
         "offre-ingestion": "jobmatch_offers", "cv-ingestion": None}
# The control (matching's own weights) and the same fusion without the ROME job signal
# (matching's default weights of the other signals; `make eval` measures it 0.756 on
# `fr` against 0.845): a variant known to be worse, which the report should show.
VARIANTS = ("control:50;no-job:50:weight.semantic=0.26,weight.lexical=0.08,weight.keywords=0.02,"
            "weight.family=0.1,weight.similar=0.16")
PASSWORD = "simulation-des-candidats-2026"
SIGNALS = ["semantic", "lexical", "title", "job", "skills", "keywords", "family", "similar"]
# Probabilities of each act by the offer's relevance (qrels grade; 0: not relevant), each
# a share of all the offers of that grade shown (nested: interview < apply < open).
BEHAVIOUR = {
    2: {"open": 0.75, "save": 0.40, "apply": 0.30, "interview": 0.15, "hired": 0.03, "seconds": (20, 240)},
    1: {"open": 0.50, "save": 0.20, "apply": 0.12, "interview": 0.04, "hired": 0.0, "seconds": (15, 120)},
    0: {"open": 0.15, "save": 0.03, "apply": 0.01, "interview": 0.0, "hired": 0.0, "seconds": (2, 9)},
}
# The export's grades and its hard negatives (services/gui/src/learning/export.rs).
HARD_NEGATIVE_RANK = 10
BRIEF_VIEW_SECONDS = 10
NEGATIVES_PER_POSITIVE = 5


def log(message):
    print(f"simulate-feedback: {message}", flush=True)


def fail(message):
    raise SystemExit(f"simulate-feedback: FAILED: {message}")


def psql(sql, db="postgres"):
    return subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-w", "-X", "-tAq",
                           "-v", "ON_ERROR_STOP=1", "-c", sql],
                          check=True, capture_output=True, text=True).stdout.strip()


class Suite:
    """The five services as processes on their own ports, logs in the work folder."""

    def __init__(self, work, variants):
        self.work = work
        self.variants = variants
        self.procs = {}
        self.tokens = {name: secrets.token_urlsafe(32) for name in ["service", "gui", "gui-worker", "monitoring"]}
        t = self.tokens
        self.api_callers = f"gui:api:{t['gui']};gui-worker:api:{t['gui-worker']};monitoring:metrics:{t['monitoring']}"
        self.metrics_callers = f"monitoring:metrics:{t['monitoring']}"

    def env(self, name):
        keep = ("PATH", "EMBEDDING_MODEL_DIR", "ORT_DYLIB_PATH", "REFERENTIALS_DIR", "DOCS_ASSETS_DIR",
                "JOBMATCH_CACHE")
        env = {k: v for k, v in os.environ.items() if k in keep}
        own = {"gui": "gui", "gui-worker": "gui-worker"}.get(name, "service")
        env.update({
            "BIND_ADDR": f"127.0.0.1:{PORTS[name]}",
            "SERVICE_TOKEN": self.tokens[own],
            "SERVICE_CALLERS": self.metrics_callers if name in ("gui", "gui-worker") else self.api_callers,
            "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379"),
            # Its own streams: a `make run` on the same Redis sees none of its events.
            "EVENTS_STREAM_PREFIX": "jobmatch-simulation:",
            "LOG_FORMAT": "json",
            "MATCHING_URL": f"http://127.0.0.1:{PORTS['matching']}",
            "OFFRE_INGESTION_URL": f"http://127.0.0.1:{PORTS['offre-ingestion']}",
            "CV_INGESTION_URL": f"http://127.0.0.1:{PORTS['cv-ingestion']}",
            "COOKIE_SECURE": "false",
            "RANKING_VARIANTS": self.variants,
            # The set's offers date from 2022-2025: kept, as `make eval` keeps them.
            "OFFER_MAX_AGE_DAYS": "0",
            "MATCH_INDEX_POLL_SECS": "1",
        })
        role = ROLES[name]
        if role:
            env["DATABASE_URL"] = f"postgres://{role}@127.0.0.1:5432/{DB}"
            env["DATABASE_PASSWORD_FILE"] = str(CACHE / "secrets" / f"{role}.password")
        return env

    def start(self, name):
        program = [str(BIN / "gui"), "worker"] if name == "gui-worker" else [str(BIN / name)]
        out = open(self.work / f"{name}.log", "ab")
        self.procs[name] = subprocess.Popen(program, env=self.env(name), stdout=out, stderr=out)
        started = time.monotonic()
        while time.monotonic() - started < 120:
            if self.procs[name].poll() is not None:
                fail(f"{name} exited at start; see {self.work / (name + '.log')}")
            if status(PORTS[name], "/health/ready") == 200:
                return
            time.sleep(0.1)
        fail(f"{name} not ready after 120 s; see {self.work / (name + '.log')}")

    def run(self, name, args, **kwargs):
        """A command of a service's binary, with that service's environment."""
        return subprocess.run([str(BIN / name), *args], env=self.env(name), capture_output=True, text=True,
                              **kwargs)

    def alive(self):
        dead = [name for name, proc in self.procs.items() if proc.poll() is not None]
        if dead:
            fail(f"{', '.join(dead)} exited; see the logs in {self.work}")

    def stop(self):
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def status(port, path):
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", path)
        return conn.getresponse().status
    except OSError:
        return None


def csrf_of(html):
    found = re.search(r'name="csrf" value="([^"]+)"', html) or re.search(r'data-csrf="([^"]+)"', html)
    if not found:
        raise RuntimeError("a page without its CSRF token")
    return found.group(1)


def listed_ids(html):
    """The offers' ids in the order the matches page lists them."""
    ids = []
    for article in html.split("<article")[1:]:
        found = re.search(r'<a href="/offres/([^"]+)"', article)
        if found:
            ids.append(found.group(1))
    return ids


class Browser:
    """One candidate's browser on their own machine: cookies, their own source address."""

    def __init__(self, address):
        self.address = address
        self.cookies = {}

    def request(self, method, path, body=None, content_type=None):
        conn = http.client.HTTPConnection("127.0.0.1", PORTS["gui"], timeout=60,
                                          source_address=(self.address, 0))
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if content_type:
            headers["Content-Type"] = content_type
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                value = rest.split(";", 1)[0]
                if value:
                    self.cookies[name] = value
                else:
                    self.cookies.pop(name, None)
        conn.close()
        return response.status, text

    def page(self, path):
        code, html = self.request("GET", path)
        if code != 200:
            raise RuntimeError(f"GET {path}: {code}")
        return html

    def form(self, path, fields, expect=(200, 204, 303)):
        code, text = self.request("POST", path, urllib.parse.urlencode(fields),
                                  "application/x-www-form-urlencoded")
        if code not in expect:
            raise RuntimeError(f"POST {path}: {code} {text[:200]}")
        return code

    def upload(self, csrf, file_name, data):
        boundary = "simulation" + secrets.token_hex(8)
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n"
                f"--{boundary}\r\nContent-Disposition: form-data; name=\"cv\"; filename=\"{file_name}\"\r\n"
                f"Content-Type: text/plain\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
        code, text = self.request("POST", "/profil/cv", body, f"multipart/form-data; boundary={boundary}")
        if code not in (200, 303):
            raise RuntimeError(f"CV upload: {code} {text[:300]}")


def decide(rng, grade, rank, position_bias):
    """What a candidate does about an offer of this relevance shown at this rank."""
    b = BEHAVIOUR[grade]
    acts = {"opened": False, "seconds": 0, "saved": False, "applied": False, "interview": False, "hired": False}
    if position_bias > 0 and rng.random() >= rank ** -position_bias:
        return acts  # not even looked at
    engagement = rng.random()
    if engagement >= b["open"]:
        return acts
    acts["opened"] = True
    low, high = b["seconds"]
    if grade == 0 and rng.random() < 0.2:
        low, high = 10, 40
    acts["seconds"] = rng.randint(low, high)
    acts["applied"] = engagement < b["apply"]
    acts["interview"] = engagement < b["interview"]
    acts["hired"] = engagement < b["hired"]
    acts["saved"] = rng.random() < b["save"] / b["open"]
    return acts


def export_grade(acts):
    if acts["hired"]:
        return 4
    if acts["interview"]:
        return 3
    if acts["applied"]:
        return 2
    if acts["saved"]:
        return 1
    return 0


def play(number, cv, cv_bytes, relevance, seed, position_bias):
    """One candidate: sign-up, CV, matches page, acts. Returns what was shown and done."""
    rng = random.Random(f"{seed}:{cv}")
    browser = Browser(f"127.42.{1 + number // 200}.{1 + number % 200}")
    email = f"simule.{Path(cv).stem}@exemple.fr"
    html = browser.page("/inscription")
    browser.form("/inscription", {"csrf": csrf_of(html), "email": email, "password": PASSWORD,
                                  "confirm": PASSWORD}, expect=(303,))
    if not any(name.endswith("jm_session") for name in browser.cookies):
        raise RuntimeError(f"{email}: signed up but not signed in")
    browser.upload(csrf_of(browser.page("/profil")), cv, cv_bytes)
    shown = listed_ids(browser.page("/offres"))
    played = []
    for rank, offer in enumerate(shown, start=1):
        acts = decide(rng, relevance.get(offer, 0), rank, position_bias)
        played.append(acts)
        if not acts["opened"]:
            continue
        page = f"/offres/{offer}"
        csrf = csrf_of(browser.page(page))
        browser.form(f"{page}/vue", {"csrf": csrf})
        browser.form(f"{page}/temps", {"csrf": csrf, "seconds": acts["seconds"]})
        if acts["saved"]:
            browser.form(f"{page}/enregistrer", {"csrf": csrf})
        # The furthest outcome says the others (an interview marks the application).
        for act, action in [("hired", "embauche"), ("interview", "entretien"), ("applied", "postule")]:
            if acts[act]:
                browser.form(f"{page}/{action}", {"csrf": csrf})
                break
    return {"cv": cv, "email": email, "shown": shown, "acts": played}


def choose(set_dir, candidates, offers_wanted, seed, work):
    """The CVs played, their relevance, and the offers file to ingest."""
    qrels = {}
    for line in (set_dir / "qrels.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip():
            cv, offer, grade = line.split("\t")
            qrels.setdefault(cv, {})[offer] = int(grade)
    cvs = sorted(p.name for p in (set_dir / "cvs").glob("*.txt") if p.name in qrels)
    rng = random.Random(seed)
    chosen = sorted(rng.sample(cvs, candidates)) if 0 < candidates < len(cvs) else cvs
    with gzip.open(set_dir / "offers.json.gz", "rt", encoding="utf-8") as f:
        offers = json.load(f)["resultats"]
    if 0 < offers_wanted < len(offers):
        relevant = {o for cv in chosen for o in qrels[cv]}
        keep = [o for o in offers if o["id"] in relevant]
        others = [o for o in offers if o["id"] not in relevant]
        keep += rng.sample(others, max(0, min(len(others), offers_wanted - len(keep))))
        offers = keep
    path = work / "offers.json.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        json.dump({"resultats": offers}, f)
    return chosen, qrels, path, len(offers)


def lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def parse_report(text):
    """{variant: {candidates, shown, views, saves, applications, interviews}} from the report."""
    report, current = {}, None
    for line in text.splitlines():
        head = re.match(r"^(\S+): (\d+) candidates, (\d+) matches shown$", line)
        if head:
            current = head.group(1)
            report[current] = {"candidates": int(head.group(2)), "shown": int(head.group(3))}
            continue
        row = re.match(r"^\s+(views|saves|applications|interviews)\s+(\d+)\s", line)
        if row and current:
            report[current][row.group(1)] = int(row.group(2))
    return report


def check_report(report, played, variant_of, variants):
    problems = []
    names = [v.split(":")[0] for v in variants.split(";")]
    if sorted(report) != sorted(names):
        problems.append(f"the report's variants {sorted(report)}, expected {sorted(names)}")
    for name in names:
        mine = [p for p in played if variant_of.get(p["email"]) == name]
        acts = [a for p in mine for a in p["acts"]]
        expected = {"candidates": len(mine), "shown": sum(len(p["shown"]) for p in mine),
                    "views": sum(a["opened"] for a in acts), "saves": sum(a["saved"] for a in acts),
                    "applications": sum(a["applied"] or a["interview"] or a["hired"] for a in acts),
                    "interviews": sum(a["interview"] or a["hired"] for a in acts)}
        if expected["candidates"] == 0:
            problems.append(f"no candidate in variant {name}")
        got = report.get(name, {})
        for key, value in expected.items():
            if got.get(key) != value:
                problems.append(f"report, {name}: {key} {got.get(key)}, played {value}")
    return problems


def check_export(export, played, variant_of):
    """The export against what was played; returns (problems, {qid: candidate played})."""
    problems = []
    manifest = json.loads((export / "manifest.json").read_text())
    graded, pairs = lines(export / "graded.jsonl"), lines(export / "pairs.jsonl")
    triplets, lists = lines(export / "triplets.jsonl"), lines(export / "lists.jsonl")
    for name, rows in [("graded", graded), ("pairs", pairs), ("triplets", triplets), ("lists", lists)]:
        if not rows:
            problems.append(f"{name}.jsonl is empty")
    # Who should be there: the candidates with a positive act; their hard negatives.
    exported = [p for p in played if any(export_grade(a) for a in p["acts"])]
    positives = sum(1 for p in exported for a in p["acts"] if export_grade(a))
    negatives = {p["email"]: sum(1 for rank, a in enumerate(p["acts"], start=1)
                                 if not export_grade(a) and rank <= HARD_NEGATIVE_RANK
                                 and (not a["opened"] or a["seconds"] < BRIEF_VIEW_SECONDS))
                 for p in exported}
    positives_of = {p["email"]: sum(1 for a in p["acts"] if export_grade(a)) for p in exported}
    expected = {"candidates": len(exported), "positives": positives, "hard_negatives": sum(negatives.values()),
                "triplets": sum(positives_of[e] * min(NEGATIVES_PER_POSITIVE, n) for e, n in negatives.items())}
    for key, value in expected.items():
        if manifest.get(key) != value:
            problems.append(f"manifest: {key} {manifest.get(key)}, played {value}")
    if len(graded) != positives or len(pairs) != positives + expected["hard_negatives"]:
        problems.append(f"graded.jsonl {len(graded)} lines, pairs.jsonl {len(pairs)}: played {positives} "
                        f"positives, {expected['hard_negatives']} hard negatives")
    # Each list is a candidate played: found by its offers in the order shown (two CVs
    # alike may have been shown the same list: then the one whose grades it has).
    by_shown = {}
    for p in exported:
        by_shown.setdefault(tuple(p["shown"]), []).append(p)
    qids = {}
    if len(lists) != len(exported):
        problems.append(f"lists.jsonl: {len(lists)} lists, {len(exported)} candidates acted")
    for entry in lists:
        shown = entry["shown"]
        alike = by_shown.get(tuple(s["offer"] for s in shown), [])
        grades = [s["grade"] for s in shown]
        p = next((c for c in alike if [export_grade(a) for a in c["acts"]] == grades), alike[0] if alike else None)
        if p is None:
            problems.append(f"list {entry['qid']}: not a list a candidate was shown in that order")
            continue
        alike.remove(p)
        qids[entry["qid"]] = p
        if len(shown) != 20:
            problems.append(f"list {entry['qid']}: {len(shown)} offers shown, expected 20")
        ranks = [s["rank"] for s in shown]
        if ranks != list(range(1, len(shown) + 1)):
            problems.append(f"list {entry['qid']}: ranks {ranks}")
        for s in shown:
            signals = s.get("signals") or {}
            if not all(isinstance(signals.get(n), (int, float)) for n in SIGNALS):
                problems.append(f"list {entry['qid']}: {s['offer']} without its eight signals: {signals}")
                break
        played_grades = [export_grade(a) for a in p["acts"]]
        if grades != played_grades:
            problems.append(f"list {entry['qid']}: grades {grades}, played {played_grades}")
    # graded.jsonl: each positive with its candidate's variant and its rank.
    for g in graded:
        p = qids.get(g["candidate"])
        if p is None:
            problems.append(f"graded.jsonl: candidate {g['candidate']} has no list")
            continue
        rank = p["shown"].index(g["offer"]) + 1 if g["offer"] in p["shown"] else None
        if rank is None or g["rank"] != rank or g["grade"] != export_grade(p["acts"][rank - 1]):
            problems.append(f"graded.jsonl: {g['offer']} rank {g['rank']} grade {g['grade']}, played {rank}")
        if g["variant"] != variant_of.get(p["email"]):
            problems.append(f"graded.jsonl: {g['offer']} in variant {g['variant']}, "
                            f"the candidate's is {variant_of.get(p['email'])}")
    return problems, qids, manifest


def shown_quality(set_dir, played, qrels, variant_of, names):
    """NDCG@20 of the lists shown, per variant, by the set's relevance (score.py's own
    function beside the sets, the reference `make eval` ports), or None without it."""
    sys.path.insert(0, str(set_dir.resolve().parent))
    try:
        from score import score  # beside the sets, not a package
    except ImportError:
        return None
    out = {}
    for name in names:
        mine = [p for p in played if variant_of.get(p["email"]) == name]
        if mine:
            run = {p["cv"]: p["shown"] for p in mine}
            out[name] = score(run, {p["cv"]: qrels[p["cv"]] for p in mine})
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", type=Path, default=SHARED / "eval-dev" / "fr", help="the development set")
    parser.add_argument("--candidates", type=int, default=0,
                        help="candidates played, one CV each, drawn at random (0: every CV of the set)")
    parser.add_argument("--offers", type=int, default=0,
                        help="offers ingested: the chosen CVs' relevant ones and a random sample (0: all)")
    parser.add_argument("--seed", type=int, default=24)
    parser.add_argument("--holdout", type=float, default=0.5, help="share of the candidates held back")
    parser.add_argument("--variants", default=VARIANTS, help="RANKING_VARIANTS, two or more")
    parser.add_argument("--position-bias", type=float, default=0.0,
                        help="η: an offer at rank r is examined with probability r^-η (0: every offer)")
    parser.add_argument("--reuse-offers", action="store_true",
                        help="keep the offers (and embeddings) of the last run with the same --set, --offers "
                             "and --seed; only the candidates are made afresh")
    parser.add_argument("--concurrency", type=int, default=4, help="candidates played at once")
    args = parser.parse_args()

    for name in ["gui", "matching", "offre-ingestion", "cv-ingestion", "jobmatch-feedback"]:
        if not (BIN / name).is_file():
            fail(f"{BIN / name} is missing: `cargo build --release --locked --bins` (make simulate-feedback does)")
    work = Path(tempfile.mkdtemp(prefix="jobmatch-simulation-"))
    started = time.monotonic()
    chosen, qrels, offers_file, offers = choose(args.set, args.candidates, args.offers, args.seed, work)
    log(f"{len(chosen)} candidates of {args.set} (seed {args.seed}), {offers} offers; variants {args.variants}; "
        f"work folder {work}")

    reuse = args.reuse_offers and psql(f"SELECT count(*) FROM pg_database WHERE datname = '{DB}'") == "1"
    if reuse:
        # The candidates of the last run go; its offers and their embeddings stay.
        psql("DROP SCHEMA IF EXISTS gui CASCADE", db=DB)
    else:
        psql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        psql(f"CREATE DATABASE {DB}")
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", DB, "-w", "-X", "-q", "-v", "ON_ERROR_STOP=1",
                    "-f", str(REPO / "migrations/bootstrap.sql")], check=True, capture_output=True,
                   env={**os.environ, "PGOPTIONS": "-c client_min_messages=warning"})
    suite = Suite(work, args.variants)
    timings = {}
    try:
        for name in ["offre-ingestion", "matching", "cv-ingestion", "gui", "gui-worker"]:
            suite.start(name)
        timings["start"] = time.monotonic() - started

        t = time.monotonic()
        with open(work / "ingest.log", "w") as err:
            ingested = subprocess.run([str(BIN / "offre-ingestion"), "ingest", "--file", str(offers_file)],
                                      env=suite.env("offre-ingestion"), stdout=subprocess.PIPE, stderr=err, text=True)
        if ingested.returncode != 0:
            fail(f"offre-ingestion ingest failed; see {work / 'ingest.log'}")
        counts = json.loads(ingested.stdout).get("counts")
        stored = int(psql("SELECT count(*) FROM offers.offers", db=DB))
        if stored != offers:
            fail(f"{stored} offers in {DB}, {offers} in the file: --reuse-offers needs the last run's "
                 "--set, --offers and --seed")
        timings["ingest"] = time.monotonic() - t
        log(f"ingested and embedded in {timings['ingest']:.0f} s ({offers / timings['ingest']:.0f} offers/s): {counts}")
        time.sleep(3)  # matching's index follows the commit (MATCH_INDEX_POLL_SECS 1 at most)

        t = time.monotonic()
        cv_texts = {cv: (args.set / "cvs" / cv).read_bytes() for cv in chosen}
        played, errors = [], []
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.concurrency)) as pool:
            futures = {pool.submit(play, n, cv, cv_texts[cv], qrels[cv], args.seed, args.position_bias): cv
                       for n, cv in enumerate(chosen)}
            for future in concurrent.futures.as_completed(futures):
                try:
                    played.append(future.result())
                except (OSError, RuntimeError) as error:
                    errors.append(f"{futures[future]}: {error}")
        suite.alive()
        if errors:
            fail(f"{len(errors)} candidates could not be played: {errors[:3]}")
        played.sort(key=lambda p: p["cv"])
        timings["play"] = time.monotonic() - t
        acts = [a for p in played for a in p["acts"]]
        short = [p["cv"] for p in played if len(p["shown"]) != 20]
        log(f"{len(played)} candidates played in {timings['play']:.0f} s: {sum(len(p['shown']) for p in played)} "
            f"offers shown, {sum(a['opened'] for a in acts)} opened, {sum(a['saved'] for a in acts)} saved, "
            f"{sum(a['applied'] or a['interview'] or a['hired'] for a in acts)} applications, "
            f"{sum(a['interview'] or a['hired'] for a in acts)} interviews, {sum(a['hired'] for a in acts)} hired")
        if short:
            fail(f"{len(short)} candidates were shown fewer than 20 offers: {short[:5]}")

        variant_of = dict(line.split("|") for line in psql(
            "SELECT u.email, min(s.variant) FROM gui.users u JOIN gui.match_impressions s ON s.user_id = u.id "
            "GROUP BY u.email", db=DB).splitlines())
        problems = []

        report = suite.run("gui", ["report-variants"])
        if report.returncode != 0:
            fail(f"gui report-variants: {report.stderr}")
        print("\n$ gui report-variants\n" + report.stdout)
        problems += check_report(parse_report(report.stdout), played, variant_of, args.variants)

        export = work / "export"
        exported = suite.run("gui", ["export-training-data", str(export)])
        if exported.returncode != 0:
            fail(f"gui export-training-data: {exported.stderr}")
        print(f"$ gui export-training-data {export}\n{exported.stdout}")
        export_problems, qids, manifest = check_export(export, played, variant_of)
        problems += export_problems
        if problems:
            fail(f"{len(problems)} checks failed:\n  " + "\n  ".join(problems[:20]))
        log("the report and the export agree with what was played (counts per variant; every list's 20 offers in "
            "the order shown, with their signals and the grades played)")

        names = [v.split(":")[0] for v in args.variants.split(";")]
        quality = shown_quality(args.set, played, qrels, variant_of, names)
        if quality:
            print("\n| variant | candidates | NDCG@20 of the lists shown, by the set's relevance | Recall_any@20 |")
            print("|---|---|---|---|")
            for name, s in quality.items():
                print(f"| {name} | {s['n_cvs']} | {s['ndcg@20']:.3f} | {s['recall_any@20']:.3f} |")
            print()

        # The set's relevance of each exported list's offers, by qid: also scored.
        set_qrels = work / "export-set-qrels.tsv"
        with open(set_qrels, "w") as out:
            for qid, p in sorted(qids.items()):
                for offer in p["shown"]:
                    if qrels[p["cv"]].get(offer):
                        out.write(f"{qid}\t{offer}\t{qrels[p['cv']][offer]}\n")
        t = time.monotonic()
        command = [str(BIN / "jobmatch-feedback"), str(export), "--holdout", str(args.holdout),
                   "--qrels", str(set_qrels), "--model", str(work / "reranker-from-feedback.json")]
        print("$ " + " ".join(command))
        trained = subprocess.run(command, capture_output=True, text=True)
        timings["train"] = time.monotonic() - t
        print(trained.stdout + trained.stderr)
        timings["total"] = time.monotonic() - started
        log("time: " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()))
        if trained.returncode != 0:
            fail("the re-ranker trained on the simulated feedback does not beat the order shown "
                 "on the held-back candidates" if trained.returncode == 1 else "jobmatch-feedback failed")
        log(f"passed: {manifest['candidates']} candidates exported, {manifest['positives']} positives, "
            f"{manifest['hard_negatives']} hard negatives, {manifest['triplets']} triplets; the re-ranker beats the "
            f"order shown on the held-back candidates")
    finally:
        suite.stop()


if __name__ == "__main__":
    main()
