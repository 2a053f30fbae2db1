"""`benchmarks/upload.py` compares engines doing the same job: if one of them counted
something else, its ratio would compare nothing. Here every engine's job runs on a small file
of each format and must give the same counts, and a planted repeat must stop the floor."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("benchmark_upload",
                                                  ROOT / "benchmarks" / "upload.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("kind", ["csv", "quoted", "parquet"])
def test_every_engine_counts_the_same_pipeline(bench, kind, tmp_path):
    path = bench.write_file(3_000, kind, tmp_path)
    frame = bench.deals(3_000)
    reached = frame["deal_stage"].map(bench.ORDER)
    expected = sorted((rep, *(int((reached[frame["sales_agent"] == rep] >= k).sum())
                              for k in (1, 2, 3))) for rep in frame["sales_agent"].unique())
    for engine in bench.ENGINES:
        counts = bench.one(path, kind, engine)["counts"]
        assert len(counts) == len(expected), engine
        assert [list(e[1:]) for e in expected] == counts, engine


def test_the_floor_refuses_a_repeated_id(bench, tmp_path):
    frame = bench.deals(500)
    frame.loc[7, "opportunity_id"] = frame.loc[3, "opportunity_id"]
    path = tmp_path / "repeat.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(ValueError, match="1 cells or ids"):
        bench.floor_job(str(path), "csv")
