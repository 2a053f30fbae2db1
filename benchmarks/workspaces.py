"""Workspace versions: the cost of saving a load as a version (Parquet written and synced,
its database built from those files) against building a session database from the same
tables; opening a version from disk after a restart; and what twenty viewers of one
workspace version add to the process's memory. Each size runs in its own process.
Figures only: it asserts nothing about speed.

    .venv/bin/python benchmarks/workspaces.py [--sizes 100000,1000000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from handoff import dataset  # noqa: E402
from handoff import workspace_versions as wv  # noqa: E402
from handoff import workspaces as w  # noqa: E402
from handoff.db import Source  # noqa: E402
from handoff.shared_databases import SharedDatabases  # noqa: E402


def deals(n: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    status = rng.choice(["won", "lost", "open"], size=n, p=[0.3, 0.5, 0.2])
    created = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 700, n), "D")
    return pd.DataFrame({
        "deal_id": [f"D{i:09d}" for i in range(n)], "created_at": created,
        "closed_at": created + pd.to_timedelta(rng.integers(5, 120, n), "D"),
        "status": status, "stage": status,
        "owner": rng.choice([f"Rep {i}" for i in range(40)], size=n),
        "source": rng.choice(["Paid", "Organic", "Email", "Events"], size=n),
        "amount": rng.gamma(2.0, 4_000.0, n).round(2)})


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 1e6


def one_size(n: int) -> None:
    frame = deals(n)
    ready = dataset.Prepared({"deals": frame}, "bench.csv", (Source("bench.csv", "deals", n),),
                             (), {"deals": frozenset(frame.columns)}, "USD")
    with tempfile.TemporaryDirectory(prefix="handoff-bench-") as tmp:
        ws = w.create_workspace("bench", "Bench", "owner@bench.test", Path(tmp))
        for i in range(20):
            w.set_member(ws, "owner@bench.test", f"viewer{i}@bench.test", "viewer")
        t = time.perf_counter()
        session = dataset.database(ready)
        session_s = time.perf_counter() - t
        session.close()
        cache = SharedDatabases()
        t = time.perf_counter()
        version = wv.save_version(ws, "owner@bench.test", ready, cache)
        save_s = time.perf_counter() - t
        cache.clear()
        size = sum(p.stat().st_size for p in (ws.versions_dir / version.id).iterdir())
        restarted = SharedDatabases()
        before = rss_mb()
        t = time.perf_counter()
        first = wv.current_data(ws, "viewer0@bench.test", restarted)
        open_s = time.perf_counter() - t
        one_db = rss_mb() - before
        t = time.perf_counter()
        again = wv.current_data(ws, "viewer1@bench.test", restarted)
        lookup_ms = (time.perf_counter() - t) * 1000
        assert again.database is first.database
        before, barrier, seen = rss_mb(), threading.Barrier(20), []

        def view(i: int) -> None:
            barrier.wait()
            seen.append(wv.current_data(ws, f"viewer{i}@bench.test", restarted).database)

        threads = [threading.Thread(target=view, args=(i,)) for i in range(20)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        twenty = rss_mb() - before
        assert all(db is first.database for db in seen) and restarted.builds == 1
        with first.database.connection.cursor() as cur:
            won = cur.execute("select count(*) from deals where status = 'won'").fetchone()[0]
        assert won == int((frame.status == "won").sum())  # the version holds the data
        print(f"| {n:,} | {size / 1e6:.1f} MB | {session_s:.2f} s | {save_s:.2f} s | "
              f"{open_s:.2f} s | {lookup_ms:.1f} ms | {one_db:.0f} MB | {twenty:.1f} MB |")
        restarted.clear()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one_size(args.one)
        return
    print("| deals | version on disk | session database | save as version | open after "
          "restart | later lookup | one database (RSS) | 20 more viewers (RSS) |")
    print("|---|---|---|---|---|---|---|---|")
    for n in (int(s) for s in args.sizes.split(",")):
        subprocess.run([sys.executable, __file__, "--one", str(n)], check=True)


if __name__ == "__main__":
    main()
