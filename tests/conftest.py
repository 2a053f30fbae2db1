"""Shared fixtures: paths to committed samples, loaded databases, a live app for the browser."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from handoff import pipeline
from handoff.db import Database
from handoff.format import WORD_JOINER

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def shown(markdown: str) -> str:
    """Markdown source (what AppTest holds) as a reader sees it: backslash escapes resolved,
    the invisible word joiners that keep URLs from being linked taken out."""
    return re.sub(r"\\(.)", r"\1", markdown).replace(WORD_JOINER, "")


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def load_files(*names: str) -> Database:
    """A database built from fixture files with their proposed mappings, as the Data page."""
    return pipeline.load_files([(name, fixture_bytes(name)) for name in names])


@pytest.fixture(scope="session")
def maven_db() -> Database:
    return load_files("maven_sales_pipeline_300.csv")


@pytest.fixture(scope="session")
def demo_db() -> Database:
    from handoff import demo

    return demo.demo_database()


# --- a live app for browser tests -------------------------------------------------------------

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app(*options: str, log: Path | None = None) -> Iterator[str]:
    """`streamlit run Home.py` in a subprocess on a free local port; yields its address.
    Output goes to `log` (or nowhere), never to a pipe nobody reads."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open(log or os.devnull, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "Home.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true", *options],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    if time.time() > deadline or proc.poll() is not None:
                        raise RuntimeError("streamlit did not start"
                                           + (f": see {log}" if log else "")) from None
                    time.sleep(0.3)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(scope="session")
def app_url(tmp_path_factory):
    with running_app(log=tmp_path_factory.mktemp("app") / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import expect, sync_playwright

    # A rerun on a busy two-core CI machine can take longer than Playwright's 5 s default;
    # an assertion still fails, after 20 s, when what it waits for never comes.
    expect.set_options(timeout=20_000)
    executable = os.environ.get("HANDOFF_CHROMIUM", "/usr/bin/chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000},
                                  accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    context.close()


# Workspaces made by tests (and by the apps they start) live in a temporary data directory,
# never in the project's .handoff-data/.
os.environ.setdefault("HANDOFF_DATA_DIR", tempfile.mkdtemp(prefix="handoff-test-data-"))


@pytest.fixture(autouse=True)
def _empty_local_workspace():
    """Every test starts with the local workspace empty (the demo shown): a load in one test
    is a version of the shared workspace, and must not be what the next test sees."""
    from handoff.workspace_store import data_dir

    shutil.rmtree(data_dir() / "workspaces" / "local", ignore_errors=True)
    yield


def into_workspace(db: Database, email: str | None = None):
    """Save a database's tables as the local workspace's new current version, as a load on
    the Data page does (pages then show it to every session)."""
    from handoff import dataset, workspace_versions, workspaces
    from handoff.db import table_frame

    tables = {t: table_frame(db, t) for t, n in db.row_counts.items() if n}
    ready = dataset.Prepared(tables, db.name, db.sources, db.notes,
                             {t: f for t, f in db.fields_mapped.items() if t in tables},
                             db.currency)
    return workspace_versions.save_version(workspaces.local_workspace(),
                                           email or workspaces.LOCAL_USER, ready)


# --- a local Spark Connect server for the parity tests ---------------------------------------

SPARK_PARITY: dict[str, bool] = {}  # query name → identical on DuckDB and Spark
# Tiny data: one shuffle partition and no adaptive re-planning make each query's many small
# stages cheaper. Speed only: the parity test checks the numbers whatever these are.
SPARK_TEST_CONF = {"spark.sql.shuffle.partitions": "1", "spark.sql.adaptive.enabled": "false"}


@pytest.fixture(scope="session")
def spark_remote(tmp_path_factory):
    """The address of a Spark Connect server started once for the test session (or, while
    developing, one already running at HANDOFF_TEST_SPARK_REMOTE)."""
    from handoff import spark_server

    if os.environ.get("HANDOFF_TEST_SPARK_REMOTE"):
        yield os.environ["HANDOFF_TEST_SPARK_REMOTE"]
        return
    with spark_server.local_server(tmp_path_factory.mktemp("spark")) as url:
        yield url


@pytest.fixture(scope="session")
def spark_session(spark_remote):
    from handoff import spark_db

    session = spark_db.session(spark_remote, SPARK_TEST_CONF)
    yield session
    session.stop()


@pytest.fixture(scope="session")
def spark_engines(spark_session):
    """The edge-case data (tests/spark_edge.py) loaded into DuckDB and into Spark."""
    import spark_edge

    from handoff import db, spark_db

    tables = spark_edge.edge_tables()
    duck = db.build_database(tables, "edge cases", currency="EUR")
    written = spark_db.write_tables(spark_session, "handoff_edge", tables, currency="EUR")
    assert written == {t: len(tables.get(t, ())) for t in written}
    return duck, spark_db.spark_database(spark_session, "handoff_edge")


def pytest_terminal_summary(terminalreporter):
    if SPARK_PARITY:
        same = sum(SPARK_PARITY.values())
        terminalreporter.write_line(
            f"spark parity: {same} of {len(SPARK_PARITY)} queries identical")
