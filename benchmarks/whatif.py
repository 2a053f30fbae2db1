"""Time per what-if slider move, at demo size and at ~1M leads, and the server's time per
move as a browser makes it.

A slider move recomputes the projection (scenario and baseline), the scorecards and the
comparison; the baseline itself is measured from the database once per dataset (cached in
the app by the data's fingerprint), so it is timed separately as "first load".
The 1M-lead dataset is the demo replicated with fresh ids: the same distributions, 51× the
rows. The server's time per move is measured in Chromium against `streamlit run` on the
demo: from the websocket frame that asks for the rerun to the last frame the server sends
back for it (on loopback: the network adds nothing to speak of). Prints figures; asserts
nothing about speed.

    .venv/bin/python benchmarks/whatif.py [--copies 51] [--repeat 5] [--server-moves 40]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import statistics
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from company import replicated  # noqa: E402

from handoff import whatif, whatif_inputs  # noqa: E402
from handoff.db import build_database  # noqa: E402
from handoff.demo import demo_tables  # noqa: E402
from handoff.filters import Filters  # noqa: E402


def slider_moves(baseline: whatif.Baseline, attainment: dict, repeat: int) -> list[float]:
    """Seconds per move over the 21 slider positions, `repeat` sweeps."""
    times = []
    for _ in range(repeat):
        for step in range(21):
            started = time.perf_counter()
            scenario = whatif.Scenario().with_sale_share(step / 20)
            whatif.compare(baseline, scenario)
            whatif.scorecards(scenario.shares, attainment)
            times.append(time.perf_counter() - started)
    return times


def measure(label: str, tables: dict[str, pd.DataFrame], repeat: int) -> dict[str, object]:
    started = time.perf_counter()
    db = build_database(tables, label)
    load = time.perf_counter() - started
    f = Filters(dt.date(2024, 10, 1), dt.date(2026, 10, 31), all_time=True)
    started = time.perf_counter()
    measured = whatif_inputs.whatif_inputs(db, f)
    baseline, attainment = measured.baseline, measured.attainment
    inputs = time.perf_counter() - started
    moves = slider_moves(baseline, attainment, repeat)
    started = time.perf_counter()
    whatif.sensitivity(baseline, whatif.Scenario().with_sale_share(1.0))
    sensitivity = time.perf_counter() - started
    return {"dataset": label, "leads": len(tables["leads"]), "load s": round(load, 2),
            "baseline s": round(inputs, 3),
            "move median ms": round(statistics.median(moves) * 1000, 2),
            "move p95 ms": round(sorted(moves)[int(len(moves) * 0.95)] * 1000, 2),
            "sensitivity ms": round(sensitivity * 1000, 1),
            "peak RSS MB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def server_moves(moves: int) -> list[float]:
    """Seconds the server spends per slider move (arrow key), after two warm-up moves."""
    from load import ARGS, IDLE, served
    from playwright.sync_api import sync_playwright

    frames: dict[str, list[float]] = {"sent": [], "received": []}

    def watch(ws) -> None:
        ws.on("framesent", lambda _: frames["sent"].append(time.perf_counter()))
        ws.on("framereceived", lambda _: frames["received"].append(time.perf_counter()))

    times = []
    with served() as (_, url, _log), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=os.environ.get(
            "HANDOFF_CHROMIUM", "/usr/bin/chromium"), args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(120_000)
        page.on("websocket", watch)
        page.goto(f"{url}/What_if")
        page.wait_for_selector(IDLE)
        page.get_by_role("slider").first.focus()
        for i in range(moves + 2):
            page.wait_for_timeout(300)
            frames["sent"].clear()
            frames["received"].clear()
            page.keyboard.press("ArrowRight" if (i // 10) % 2 == 0 else "ArrowLeft")
            page.wait_for_timeout(150)
            page.wait_for_selector(IDLE)
            page.wait_for_timeout(300)  # frames that arrive after the run ends
            if i >= 2 and frames["sent"] and frames["received"]:
                times.append(frames["received"][-1] - frames["sent"][0])
        browser.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=51, help="demo copies for the big run")
    parser.add_argument("--repeat", type=int, default=5, help="sweeps of the 21 positions")
    parser.add_argument("--server-moves", type=int, default=40,
                        help="slider moves timed in Chromium (0: skip)")
    args = parser.parse_args()
    demo = demo_tables()
    rows = [measure("demo", demo, args.repeat),
            measure(f"demo ×{args.copies}", replicated(demo, args.copies), args.repeat)]
    print(pd.DataFrame(rows).to_string(index=False))
    big, small = rows[1], rows[0]
    print(f"\nslider move, {big['leads']:,} vs {small['leads']:,} leads: "
          f"{big['move median ms'] / small['move median ms']:.2f}× (the model runs on "
          "aggregates, so a move should not grow with the data)")
    if args.server_moves:
        moves = sorted(server_moves(args.server_moves))
        print(f"what-if slider move, server time at demo size over {len(moves)} moves: "
              f"min {moves[0] * 1000:,.0f} ms, median {statistics.median(moves) * 1000:,.0f} "
              f"ms, p95 {moves[int(len(moves) * 0.95)] * 1000:,.0f} ms (goal: under 50 ms)")


if __name__ == "__main__":
    main()
