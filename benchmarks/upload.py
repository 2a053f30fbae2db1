"""Upload to funnel: a deals export read, mapped, validated, loaded and counted, at 100k and
1M rows (10M with --sizes), as a clean CSV, a CSV with every field quoted and Parquet, beside
bare DuckDB, pandas and polars doing the same job (read the file, type the dates, count the
pipeline per rep), each checked to give the same numbers. Figures and ratios only.

`floor` is the least a validating upload can cost on DuckDB: the cells read as text, the
mapped columns typed and checked in SQL, the same counts, and nothing else (no report,
no line numbers, no mapping, no fingerprint). Its ratio to bare DuckDB bounds from below
what any Handoff that checks every cell can reach on this machine.

Every run is a fresh process, so its peak memory is its own; each figure is run --repeat
times (3 by default) and shown as min / median, since the machine may be shared. The last
line is `upload 1M csv: handoff S s, duckdb S s, ratio R` (minimums).

    .venv/bin/python benchmarks/upload.py [--sizes 100000,1000000] [--formats csv,quoted,parquet]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import resource
import statistics
import subprocess
import sys
import tempfile
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


ORDER = {"Prospecting": 1, "Engaging": 2, "Lost": 2, "Won": 3}


def pandas_job(data: bytes, kind: str) -> pd.DataFrame:
    """The same numbers the idiomatic pandas way: read, type, count deals per stage per rep."""
    frame = (pd.read_parquet(io.BytesIO(data)) if kind == "parquet" else
             pd.read_csv(io.BytesIO(data), parse_dates=["engage_date", "close_date"]))
    reached = frame["deal_stage"].map(ORDER)
    return pd.DataFrame({k: (reached >= k).groupby(frame["sales_agent"]).sum()
                         for k in (1, 2, 3)})


def polars_job(data: bytes, kind: str) -> pd.DataFrame:
    """The same numbers in polars: read (dates typed), count deals per stage per rep."""
    import polars as pl

    frame = (pl.read_parquet(io.BytesIO(data)) if kind == "parquet" else
             pl.read_csv(io.BytesIO(data), try_parse_dates=True))
    reached = pl.col("deal_stage").replace_strict(ORDER, default=0)
    out = frame.group_by("sales_agent").agg(*[(reached >= k).sum().alias(str(k))
                                              for k in (1, 2, 3)])
    return out.to_pandas().set_index("sales_agent").sort_index()


def duckdb_job(path: str, kind: str) -> pd.DataFrame:
    """Bare DuckDB: read the file into a table (its own sniffer), count per stage per rep."""
    import duckdb

    con = duckdb.connect(":memory:")
    reader = "read_parquet($path)" if kind == "parquet" else "read_csv($path)"
    con.execute(f"create table deals as select * from {reader}", {"path": path})
    return _pipeline_counts(con)


def _pipeline_counts(con) -> pd.DataFrame:
    """Deals per rep reaching each pipeline position, from the table `deals`."""
    case = " ".join(f"when '{k}' then {v}" for k, v in ORDER.items())
    counts = con.execute(f"""
        with r as (select sales_agent, case deal_stage {case} else 0 end as reached
                   from deals)
        select sales_agent, count(*) filter (reached >= 1) as "1",
               count(*) filter (reached >= 2) as "2", count(*) filter (reached >= 3) as "3"
        from r group by sales_agent order by sales_agent""").df()
    return counts.set_index("sales_agent")


def floor_job(path: str, kind: str) -> pd.DataFrame:
    """The least a validating upload does, all in DuckDB SQL: every cell read as text with
    the dialect given (as Handoff reads a CSV), the mapped columns typed with try_cast and
    try_strptime, unreadable cells and repeated ids counted, then the same counts. No
    report, line numbers, mapping or fingerprint: a floor for Handoff's ratio, not a rival."""
    import duckdb

    con = duckdb.connect(":memory:")
    names = list(deals(1).columns)
    if kind == "parquet":
        reader = "read_parquet($path)"
    else:
        columns = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in names) + "}"
        reader = ("read_csv($path, auto_detect = false, header = true, delim = ',', "
                  f"quote = '\"', escape = '\"', columns = {columns}, store_rejects = true)")
    con.execute(f"create table raw as select * from {reader}", {"path": path})
    con.execute("""
        create table deals as select opportunity_id::varchar as deal_id,
               trim(sales_agent) as sales_agent, trim(deal_stage) as deal_stage,
               try_strptime(engage_date::varchar, '%Y-%m-%d')::date as created,
               try_strptime(close_date::varchar, '%Y-%m-%d')::date as closed,
               try_cast(close_value as double) as amount, close_value::varchar as amount_text,
               close_date::varchar as closed_text
        from raw""")
    bad = con.execute("""
        select count(*) filter (created is null)
               + count(*) filter (closed is null and closed_text is not null)
               + count(*) filter (amount is null and amount_text is not null)
               + count(*) - count(distinct deal_id) from deals""").fetchone()[0]
    if bad:  # the generated file is clean: every cell reads and no id repeats
        raise ValueError(f"{bad} cells or ids failed the floor's checks")
    return _pipeline_counts(con)


def handoff_job(name: str, data: bytes) -> pd.DataFrame:
    from handoff import funnel, pipeline
    from handoff.filters import Filters

    db = pipeline.load_files([(name, data)], max_mb=10_000)
    result = funnel.funnel(db, Filters(dt.date(2024, 1, 1), dt.date(2026, 12, 31),
                                       all_time=True),
                           funnel.FunnelRequest(unit="deals", breakdown="owner")).table
    return result.pivot(index="grp", columns="position", values="entities")


def write_file(n: int, kind: str, folder: Path) -> Path:
    """The generated export, written once for every engine and run to read."""
    frame = deals(n)
    path = folder / f"deals-{n}-{kind}.{'parquet' if kind == 'parquet' else 'csv'}"
    if kind == "parquet":
        frame.to_parquet(path)
    else:
        frame.to_csv(path, index=False, quoting=csv.QUOTE_ALL if kind == "quoted"
                     else csv.QUOTE_MINIMAL)
    return path


def one(path: Path, kind: str, engine: str) -> dict[str, object]:
    """Run one job in this process and report time, peak memory and the counts. The file
    is generated by the parent, so the peak is the job's own (the upload's bytes included)."""
    data = path.read_bytes()
    if engine == "handoff":  # imported once when the app starts, not per upload
        from handoff import funnel, pipeline  # noqa: F401
    elif engine == "polars":
        import polars  # noqa: F401
    elif engine in ("duckdb", "floor"):
        import duckdb  # noqa: F401
    started = time.perf_counter()
    counts = (handoff_job(path.name, data) if engine == "handoff"
              else duckdb_job(str(path), kind) if engine == "duckdb"
              else floor_job(str(path), kind) if engine == "floor"
              else polars_job(data, kind) if engine == "polars"
              else pandas_job(data, kind))
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "mb": len(data) / 1e6,
            "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "counts": counts.astype("int64").to_numpy().tolist()}


ENGINES = ("handoff", "duckdb", "floor", "pandas", "polars")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--formats", default="csv,quoted,parquet")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)  # path kind engine (child)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(Path(args.one[0]), args.one[1], args.one[2])))
        return
    engines = args.engines.split(",")
    rows, last = [], None
    folder = Path(tempfile.mkdtemp(prefix="handoff-bench-"))
    for n in (int(x) for x in args.sizes.split(",")):
        for kind in args.formats.split(","):
            path = write_file(n, kind, folder)
            runs: dict[str, list[dict]] = {e: [] for e in engines}
            for _ in range(args.repeat):
                for engine in engines:
                    out = subprocess.run([sys.executable, __file__, "--one", str(path), kind,
                                          engine], capture_output=True, text=True, check=True)
                    runs[engine].append(json.loads(out.stdout.strip().splitlines()[-1]))
            secs = {e: sorted(r["seconds"] for r in runs[e]) for e in engines}
            low = {e: secs[e][0] for e in engines}
            mid = {e: statistics.median(secs[e]) for e in engines}
            row: dict[str, object] = {"rows": f"{n:,}", "format": kind,
                                      "file MB": round(runs[engines[0]][0]["mb"], 1)}
            for e in engines:
                row[f"{e} s"] = f"{low[e]:.2f} / {mid[e]:.2f}"
            if "handoff" in engines:
                for e in engines[1:] if engines[0] == "handoff" else engines:
                    if e != "handoff":
                        row[f"÷ {e}"] = (f"{low['handoff'] / low[e]:.1f} / "
                                         f"{mid['handoff'] / mid[e]:.1f}")
                row["handoff peak MB"] = round(max(r["rss"] for r in runs["handoff"]))
            counts = [runs[e][0]["counts"] for e in engines]
            row["same numbers"] = all(c == counts[0] for c in counts)
            rows.append(row)
            path.unlink()
            print(row, flush=True)
            if kind == "csv" and {"handoff", "duckdb"} <= set(engines):
                last = (n, low["handoff"], low["duckdb"], low.get("floor"))
    folder.rmdir()
    print()
    print("seconds as min / median of", args.repeat, "runs; ratios likewise")
    print(pd.DataFrame(rows).to_string(index=False))
    print("\nHandoff's side also validates every cell and reports every rejected row, which "
          "the others do not: the ratio is the price of that, measured.")
    if last is not None:
        n, handoff, duck, floor = last
        size = f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k"
        if floor is not None:
            print(f"floor {size} csv (typing and counting in DuckDB SQL alone, no report): "
                  f"{floor:.2f} s, ratio {floor / duck:.1f} to duckdb")
        print(f"upload {size} csv: handoff {handoff:.2f} s, duckdb {duck:.2f} s, "
              f"ratio {handoff / duck:.1f}")


if __name__ == "__main__":
    main()
