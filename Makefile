# Local Tenders: `make run` and `make test` do all set-up on a fresh clone.
# Needs only Python 3.11+, Node.js with npm, and make.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Links in emails use the address actually served, unless SITE_URL is set.
# A wildcard HOST (0.0.0.0, ::) serves every address; links then use 127.0.0.1.
LINK_HOST = $(if $(filter 0.0.0.0 :: [::],$(HOST)),127.0.0.1,$(HOST))
RUN_SITE_URL = $(if $(SITE_URL),$(SITE_URL),http://$(LINK_HOST):$(PORT))
# ...and the served host is allowed (a LAN address given as HOST), unless ALLOWED_HOSTS is set.
RUN_ALLOWED_HOSTS = $(if $(ALLOWED_HOSTS),$(ALLOWED_HOSTS),127.0.0.1,localhost,[::1],$(HOST))

.PHONY: run test lint setup assets migrate seed worker beat lock clean help screenshots

help:
	@echo "make run    set up, load demo data and serve http://$(HOST):$(PORT)/"
	@echo "make test   set up, then lint and run the whole test suite"

# --- set-up (each step reruns only when its inputs change) ------------------

$(VENV)/.installed: requirements-dev.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Local Tenders needs Python 3.11 or newer; $(PYTHON) is " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.lock
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

build/static/.built: node_modules/.installed assets/build.mjs $(wildcard assets/scss/*.scss assets/js/* assets/images/*)
	npm run --silent build

setup: $(VENV)/.installed build/static/.built

assets: build/static/.built

migrate: setup
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py load_cpv
	SITE_URL='$(RUN_SITE_URL)' $(PY) manage.py seed_demo --opportunities

# --- the two commands -------------------------------------------------------

run: seed
	@echo "Serving Local Tenders at http://$(HOST):$(PORT)/ (Ctrl-C stops it)"
	SITE_URL='$(RUN_SITE_URL)' ALLOWED_HOSTS='$(RUN_ALLOWED_HOSTS)' $(PY) manage.py runserver $(HOST):$(PORT)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py check --fail-level WARNING

# The suite in TEST_WORKERS processes (pytest-xdist), each with its own test
# database; TEST_WORKERS=0 runs it in this one process.
TEST_WORKERS ?= 2

test: lint
	$(BIN)/pytest $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadgroup)

# The browser tests' screenshots into docs/screenshots/ (the README's and the
# issues' pictures); a plain test run leaves them in build/screenshots/.
# They need Chromium and PostgreSQL (DATABASE_URL): CI=true fails rather than skips.
screenshots: setup
	CI=true SCREENSHOTS=docs $(BIN)/pytest -n 0 tests/test_browser_demo_walk.py \
		tests/test_browser_evaluation.py tests/test_browser_spending.py

# --- production-like processes (need REDIS_URL and DATABASE_URL) --------------

worker: setup
	$(BIN)/celery -A portal worker --loglevel=INFO --concurrency=2

beat: setup
	$(BIN)/celery -A portal beat --loglevel=INFO --schedule=var/celerybeat-schedule

# --- maintenance ----------------------------------------------------------------

lock:
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --generate-hashes --python-version 3.11 -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements-dev.lock

clean:
	rm -rf $(VENV) node_modules build staticfiles .pytest_cache .ruff_cache
