"""Time per what-if slider move, at demo size and at ~1M leads, and the server's time per
move as a browser makes it.

A slider move recomputes the projection (scenario and baseline), the scorecards and the
comparison; the baseline itself is measured from the database once per dataset (cached in
the app by the data's fingerprint), so it is timed separately as "first load".
The 1M-lead dataset is the demo replicated with fresh ids: the same distributions, 51× the
rows. The server's time per move is measured against `streamlit run` on the demo over
Streamlit's websocket protocol (see `load_server.py`): from the rerun request to the run's
last message, as the page sends a move (the fragment) and as a whole-page rerun. Prints
figures; asserts nothing about speed.

    .venv/bin/python benchmarks/whatif.py [--copies 51] [--repeat 5] [--server-moves 40]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import resource
import statistics
import sys
import time
from pathlib import Path

import pandas as pd
import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg

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


def server_moves(moves: int) -> dict[str, list[float]]:
    """Seconds the server takes per slider move on the demo, speaking Streamlit's websocket
    protocol as a browser does (no browser drawing): the move as the page sends it (a rerun
    of the fragment holding the slider) and, for comparison, a rerun of the whole page."""
    from load import served
    from load_server import SLIDER_KEY, Session

    async def measure(ws_url: str) -> dict[str, list[float]]:
        times: dict[str, list[float]] = {"fragment": [], "whole page": []}
        async with websockets.connect(ws_url, subprotocols=["streamlit"], max_size=None) as ws:
            session = Session(ws)
            await session.run("")
            page = next(h for name, h in session.pages.items() if "what" in name.lower())
            drawn = await session.run(page)
            slider = next(m for m in drawn if m.WhichOneof("type") == "delta"
                          and m.delta.new_element.WhichOneof("type") == "slider"
                          and m.delta.new_element.slider.id.endswith(SLIDER_KEY))
            options = list(slider.delta.new_element.slider.options)
            for i in range(2 * (moves + 2)):
                kind = "fragment" if i % 2 else "whole page"
                state = BackMsg().rerun_script.widget_states.widgets.add()
                state.id = slider.delta.new_element.slider.id
                state.string_array_value.data.append(options[(i // 2) % len(options)])
                started = time.perf_counter()
                await session.run(page, [state], slider.delta.fragment_id
                                  if kind == "fragment" else "")
                if i >= 4:  # after two warm-up moves of each kind
                    times[kind].append(time.perf_counter() - started)
        return times

    with served() as (_, url, _log):
        return asyncio.run(measure(url.replace("http://", "ws://") + "/_stcore/stream"))


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
        for kind, moves in server_moves(args.server_moves).items():
            moves.sort()
            print(f"what-if slider move, server time at demo size, {kind} rerun, "
                  f"{len(moves)} moves: min {moves[0] * 1000:,.0f} ms, median "
                  f"{statistics.median(moves) * 1000:,.0f} ms, p95 "
                  f"{moves[int(len(moves) * 0.95)] * 1000:,.0f} ms (goal: under 50 ms)")


if __name__ == "__main__":
    main()
