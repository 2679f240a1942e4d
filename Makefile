# Two commands set everything up: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8765
# local (embedded), or graph / google: the real SDK against that provider's built-in emulator.
PROVIDER ?= local
# Debian packages the test suite needs (installed only when missing, without recommends).
# fonts-noto-color-emoji: screenshots show the emoji people type. postgresql: the server store's
# suites run on PostgreSQL as well as SQLite (a throw-away cluster under test-output/).
# redis-server: the background work's distributed queue (each test run starts its own on loopback).
DEBIAN_PACKAGES := tzdata chromium fonts-dejavu-core fonts-noto-color-emoji postgresql redis-server
PG_TEST_DIR := test-output/pg
# Installs come from the committed lock files; `make lock` refreshes them with this uv.
UV_VERSION := 0.13.9
LOCK_TEST := requirements/test.lock
# The benchmark's peers and plots (the `bench` extra), pinned to the test set where they share.
LOCK_BENCH := requirements/bench.lock
BENCH_STAMP := $(VENV)/.bench-installed
# `make bench` writes here; `make bench BENCH_OUT=bench/results` refreshes the committed figures
# and docs/benchmarks.md with them.
BENCH_OUT ?= test-output/bench
BENCH_DOC ?= $(if $(filter bench/results,$(BENCH_OUT)),docs/benchmarks.md,$(BENCH_OUT)/benchmarks.md)
UV_COMPILE = $(BIN)/uv pip compile pyproject.toml requirements/build.in --universal \
	--python-version 3.11 --generate-hashes --upgrade --quiet

.PHONY: demo test lint typecheck unit system-deps bench bench-sweep bench-rollout screenshots clean lock vendor

NODE_STAMP := node_modules/.installed

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

# msal-browser's ES modules (and msal-common's browser entry they import), copied from
# node_modules for the pane to load without a bundler (`addin.pane_vendor` serves them).
PANE_VENDOR := addin/pane/vendor
VENDOR_STAMP := $(PANE_VENDOR)/.copied
$(VENDOR_STAMP): $(NODE_STAMP)
	rm -rf $(PANE_VENDOR)
	for pkg in msal-browser msal-common; do \
	  mkdir -p $(PANE_VENDOR)/$$pkg/dist && \
	  cp node_modules/@azure/$$pkg/package.json node_modules/@azure/$$pkg/LICENSE $(PANE_VENDOR)/$$pkg/ && \
	  (cd node_modules/@azure/$$pkg/dist && find . -name '*.mjs' -print0 | \
	    xargs -0 cp --parents -t $(CURDIR)/$(PANE_VENDOR)/$$pkg/dist) || exit 1; \
	done
	touch $@

vendor: $(VENDOR_STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The locked set first (every file checked against its hash), then the project itself on top.
# The emulators are a distribution of their own, which the demo and the tests add.
$(STAMP): pyproject.toml emulators/pyproject.toml $(LOCK_TEST) | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(LOCK_TEST)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e . -e ./emulators
	$(BIN)/python -m pip check
	touch $@

# Refresh the lock files to the newest releases pyproject.toml allows, then run the whole suite on
# the refreshed set: commit the new locks only when it passes.
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(UV_COMPILE) -o requirements/runtime.lock
	$(UV_COMPILE) --extra graph -o requirements/graph.lock
	$(UV_COMPILE) --extra test -o $(LOCK_TEST)
	$(UV_COMPILE) --extra bench -c $(LOCK_TEST) -o $(LOCK_BENCH)
	rm -f $(STAMP)
	$(MAKE) test

demo: $(STAMP) $(VENDOR_STAMP)
	$(BIN)/goedgesprek demo --port $(PORT) --provider $(PROVIDER)

system-deps:
	@missing=""; for p in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	    --no-install-recommends $$missing; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check cadence connectors emulators addin manifest templates tests bench scripts
	$(BIN)/ruff format --check cadence connectors emulators addin manifest templates tests bench scripts

typecheck: $(STAMP)
	$(BIN)/mypy

# The whole suite (store tests on SQLite and PostgreSQL), then the app and store suites again with
# the registry on PostgreSQL, less the tests marked store_neutral (provider faults, host pages). A PostgreSQL that does not start fails the target; it never skips.
test: $(STAMP) $(NODE_STAMP) $(VENDOR_STAMP) system-deps lint typecheck
	@url=$$(scripts/pg-test-server.sh start $(PG_TEST_DIR)) || \
	  { echo "PostgreSQL did not start (see $(PG_TEST_DIR)/server.log)" >&2; exit 1; }; \
	trap 'scripts/pg-test-server.sh stop $(PG_TEST_DIR)' EXIT; \
	GOEDGESPREK_TEST_POSTGRES_URL=$$url $(BIN)/pytest && \
	echo "== tests/app and tests/store with the server store on PostgreSQL" && \
	GOEDGESPREK_TEST_DATABASE_URL=$$url $(BIN)/pytest tests/app tests/store -m "not store_neutral"

screenshots: $(STAMP) $(NODE_STAMP) $(VENDOR_STAMP) system-deps
	scripts/screenshots.sh

# The bench set on top of the test set, in the same venv.
$(BENCH_STAMP): $(STAMP) $(LOCK_BENCH)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(LOCK_BENCH)
	$(BIN)/python -m pip check
	touch $@

# One interleaved run (a few minutes on 2 cores), then the report from its JSON. Not part of test.
bench: $(BENCH_STAMP)
	$(BIN)/python -m bench.run --out $(BENCH_OUT)
	$(BIN)/python -m bench.report --results $(BENCH_OUT) --doc $(BENCH_DOC)

# The background sweep at scale (about ten minutes: 100,000 series in the embedded store, 1,000
# against the Graph emulator); its JSON beside the report's.
bench-sweep: $(BENCH_STAMP)
	BENCH_OUT=$(BENCH_OUT) $(BIN)/python -m bench.sweep

bench-rollout: $(BENCH_STAMP)
	BENCH_OUT=$(BENCH_OUT) $(BIN)/python -m bench.rollout

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis test-output
