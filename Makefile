# The two commands: `make run` (set up, start the app on the demo data) and
# `make test` (set up, lint, run every test including the browser tests).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Inside .venv: `make clean`, .gitignore and ruff's exclusion of .venv cover it too.
SPARK_VENV := $(VENV)/spark
PORT ?= 8501
# Without sign-in (no [auth] section in .streamlit/secrets.toml) Handoff serves its one local
# workspace, as its owner, to anyone who reaches it: then it listens on this machine only.
ADDRESS ?= $(shell grep -qs '^\[auth' .streamlit/secrets.toml && echo 0.0.0.0 || echo localhost)

.PHONY: run test lint bench demo-data clean spark-server

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# The full pyspark (a local Spark Connect server) lives apart from the app's thin client.
$(SPARK_VENV)/.installed: requirements-spark.txt
	test -x $(SPARK_VENV)/bin/python || $(PYTHON) -m venv $(SPARK_VENV)
	$(SPARK_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-spark.txt
	touch $@

run: $(VENV)/.runtime
	$(PY) -m streamlit run Home.py --server.port $(PORT) --server.address $(ADDRESS)

test: $(VENV)/.dev $(SPARK_VENV)/.installed
	bash scripts/ensure-chromium.sh
	bash scripts/ensure-java.sh
	$(PY) -m ruff check .
	$(PY) -m pytest

lint: $(VENV)/.dev
	$(PY) -m ruff check .

demo-data: $(VENV)/.runtime
	$(PY) data/generate_demo.py

# A local Spark Connect server on 127.0.0.1:15002 until Ctrl-C (see README, "Spark mode").
spark-server: $(VENV)/.runtime $(SPARK_VENV)/.installed
	bash scripts/ensure-java.sh
	$(PY) -m handoff.spark_server --port 15002

clean:
	rm -rf $(VENV) $(SPARK_VENV) .pytest_cache .ruff_cache
