"""Spark mode in Chromium (issue 15, item 6): Home, Funnel, Close rates, Objectives and
What-if, served by an app in Spark mode over the edge-case tables, show the metrics, chart
labels and table cells that an app in DuckDB mode shows for the same data."""

from __future__ import annotations

import re

import pytest

from tests.conftest import into_workspace, running_app
from tests.test_browser import _wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]
PAGES = ["", "/Funnel", "/Close_rates", "/Objectives", "/What_if"]


FLOAT = re.compile(r"-?\d+\.\d+(?:e[-+]?\d+)?")


def _to_9_digits(texts: list[str]) -> list[str]:
    """Unformatted floats (a trend cell's points) to 9 significant digits: the engines sum
    in different orders, so the last bits differ (the parity test's 1e-9 relative)."""
    return [FLOAT.sub(lambda m: f"{float(m.group()):.9g}", t) for t in texts]


def _drawn(page) -> dict[str, list[str]]:
    """What the page shows that numbers reach: metrics, chart text, visible table cells."""
    main = page.locator('[data-testid="stMain"]')
    return {"metrics": main.locator('[data-testid="stMetric"]').all_inner_texts(),
            "charts": _to_9_digits(main.locator('[data-testid="stVegaLiteChart"] text'
                                                ).all_text_contents()),
            "cells": _to_9_digits(main.locator('[data-testid="stDataFrame"] [role="gridcell"]'
                                               ).all_inner_texts())}


def _differences(duckdb: dict[str, list[str]], spark: dict[str, list[str]]) -> list:
    """The first texts that differ, and each kind's count on both sides, for the message."""
    pairs = [(a, b) for k in duckdb for a, b in zip(duckdb[k], spark[k], strict=False)
             if a != b]
    return [*pairs[:10], {k: (len(duckdb[k]), len(spark[k])) for k in duckdb}]


def _settled(page, url: str) -> dict[str, list[str]]:
    """The page once drawn: no placeholder left (Streamlit shows skeletons until an element's
    code has loaded, sometimes after the run ends) and the same twice in a row."""
    page.goto(url)
    last = None
    for _ in range(240):
        _wait_idle(page)
        if page.locator('[data-testid="stSkeleton"]').count() == 0:
            now = _drawn(page)
            if now == last:
                return now
            last = now
        page.wait_for_timeout(500)
    raise AssertionError(f"{url} never settled")


def test_pages_in_spark_mode_show_what_duckdb_mode_shows(browser, spark_remote, spark_engines,
                                                         tmp_path, monkeypatch):
    duck, _ = spark_engines
    monkeypatch.setenv("HANDOFF_DATA_DIR", str(tmp_path / "duckdb"))
    into_workspace(duck)  # the DuckDB app shows the edge data as its workspace's version
    shown: dict[str, dict[str, dict[str, list[str]]]] = {}
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.set_default_timeout(120_000)
    with running_app(log=tmp_path / "duckdb.log") as url:
        shown["duckdb"] = {p: _settled(page, url + p) for p in PAGES}
    monkeypatch.setenv("HANDOFF_DATA_DIR", str(tmp_path / "spark"))  # empty: the Spark tables
    monkeypatch.setenv("HANDOFF_ENGINE", "spark")
    monkeypatch.setenv("HANDOFF_SPARK_REMOTE", spark_remote)
    monkeypatch.setenv("HANDOFF_SPARK_DATABASE", "handoff_edge")
    with running_app(log=tmp_path / "spark.log") as url:
        shown["spark"] = {p: _settled(page, url + p) for p in PAGES}
    page.context.close()
    for p in PAGES:
        duckdb, spark = shown["duckdb"][p], shown["spark"][p]
        assert any(duckdb.values()), f"{p or '/'} shows nothing to compare"
        assert spark == duckdb, (p or "/", _differences(duckdb, spark))
    home = shown["duckdb"][""]["metrics"]
    assert any("€" in m for m in home)  # money in the data's currency on both
