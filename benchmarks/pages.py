"""Page switch, filter change and slider move at 100k, 1M and 10M leads: each page's script
run as Streamlit runs it (AppTest, the server side of a click), beside an idiomatic pandas
implementation of the numbers the page shows.

The dataset is the demo company replicated (`company.replicated`): every table grows in
proportion, so every page has its charts and tabs to compute. Each size runs in a fresh
process so its peak memory and its caches are its own. Before printing a timing the script
checks that Handoff's numbers equal pandas' (funnel counts, home totals, close rates), so
the comparison is of equal work. Figures only: it asserts nothing about speed.

- *first visit*: the page opened for the first time on this data (queries run, caches cold);
- *revisit*: the same page again (what a page switch costs once the caches are warm);
- *filter change*: Funnel and Close rates with one source picked in the sidebar (cold);
- *slider move*: What-if with the accountability slider one step on.

    .venv/bin/python benchmarks/pages.py [--sizes 100000,1000000,10000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAGES = {"Home": "Home.py", "Funnel": "pages/2_Funnel.py", "Close rates": "pages/3_Close_rates.py",
         "Objectives": "pages/4_Objectives.py", "What-if": "pages/5_What_if.py"}
SOURCE = "Referral"
RANK = {"lead": 1, "mql": 2, "sql": 3, "opportunity": 4, "customer": 5, "evangelist": 6}


# --- pandas: the same numbers, the idiomatic way --------------------------------------------

def pandas_funnel(leads: pd.DataFrame, deals: pd.DataFrame, source: str | None = None
                  ) -> pd.DataFrame:
    """Leads reaching each stage (a later stage implies the earlier), with revenue won."""
    if source is not None:
        leads = leads[leads["source"] == source]
    rank = leads["stage"].map(RANK).fillna(1)
    won = deals[deals["status"] == "won"].groupby("lead_id")["amount"].sum()
    revenue = leads["lead_id"].map(won).fillna(0)
    return pd.DataFrame({"count": [int((rank >= k).sum()) for k in range(1, 7)],
                         "revenue": [float(revenue[rank >= k].sum()) for k in range(1, 7)]})


def pandas_home(leads: pd.DataFrame, deals: pd.DataFrame) -> dict[str, float]:
    status = deals["status"]
    return {"leads": len(leads), "won": int((status == "won").sum()),
            "lost": int((status == "lost").sum()),
            "revenue": float(deals.loc[status == "won", "amount"].sum())}


def pandas_close_rates(deals: pd.DataFrame, source: str | None = None) -> pd.DataFrame:
    """Won ÷ closed per rep with a Wilson 95% interval."""
    from statsmodels.stats.proportion import proportion_confint

    closed = deals[deals["status"].isin(["won", "lost"])]
    if source is not None:
        closed = closed[closed["source"] == source]
    g = closed.groupby("owner")["status"]
    out = pd.DataFrame({"won": g.apply(lambda s: int((s == "won").sum())), "n": g.size()})
    out["rate"] = out["won"] / out["n"]
    out["ci_low"], out["ci_high"] = proportion_confint(out["won"], out["n"], method="wilson")
    return out.sort_index()


# --- Handoff: the pages as Streamlit runs them ----------------------------------------------

def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


_SHOWN: list[int] = []  # id() of the database last saved as the workspace's version


def page_run(script: str, db) -> tuple[float, object]:
    """The page's script run, on `db` saved as the (temporary) local workspace's current
    version, as a load on the Data page does; the save is not timed."""
    from streamlit.testing.v1 import AppTest

    if [id(db)] != _SHOWN:
        _into_workspace(db)
        _SHOWN[:] = [id(db)]
    at = AppTest.from_file(str(ROOT / script), default_timeout=900)
    seconds = timed(at.run)
    if at.exception:
        raise RuntimeError(f"{script}: {at.exception[0].value}")
    return seconds, at


def _into_workspace(db) -> None:
    import os
    import tempfile

    from handoff import dataset, workspace_versions, workspaces
    from handoff.db import table_frame

    os.environ.setdefault("HANDOFF_DATA_DIR", tempfile.mkdtemp(prefix="handoff-bench-"))
    tables = {t: table_frame(db, t) for t, n in db.row_counts.items() if n}
    ready = dataset.Prepared(tables, db.name, db.sources, db.notes,
                             {t: f for t, f in db.fields_mapped.items() if t in tables},
                             db.currency)
    workspace_versions.save_version(workspaces.local_workspace(), workspaces.LOCAL_USER, ready)


def funnel_counts(at) -> list[int]:
    table = next(d.value for d in at.dataframe if "Count" in d.value.columns)
    return [int(x) for x in table["Count"]]


def one(n: int, repeat: int) -> dict[str, object]:
    """Every measurement at one size, in this process."""
    from company import replicated

    from handoff import close_rates
    from handoff.db import build_database
    from handoff.demo import demo_tables
    from handoff.filters import Filters

    demo = demo_tables()
    copies = max(1, round(n / len(demo["leads"])))
    tables = replicated(demo, copies)
    leads, deals = tables["leads"], tables["deals"]
    out: dict[str, object] = {"leads": len(leads), "deals": len(deals)}
    started = time.perf_counter()
    db = build_database(tables, f"demo ×{copies}")
    out["load s"] = time.perf_counter() - started

    # pandas, best of `repeat`, and the numbers to check against
    pd_times: dict[str, float] = {}
    for label, fn in {"Home": lambda: pandas_home(leads, deals),
                      "Funnel": lambda: pandas_funnel(leads, deals),
                      "Close rates": lambda: pandas_close_rates(deals),
                      "Funnel, filter": lambda: pandas_funnel(leads, deals, SOURCE),
                      "Close rates, filter": lambda: pandas_close_rates(deals, SOURCE)}.items():
        pd_times[label] = min(timed(fn) for _ in range(repeat))
    out["pandas"] = pd_times

    warm_up = build_database(demo, "warm-up")
    for script in PAGES.values():  # imports and first-run costs, not this data's work
        page_run(script, warm_up)
    first, again = {}, {}
    for label, script in PAGES.items():
        first[label], at = page_run(script, db)
        again[label] = min(timed(at.run) for _ in range(repeat))
        if label == "Funnel":
            assert funnel_counts(at) == pandas_funnel(leads, deals)["count"].tolist()
        if label == "Home":
            home = pandas_home(leads, deals)
            shown = {m.label: m.value for m in at.metric}
            assert shown["Leads"] == f"{home['leads']:,}", shown
            assert shown["Deals won"] == f"{home['won']:,}", shown
            assert shown["Revenue won"] == f"{home['revenue']:,.0f}", shown
    out["first visit"], out["revisit"] = first, again

    everything = Filters(dt.date(1900, 1, 1), dt.date(2100, 1, 1), all_time=True)
    ours = close_rates.close_rates(db, everything).set_index("grp").sort_index()
    theirs = pandas_close_rates(deals)
    assert ours["won"].astype(int).tolist() == theirs["won"].tolist()
    assert np.allclose(ours["ci_low"], theirs["ci_low"])

    filtered = {}
    for label in ("Funnel", "Close rates"):
        _, at = page_run(PAGES[label], db)
        source = at.multiselect(key="filters.source.widget").set_value([SOURCE])
        filtered[label] = timed(source.run)
        if label == "Funnel":
            assert funnel_counts(at) == pandas_funnel(leads, deals, SOURCE)["count"].tolist()
    out["filter change"] = filtered

    _, at = page_run(PAGES["What-if"], db)
    moves = []
    for step in range(1, 1 + 2 * repeat):
        moves.append(timed(at.select_slider(key="whatif.share").set_value(step / 20).run))
        if at.exception:
            raise RuntimeError(f"What-if: {at.exception[0].value}")
    out["slider move"] = statistics.median(moves)
    out["peak MB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000,10000000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child: one size
    args = parser.parse_args()
    if args.one:
        import logging

        logging.disable(logging.WARNING)  # AppTest's "missing ScriptRunContext" chatter
        print(json.dumps(one(args.one, args.repeat)))
        return
    rows = []
    for n in (int(x) for x in args.sizes.split(",")):
        run = subprocess.run([sys.executable, __file__, "--one", str(n), "--repeat",
                              str(args.repeat)], capture_output=True, text=True)
        if run.returncode:
            print(f"{n:,} leads failed:\n{run.stderr[-3000:]}", flush=True)
            continue
        r = json.loads(run.stdout.strip().splitlines()[-1])
        size = f"{r['leads']:,} leads / {r['deals']:,} deals"
        print(f"\n{size}: loaded in {r['load s']:.1f} s, peak {r['peak MB']:,.0f} MB, "
              f"slider move {r['slider move'] * 1000:,.0f} ms", flush=True)
        for label in PAGES:
            pandas_s = r["pandas"].get(label)
            rows.append({"size": size, "action": f"open {label}",
                         "first visit s": round(r["first visit"][label], 3),
                         "revisit s": round(r["revisit"][label], 3),
                         "pandas s": round(pandas_s, 3) if pandas_s else None,
                         "first visit / pandas": round(r["first visit"][label] / pandas_s, 1)
                         if pandas_s else None})
        for label, seconds in r["filter change"].items():
            pandas_s = r["pandas"][f"{label}, filter"]
            rows.append({"size": size, "action": f"{label}: pick a source",
                         "first visit s": round(seconds, 3), "revisit s": None,
                         "pandas s": round(pandas_s, 3),
                         "first visit / pandas": round(seconds / pandas_s, 1)})
        rows.append({"size": size, "action": "What-if: move the slider",
                     "first visit s": round(r["slider move"], 3), "revisit s": None,
                     "pandas s": None, "first visit / pandas": None})
        print(pd.DataFrame(rows[-8:]).drop(columns="size").to_string(index=False), flush=True)
    print("\nHandoff's column is the whole page (every query, table and chart it shows); "
          "pandas' is the page's key numbers only. Objectives and What-if have no pandas "
          "column: their numbers are many KPIs and a model on aggregates, checked against "
          "pandas in tests/test_objectives.py and tests/test_whatif.py.")


if __name__ == "__main__":
    main()
