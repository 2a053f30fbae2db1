"""The funnel with a source breakdown at 100k, 1M (and 10M) synthetic leads: Handoff's
DuckDB path against an idiomatic pandas implementation of the same numbers.

Both compute the cohort funnel (leads created in the range reaching each stage, by
source), plain and with a 30-day conversion window; the script checks that the numbers
agree before it prints any timing, so the comparison is of equal work. Figures only: it
asserts nothing about speed.

    .venv/bin/python benchmarks/funnel.py [--sizes 100000,1000000,10000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from handoff import funnel  # noqa: E402
from handoff.db import build_database  # noqa: E402
from handoff.filters import Filters  # noqa: E402
from handoff.schema import LEAD_STAGES  # noqa: E402

SOURCES = ["Organic search", "Paid search", "Email", "Social", "Referral", "Events",
           "Partner", "Outbound"]
DATES = [f"{s}_at" for s in LEAD_STAGES]
RANGE = Filters(dt.date(2024, 1, 1), dt.date(2025, 12, 31), all_time=True)


def leads(n: int, seed: int = 42) -> pd.DataFrame:
    """n leads over two years with a date per stage reached (vectorised: 10M in seconds)."""
    rng = np.random.default_rng(seed)
    created = (np.datetime64("2024-01-01T00:00:00", "s")
               + rng.integers(0, 730 * 86_400, n).astype("timedelta64[s]"))
    reached = rng.choice(np.arange(1, 7), size=n, p=[0.55, 0.25, 0.08, 0.06, 0.05, 0.01])
    frame = pd.DataFrame({"lead_id": pd.RangeIndex(n).astype(str),
                          "created_at": created.astype("datetime64[us]"),
                          "source": pd.Categorical.from_codes(rng.integers(0, 8, n), SOURCES)
                          .astype(str),
                          "segment": rng.choice(["SMB", "Mid-market", "Enterprise"], n),
                          "owner": rng.choice([f"SDR {i}" for i in range(6)], n)})
    at = created.astype("datetime64[us]")
    for k, column in enumerate(DATES, start=1):
        if k > 1:
            at = at + rng.integers(1, 60 * 86_400, n).astype("timedelta64[s]")
        frame[column] = np.where(reached >= k, at, np.datetime64("NaT"))
    frame["stage"] = np.array(LEAD_STAGES)[reached - 1]
    return frame


def pandas_funnel(frame: pd.DataFrame, window_days: int = 0) -> pd.DataFrame:
    """The same numbers the idiomatic pandas way: a rank per lead, counts per source."""
    end = pd.Timestamp(RANGE.end) + pd.Timedelta(days=1)
    cohort = frame[(frame.created_at >= pd.Timestamp(RANGE.start)) & (frame.created_at < end)]
    rank = cohort["stage"].map({s: i for i, s in enumerate(LEAD_STAGES, start=1)}).to_numpy()
    if window_days:
        limit = np.timedelta64(window_days, "D")
        reach = np.ones(len(cohort), dtype=np.int64)
        ok = np.ones(len(cohort), dtype=bool)
        for k in range(2, 7):
            now = cohort[DATES[k - 1]].to_numpy()
            before = cohort[DATES[k - 2]].to_numpy()
            ok &= (rank >= k) & ~np.isnat(now) & (now <= before + limit)
            reach = np.where(ok, k, reach)
        rank = reach
    counts = {k: pd.Series(rank >= k).groupby(cohort["source"].to_numpy()).sum()
              for k in range(1, 7)}
    return pd.DataFrame(counts)


def best(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), result


def handoff_counts(db, window_days: int) -> pd.DataFrame:
    table = funnel.funnel(db, RANGE, funnel.FunnelRequest(breakdown="source",
                                                          window_days=window_days)).table
    return table.pivot(index="grp", columns="position", values="entities")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for n in (int(x) for x in args.sizes.split(",")):
        started = time.perf_counter()
        frame = leads(n)
        generated = time.perf_counter() - started
        started = time.perf_counter()
        db = build_database({"leads": frame}, "bench")
        loaded = time.perf_counter() - started
        for window in (0, 30):
            t_handoff, ours = best(lambda w=window, d=db: handoff_counts(d, w), args.repeat)
            t_pandas, theirs = best(lambda w=window, f=frame: pandas_funnel(f, w), args.repeat)
            ours.columns = theirs.columns
            pd.testing.assert_frame_equal(ours.sort_index().astype("int64"),
                                          theirs.sort_index().astype("int64"),
                                          check_names=False)
            rows.append({"leads": f"{n:,}", "window": f"{window} d" if window else "none",
                         "generate s": round(generated, 2), "load s": round(loaded, 2),
                         "handoff s": round(t_handoff, 3), "pandas s": round(t_pandas, 3),
                         "pandas / handoff": round(t_pandas / t_handoff, 2),
                         "peak RSS MB": round(resource.getrusage(
                             resource.RUSAGE_SELF).ru_maxrss / 1024)})
        db.close()
        del frame
    print(pd.DataFrame(rows).to_string(index=False))
    print("\nNumbers checked equal between Handoff and pandas at every size.")


if __name__ == "__main__":
    main()
