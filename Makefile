# Two commands set everything up: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8765
# local (embedded), or graph / google: the real SDK against that provider's built-in emulator.
PROVIDER ?= local
# Debian packages the test suite needs (installed only when missing).
DEBIAN_PACKAGES := tzdata chromium fonts-dejavu-core

.PHONY: demo test lint typecheck unit system-deps bench screenshots clean

NODE_STAMP := node_modules/.installed

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

demo: $(STAMP)
	$(BIN)/goedgesprek demo --port $(PORT) --provider $(PROVIDER)

system-deps:
	@missing=""; for p in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check cadence connectors emulators addin templates tests bench scripts
	$(BIN)/ruff format --check cadence connectors emulators addin templates tests bench scripts

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP) $(NODE_STAMP) system-deps lint typecheck
	$(BIN)/pytest

screenshots: $(STAMP) $(NODE_STAMP) system-deps
	scripts/screenshots.sh

bench: $(STAMP)
	@for b in bench/[a-z]*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis test-output
