# musicrec — see README.md. Needs only Python 3.11 and make; everything else is installed here.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
# Exported so that implicit (OpenMP) and numpy's OpenBLAS do not fight over the two cores.
export OPENBLAS_NUM_THREADS ?= 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help run test services manage stop lint format bench-import bench-history evaluate bench-recommend bench-serve bench-playlists bench-dashboard browser clean

help:
	@echo "make run           start musicrec on http://127.0.0.1:8000 (Ctrl-C stops everything;"
	@echo "                   WEB_CONCURRENCY=N web processes, default 2)"
	@echo "make test          run the whole test suite against its own PostgreSQL and Redis"
	@echo "make services      start only the embedded PostgreSQL and Redis (for manage.py)"
	@echo "make manage ARGS=… manage.py against the dev services (e.g. ARGS=createsuperuser)"
	@echo "make stop          stop a running 'make run' and the embedded services"
	@echo "make lint          ruff (lint + format check), import-linter (layers), mypy (domain)"
	@echo "make format        ruff format + ruff check --fix"
	@echo "make bench-import  import benchmark (CATALOG=path/to/spotify_tracks.csv)"
	@echo "make bench-history history add latency (16 clients) + listen import throughput"
	@echo "                   (LISTENS=path/to/datasets/listens)"
	@echo "make evaluate      offline evaluation of the recommender on a fresh database with the"
	@echo "                   catalog (LISTENS=mpd-format folder CATALOG=tracks.csv OUT=var/evaluation)"
	@echo "make bench-recommend the recommender at catalog scale: training, latency, HNSW recall,"
	@echo "                   fold-in, memory (CATALOG=tracks.csv LISTENS=mpd-format folder)"
	@echo "make bench-serve   GET /api/v1/recommendations/ over HTTP, warm and cold, 1/8/32 clients,"
	@echo "                   uvicorn and daphne (CATALOG=tracks.csv LISTENS=mpd-format folder;"
	@echo "                   SERVE_ARGS=--experiment: again with a running experiment, its overhead)"
	@echo "make bench-playlists generated playlists at catalog scale: time per kind, the sonic"
	@echo "                   path's mean step against random (CATALOG=… LISTENS=…; PLAYLISTS_ARGS=--reuse)"
	@echo "make bench-dashboard the staff dashboard's figures at 10k listeners, 1M interactions"
	@echo "                   (DASHBOARD_ARGS=--reuse keeps the last run's data)"

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# Reinstall only when a requirements file changed.
$(VENV)/.installed-run: requirements.txt | $(VENV)/bin/activate
	$(PIP) install -q -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(VENV)/bin/activate
	$(PIP) install -q -r requirements-dev.txt
	@touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(PY) -m musicrec.stack run

services: $(VENV)/.installed-run
	$(PY) -m musicrec.stack services

# manage.py against the dev services, in development mode: make manage ARGS="createsuperuser"
manage: $(VENV)/.installed-run
	$(PY) -m musicrec.stack manage $(ARGS)

stop:
	@if [ -x $(PY) ]; then $(PY) -m musicrec.stack stop; fi

# Browser tests drive Debian's Chromium; install it when missing and we may (root + apt).
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's chromium for the browser tests …"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "!!! could not install chromium: the browser tests will be SKIPPED"; \
	else \
		echo "!!! /usr/bin/chromium is missing and this user cannot apt-get install it:"; \
		echo "!!! the browser tests will be SKIPPED (install Debian's chromium to run them)"; \
	fi

test: $(VENV)/.installed-dev browser
	$(PY) -m musicrec.stack test $(PYTEST_ARGS)

# mypy's Django plugin imports the settings: give it the values settings need (no connection is
# made). Layers and rules checked by lint-imports are in pyproject.toml.
lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	DEBUG=1 DATABASE_URL=postgres://lint@127.0.0.1/lint $(VENV)/bin/mypy

format: $(VENV)/.installed-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

CATALOG ?= ../shared/datasets/catalog/spotify_tracks.csv
bench-import: $(VENV)/.installed-dev
	$(PY) -m musicrec.stack bench -- $(PY) scripts/bench_import.py $(CATALOG)

# Latency of POST /api/v1/history/ under 16 concurrent clients, then the throughput of importing a
# 100k-listen Last.fm file built from the Last.fm 1K sample in $(LISTENS). Figures, not a test.
LISTENS ?= ../shared/datasets/listens
bench-history: $(VENV)/.installed-dev
	$(PY) -m musicrec.stack bench -- $(PY) scripts/bench_history.py
	$(PY) -m musicrec.stack bench -- $(PY) scripts/bench_history.py --workers 2
	$(PY) -m musicrec.stack bench -- $(PY) scripts/bench_listen_import.py --listens-dir $(LISTENS)

# The offline evaluation (docs/evaluation.md): a fresh migrated database of its own (var/bench),
# the catalog imported, then the listens folder evaluated against it. Nothing is copied.
EVAL_LISTENS ?= ../shared/datasets/listens/mpd_subset
OUT ?= var/evaluation
evaluate: $(VENV)/.installed-run
	$(PY) -m musicrec.stack bench -- sh -c '$(PY) manage.py import_catalog --no-progress $(CATALOG) \
		&& $(PY) manage.py evaluate_recommender --listens $(if $(filter command line,$(origin LISTENS)),$(LISTENS),$(EVAL_LISTENS)) --out $(OUT)'

# The recommender on the full catalog with the mpd listens as site listeners: training, one
# listener's 5 and 100 recommendations (engine alone, whole service), HNSW against an exact
# scan, fold-in, a web process's memory. Figures, not a test (docs/benchmarks.md).
bench-recommend: $(VENV)/.installed-dev
	$(PY) -m musicrec.stack bench -- $(PY) scripts/bench_recommend.py $(CATALOG) \
		$(if $(filter command line,$(origin LISTENS)),$(LISTENS),$(EVAL_LISTENS))

# GET /api/v1/recommendations/ served as `make run` serves it (production settings, uvicorn with
# make run's command, WEB_CONCURRENCY processes and MALLOC_ARENA_MAX, then daphne), driven over
# loopback by 1, 8 and 32 clients: warm and cold against a trivial endpoint, the cache's hit
# rate, each serving process's memory after every phase, a per-process cache probe. Its own kept instance (var/serve/): a second run
# reuses the loaded catalog, listeners and model (SERVE_ARGS=--reuse). Figures, not a test.
SERVE_ARGS ?=
bench-serve: $(VENV)/.installed-dev
	MUSICREC_BENCH_INSTANCE=serve $(PY) -m musicrec.stack bench $(if $(filter --reuse,$(SERVE_ARGS)),--keep) \
		-- $(PY) scripts/bench_serve.py $(SERVE_ARGS) $(CATALOG) \
		$(if $(filter command line,$(origin LISTENS)),$(LISTENS),$(EVAL_LISTENS))

# Generated playlists at catalog scale (scripts/bench_playlists.py): each kind's time at length
# 100, the sonic path's mean step against a random order and a random path. Its own kept instance
# (var/playlists/): a second run reuses the loaded catalog, listeners and model
# (PLAYLISTS_ARGS=--reuse). Figures, not a test.
PLAYLISTS_ARGS ?=
bench-playlists: $(VENV)/.installed-dev
	MUSICREC_BENCH_INSTANCE=playlists $(PY) -m musicrec.stack bench $(if $(filter --reuse,$(PLAYLISTS_ARGS)),--keep) \
		-- $(PY) scripts/bench_playlists.py $(PLAYLISTS_ARGS) $(CATALOG) \
		$(if $(filter command line,$(origin LISTENS)),$(LISTENS),$(EVAL_LISTENS))

# The staff dashboard's figures at 10k listeners and 1M interactions (scripts/bench_dashboard.py):
# the whole computation and each selector, and the latency counts' cost per request. Its own kept
# instance (var/dashboard/): DASHBOARD_ARGS=--reuse keeps the data of the last run. Figures, not
# a test (docs/insights.md).
DASHBOARD_ARGS ?=
bench-dashboard: $(VENV)/.installed-dev
	MUSICREC_BENCH_INSTANCE=dashboard $(PY) -m musicrec.stack bench $(if $(filter --reuse,$(DASHBOARD_ARGS)),--keep) \
		-- $(PY) scripts/bench_dashboard.py $(DASHBOARD_ARGS)

clean:
	rm -rf $(VENV) var
