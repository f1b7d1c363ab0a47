# jobmatch: two commands for a newcomer, `make run` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

# Machine-wide cache made by `make setup`: model files, Swagger UI, ONNX Runtime and the
# cargo target directory, shared by every clone on the machine (CI's fresh clones reuse it).
export JOBMATCH_CACHE ?= /var/cache/jobmatch
export CARGO_TARGET_DIR ?= $(JOBMATCH_CACHE)/target
ENV := . $(JOBMATCH_CACHE)/env

# cargo-nextest runs each test in its own process (and in parallel); cargo test otherwise.
TEST_RUNNER := $(shell command -v cargo-nextest >/dev/null 2>&1 && echo "nextest run --no-fail-fast" || echo "test --no-fail-fast")

.PHONY: setup run test sqlx-prepare check fmt eval simulate-feedback bench-embed bench-ingest bench-match bench-cv bench-gui bench-worker bench-load eval-cv compose-test

## setup: install and start what the suite needs (idempotent; run as root)
setup:
	@bash scripts/setup.sh

## run: set up, build, start every service on localhost; Ctrl-C stops them
run: setup
	@bash scripts/run.sh

## test: set up (with what only tests use: LibreOffice, qpdf, sqlx-cli), then formatting, the
## queries against the migrations (scripts/sqlx.sh), lints and every test
test:
	@bash scripts/setup.sh --for-tests
	cargo fmt --all -- --check
	$(ENV) && bash scripts/sqlx.sh check
	$(ENV) && cargo clippy --workspace --all-targets --locked -- -D warnings
	$(ENV) && cargo $(TEST_RUNNER) --workspace --locked

## compose-test: docker-compose.yml end to end: images from the host's release binaries,
## `up --wait`, a candidate signs up, uploads a CV and reads matches through nginx (served
## by both GUI replicas), Prometheus scrapes every target, `down -v` (about a minute once
## the engine and its base images exist; scripts/docker-engine.sh makes them)
compose-test:
	@bash scripts/setup.sh --for-tests
	$(ENV) && cargo build --release --locked --bins
	$(ENV) && bash scripts/compose-test.sh

## eval: ranking quality through the services, beside score.py's BM25 baseline.
## EVAL_SETS: set folders (offers.json.gz, cvs/, qrels.tsv); ARGS: e.g. --runs DIR, --tune
EVAL_SETS ?= ../shared/eval-dev/fr ../shared/eval-dev/en
eval: setup
	$(ENV) && cargo build --release --locked -p offre-ingestion -p matching -p cv-ingestion -p eval --bins
	$(ENV) && "$(CARGO_TARGET_DIR)/release/jobmatch-eval" $(EVAL_SETS) $(ARGS)

## simulate-feedback: the learning loop end to end: candidates played through the real GUI
## from the French development set's relevance; the variants' report, the training export
## and a re-ranker trained on it checked (services/gui/README.md). ARGS: e.g. --candidates 40
simulate-feedback: setup
	$(ENV) && cargo build --release --locked -p gui -p matching -p offre-ingestion -p cv-ingestion -p eval --bins
	$(ENV) && python3 scripts/simulate_feedback.py $(ARGS)

## bench-embed: embedding throughput and RSS, with Python sentence-transformers as reference
bench-embed: setup
	@bash scripts/bench/reference-venv.sh
	$(ENV) && cargo bench --locked -p shared --bench embed

## bench-ingest: 100,000 demo offers: first load, the same again (no writes), with embeddings
bench-ingest: setup
	@bash scripts/bench/ingest.sh

## bench-match: POST /match latency, throughput and recall on 20,000 embedded offers
bench-match: setup
	@bash scripts/bench/match.sh

## bench-load: candidates under load while matching, then offre-ingestion, is killed and PostgreSQL restarted (run it alone)
bench-load: setup
	$(ENV) && cargo build --release --locked --bins
	$(ENV) && python3 scripts/bench/load.py

## sqlx-prepare: after changing a query or a migration, rewrite .sqlx/ (the statements'
## types, checked against the migrations; `make test` fails while it is out of date)
sqlx-prepare:
	@bash scripts/setup.sh --for-tests
	$(ENV) && bash scripts/sqlx.sh prepare

## check: fast compile check while working
check:
	cargo check --workspace --all-targets

fmt:
	cargo fmt --all

## bench-cv: CVs/s for a 2-page PDF and DOCX: parse only, parse in the child, whole POST /cv
bench-cv:
	@bash scripts/setup.sh --for-tests
	$(ENV) && cargo bench --locked -p cv-ingestion --bench cv

## eval-cv: how well CVs are read: jobs, skills, diplomas, languages on generated CVs of known truth, per layout, font and format
eval-cv:
	@bash scripts/setup.sh --for-tests
	$(ENV) && cargo bench --locked -p cv-ingestion --bench accuracy

## bench-gui: server time of the matches page, cached and cold, with the downstream calls' shares
bench-gui:
	@bash scripts/setup.sh --for-tests
	$(ENV) && cargo build --release --locked -p cv-ingestion
	$(ENV) && cargo bench --locked -p gui --bench gui

## bench-worker: events per second end to end, and the cached page while the worker re-matches 1,000 candidates
bench-worker:
	@bash scripts/setup.sh --for-tests
	$(ENV) && cargo build --release --locked -p cv-ingestion
	$(ENV) && cargo bench --locked -p gui --bench worker
