"""Upload to funnel: a deals export read, mapped, validated, loaded and counted, at 100k and
1M rows (10M with --sizes), as CSV and as Parquet, beside pandas doing the same job
(read the file, type the columns, count the pipeline per rep). Figures and ratios only.

Each size runs in a fresh process so its peak memory is its own.

    .venv/bin/python benchmarks/upload.py [--sizes 100000,1000000] [--formats csv,parquet]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STAGES = ["Prospecting", "Engaging", "Won", "Lost"]


def deals(n: int, seed: int = 1) -> pd.DataFrame:
    """A Maven-shaped deals export: ids, reps, products, stages, ISO dates, integer values."""
    rng = np.random.default_rng(seed)
    created = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 730 * 86_400, n),
                                                           unit="s")
    stage = rng.choice(STAGES, n, p=[0.1, 0.2, 0.4, 0.3])
    closed = pd.Series(created + pd.to_timedelta(rng.integers(1, 90, n), unit="D"))
    closed = closed.where(np.isin(stage, ["Won", "Lost"]))
    return pd.DataFrame({
        "opportunity_id": pd.RangeIndex(n).astype(str), "sales_agent": rng.choice(
            [f"Rep {i}" for i in range(30)], n), "product": rng.choice(["A", "B", "C"], n),
        "deal_stage": stage, "engage_date": created.strftime("%Y-%m-%d"),
        "close_date": closed.dt.strftime("%Y-%m-%d"),
        "close_value": np.where(stage == "Won", rng.integers(100, 30_000, n), 0)})


def pandas_job(data: bytes, kind: str) -> pd.DataFrame:
    """The same numbers the idiomatic pandas way: read, type, count deals per stage per rep."""
    frame = (pd.read_csv(io.BytesIO(data), parse_dates=["engage_date", "close_date"])
             if kind == "csv" else pd.read_parquet(io.BytesIO(data)))
    order = {"Prospecting": 1, "Engaging": 2, "Lost": 2, "Won": 3}
    reached = frame["deal_stage"].map(order)
    return pd.DataFrame({k: (reached >= k).groupby(frame["sales_agent"]).sum()
                         for k in (1, 2, 3)})


def handoff_job(name: str, data: bytes) -> pd.DataFrame:
    from handoff import funnel, pipeline
    from handoff.filters import Filters

    db = pipeline.load_files([(name, data)], max_mb=10_000)
    result = funnel.funnel(db, Filters(dt.date(2024, 1, 1), dt.date(2026, 12, 31),
                                       all_time=True),
                           funnel.FunnelRequest(unit="deals", breakdown="owner")).table
    return result.pivot(index="grp", columns="position", values="entities")


def one(n: int, kind: str, engine: str) -> dict[str, object]:
    """Run one job in this process and report time, peak memory and the counts."""
    frame = deals(n)
    buf = io.BytesIO()
    frame.to_csv(buf, index=False) if kind == "csv" else frame.to_parquet(buf)
    data = buf.getvalue()
    del frame
    if engine == "handoff":  # imported once when the app starts, not per upload
        from handoff import funnel, pipeline  # noqa: F401
    started = time.perf_counter()
    counts = (handoff_job(f"deals.{kind}", data) if engine == "handoff"
              else pandas_job(data, kind))
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "mb": len(data) / 1e6,
            "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "counts": counts.astype("int64").to_numpy().tolist()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--formats", default="csv,parquet")
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)  # n kind engine (child)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(int(args.one[0]), args.one[1], args.one[2])))
        return
    rows = []
    for n in (int(x) for x in args.sizes.split(",")):
        for kind in args.formats.split(","):
            runs = {}
            for engine in ("handoff", "pandas"):
                out = subprocess.run([sys.executable, __file__, "--one", str(n), kind, engine],
                                     capture_output=True, text=True, check=True)
                runs[engine] = json.loads(out.stdout.strip().splitlines()[-1])
            same = runs["handoff"]["counts"] == runs["pandas"]["counts"]
            rows.append({"rows": f"{n:,}", "format": kind,
                         "file MB": round(runs["handoff"]["mb"], 1),
                         "handoff s": round(runs["handoff"]["seconds"], 2),
                         "pandas s": round(runs["pandas"]["seconds"], 2),
                         "handoff / pandas": round(runs["handoff"]["seconds"]
                                                   / runs["pandas"]["seconds"], 2),
                         "handoff peak MB": round(runs["handoff"]["rss"]),
                         "pandas peak MB": round(runs["pandas"]["rss"]),
                         "same numbers": same})
            print(rows[-1], flush=True)
    print()
    print(pd.DataFrame(rows).to_string(index=False))
    print("\nHandoff's side also validates every cell and reports every rejected row, which "
          "pandas' does not: the ratio is the price of that, measured.")


if __name__ == "__main__":
    main()
