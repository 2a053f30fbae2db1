"""Each page's queries on DuckDB and on Spark (local mode, through Spark Connect), side by side.

The dataset is the demo company replicated (`company.replicated`, about 19.7k leads a copy),
loaded into a DuckDB database as an upload is and into a local Spark Connect server
(`handoff.spark_server`, its own JVM on this machine) as `handoff.spark_load` does, except
that the big tables reach Spark as Parquet files the local server reads, not over gRPC. Each
page's queries run as the page runs them on the default (all-time) filters: a first run, then
the median of `--repeat` more. Results are checked equal between the engines.

    .venv/bin/python benchmarks/spark.py                  # 1M leads (51 copies)
    .venv/bin/python benchmarks/spark.py --copies 51 508 # 1M and 10M leads
"""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks"), str(ROOT / "tests")]

import company  # noqa: E402
import spark_edge  # noqa: E402

from handoff import db, demo, spark_db, spark_server  # noqa: E402
from handoff.filters import Filters  # noqa: E402
from handoff.schema import fields  # noqa: E402


def page_calls(f: Filters) -> dict[str, list[tuple[str, dict[str, object]]]]:
    """The queries each page runs on first opening, with its default choices."""
    p = f.params()
    return {
        "Home": [("home_summary", {}), ("lead_deal_links", {}), ("filter_options", {}),
                 ("loyalty_summary", {"segments": []})],
        "Funnel": [("lead_stages_present", {}), ("undated_leads", {}),
                   ("funnel_leads_cohort", {**p, "breakdown": "none", "unit": "leads",
                                            "window_days": 0, "include_undated": True}),
                   ("funnel_step_days", dict(p)),
                   ("funnel_articles", {**p, "breakdown": "none", "unit": "leads",
                                        "include_undated": True})],
        "Close rates": [("close_rates", {**p, "by": "owner", "definition": "closed",
                                         "sales_sources": [], "include_undated": True}),
                        ("sales_cycle", {**p, "by": "owner", "sales_sources": [],
                                         "definition": "closed"})],
        "Objectives": [("kpi_periods", {**p, "grain": "quarter", "sales_sources": [],
                                        "sla_hours": 24.0}),
                       ("kpi_lifetime", {"as_of": dt.datetime(2026, 1, 1)}),
                       ("cac_by_channel", {"start": p["start"], "end": p["end"]})],
    }


def to_spark(spark, tables, folder: Path, database: str) -> None:
    """The canonical tables into Spark through Parquet files the local server reads."""
    spark.sql("CREATE DATABASE IF NOT EXISTS IDENTIFIER(:name)", args={"name": database})
    for table, frame in tables.items():
        path = folder / f"{table}.parquet"
        spark_db._records(db.canonical_frame(table, frame)).to_parquet(path, index=False)
        columns = [f"CAST({f.name} AS {spark_db.SPARK_TYPES[f.kind]}) AS {f.name}"
                   for f in fields(table)]  # identifiers from the schema's allow-list
        spark.read.parquet(str(path)).selectExpr(*columns).write.mode("overwrite") \
            .saveAsTable(f"{database}.{table}")


def run_all(target, calls) -> list:
    return [db.query(target, name, **params) for name, params in calls]


def timed(run, repeat: int) -> tuple[float, float]:
    first = time.perf_counter()
    run()
    first = time.perf_counter() - first
    again = []
    for _ in range(repeat):
        t = time.perf_counter()
        run()
        again.append(time.perf_counter() - t)
    return first, statistics.median(again)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, nargs="+", default=[51],
                        help="demo copies per run (51 ≈ 1M leads, 508 ≈ 10M)")
    parser.add_argument("--memory", default="8g", help="the Spark driver's memory")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs after the first")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # `kill` stops the server too
    base = demo.demo_tables()
    with tempfile.TemporaryDirectory(prefix="handoff-spark-bench-") as tmp, \
            spark_server.local_server(Path(tmp) / "server", memory=args.memory) as url:
        spark = spark_db.session(url)
        print(f"Spark Connect local server {spark.version}, 2 cores; seconds: first run / "
              f"median of {args.repeat} more")
        for copies in args.copies:
            tables = company.replicated(base, copies)
            f = Filters(dt.date(1900, 1, 1), dt.date(2099, 12, 31), all_time=True)
            t = time.perf_counter()
            duck = db.build_database(tables, "bench", memory_limit="12GB")
            duck_load = time.perf_counter() - t
            t = time.perf_counter()
            to_spark(spark, tables, Path(tmp), f"bench{copies}")
            sdb = spark_db.spark_database(spark, f"bench{copies}")
            spark_load = time.perf_counter() - t
            print(f"\n{len(tables['leads']):,} leads, {len(tables['deals']):,} deals: load "
                  f"DuckDB {duck_load:.1f} s, Spark {spark_load:.1f} s")
            print(f"{'page':<12} {'DuckDB':>15} {'Spark':>15} {'Spark/DuckDB':>13}")
            for page, calls in page_calls(f).items():
                d_first, d_again = timed(lambda c=calls, d=duck: run_all(d, c), args.repeat)
                s_first, s_again = timed(lambda c=calls, d=sdb: run_all(d, c), args.repeat)
                same = all(not spark_edge.differences(a, b, False) for a, b in
                           zip(run_all(duck, calls), run_all(sdb, calls), strict=True))
                print(f"{page:<12} {d_first:6.2f} / {d_again:5.2f} {s_first:6.2f} / "
                      f"{s_again:5.2f} {s_again / d_again:12.0f}×"
                      + ("" if same else "  RESULTS DIFFER"), flush=True)
            duck.close()
        spark.stop()


if __name__ == "__main__":
    main()
