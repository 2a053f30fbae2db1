# The two commands: `make run` (set up, start the app on the demo data) and
# `make test` (set up, lint, run every test including the browser tests).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501
# Without sign-in (no [auth] section in .streamlit/secrets.toml) Handoff serves its one local
# workspace, as its owner, to anyone who reaches it: then it listens on this machine only.
ADDRESS ?= $(shell grep -qs '^\[auth' .streamlit/secrets.toml && echo 0.0.0.0 || echo localhost)

.PHONY: run test lint bench demo-data clean

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

run: $(VENV)/.runtime
	$(PY) -m streamlit run Home.py --server.port $(PORT) --server.address $(ADDRESS)

test: $(VENV)/.dev
	bash scripts/ensure-chromium.sh
	$(PY) -m ruff check .
	$(PY) -m pytest

lint: $(VENV)/.dev
	$(PY) -m ruff check .

demo-data: $(VENV)/.runtime
	$(PY) data/generate_demo.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
