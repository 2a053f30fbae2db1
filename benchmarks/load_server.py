"""The server's side of a room: N sessions that speak Streamlit's websocket protocol
directly (no browser drawing the pages), each visiting every page in turn and moving the
What-if slider. What a person waits for is this plus their own browser's drawing; on this
2-core machine `load.py`'s real browsers leave the server mostly idle, so this is the figure
that says how many people one server holds. Reports script-run latency per action,
exceptions sent to any page (there should be none), server CPU and memory.

    .venv/bin/python benchmarks/load_server.py [--sessions 20] [--minutes 2] [--think 1]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time

import websockets
from load import cpu_seconds, pct, rss_mb, served
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

SLIDER_KEY = "whatif.share"


class Session:
    """One browser tab's worth of protocol: reruns, and what each run drew."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.pages: dict[str, str] = {}
        self.seen: dict[str, ForwardMsg] = {}  # the client's side of the message cache

    async def run(self, page_hash: str, widgets: list | None = None,
                  fragment_id: str = "") -> list[ForwardMsg]:
        """Ask for a rerun of a page (or of one fragment on it, as a widget inside the
        fragment asks); the messages it sent, up to script_finished."""
        msg = BackMsg()
        msg.rerun_script.page_script_hash = page_hash
        msg.rerun_script.fragment_id = fragment_id
        msg.rerun_script.query_string = ""
        msg.rerun_script.cached_message_hashes.extend(self.seen)
        for w in widgets or []:
            msg.rerun_script.widget_states.widgets.append(w)
        await self.ws.send(msg.SerializeToString())
        drawn = []
        while True:
            fwd = ForwardMsg()
            fwd.ParseFromString(await self.ws.recv())
            if fwd.WhichOneof("type") == "ref_hash":
                fwd = self.seen[fwd.ref_hash]
            elif fwd.hash:
                self.seen[fwd.hash] = fwd
            kind = fwd.WhichOneof("type")
            if kind == "navigation":  # the pages in the sidebar
                self.pages = {p.page_name: p.page_script_hash
                              for p in fwd.navigation.app_pages}
            drawn.append(fwd)
            if kind == "script_finished":
                return drawn


def elements(drawn: list[ForwardMsg], kind: str) -> list:
    return [getattr(m.delta.new_element, kind) for m in drawn
            if m.WhichOneof("type") == "delta" and m.delta.WhichOneof("type") == "new_element"
            and m.delta.new_element.WhichOneof("type") == kind]


async def person(url: str, deadline: float, think: float, timings: dict, errors: list) -> None:
    try:
        async with websockets.connect(url, subprotocols=["streamlit"], max_size=None) as ws:
            s, step = Session(ws), 0
            await s.run("")
            while time.monotonic() < deadline:
                for name, page_hash in list(s.pages.items()):
                    await asyncio.sleep(random.uniform(0, 2 * think))
                    started = time.perf_counter()
                    drawn = await s.run(page_hash)
                    timings["page"].append(time.perf_counter() - started)
                    for e in elements(drawn, "exception"):
                        errors.append(f"{name}: {e.type}: {e.message[:120]}")
                    sliders = [x for x in elements(drawn, "slider")
                               if x.id.endswith(SLIDER_KEY)]
                    if sliders:
                        state = BackMsg().rerun_script.widget_states.widgets.add()
                        state.id = sliders[0].id
                        step += 1  # one step along the slider's options, as an arrow key
                        options = sliders[0].options
                        state.string_array_value.data.append(options[step % len(options)])
                        started = time.perf_counter()
                        drawn = await s.run(page_hash, [state])
                        timings["slider"].append(time.perf_counter() - started)
                        for e in elements(drawn, "exception"):
                            errors.append(f"slider: {e.type}: {e.message[:120]}")
                    if time.monotonic() >= deadline:
                        break
    except Exception as e:  # noqa: BLE001 - every failure is counted, none stops the room
        errors.append(f"{type(e).__name__}: {str(e)[:160]}")


async def room(url: str, sessions: int, minutes: float, think: float) -> dict:
    timings: dict[str, list[float]] = {"page": [], "slider": []}
    errors: list[str] = []
    deadline = time.monotonic() + minutes * 60
    await asyncio.gather(*(person(url, deadline, think, timings, errors)
                           for _ in range(sessions)))
    return {"timings": timings, "errors": errors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--think", type=float, default=1.0,
                        help="mean seconds between one person's actions")
    args = parser.parse_args()
    with served() as (server, url, _):
        ws = url.replace("http://", "ws://") + "/_stcore/stream"
        asyncio.run(room(ws, 1, 0.2, 0))  # warm-up: imports, the demo database, caches
        before, cpu, wall = rss_mb(server.pid), cpu_seconds(server.pid), time.monotonic()
        result = asyncio.run(room(ws, args.sessions, args.minutes, args.think))
        busy = (cpu_seconds(server.pid) - cpu) / (time.monotonic() - wall)
        after = rss_mb(server.pid)
    page, slider = result["timings"]["page"], result["timings"]["slider"]

    print(f"{args.sessions} sessions, {args.minutes} min, think {args.think} s: "
          f"{len(page):,} page runs, {len(slider):,} slider moves, "
          f"errors {len(result['errors'])}; server CPU {busy:.0%} of one core; "
          f"RSS {before:,.0f} MB -> {after:,.0f} MB")
    for line in sorted(set(result["errors"]))[:20]:
        print(f"  {line}")
    print(f"page: median {statistics.median(page) * 1000 if page else 0:,.0f} ms, "
          f"p95 {pct(page, 0.95)}; slider move: median "
          f"{statistics.median(slider) * 1000 if slider else 0:,.0f} ms, p95 {pct(slider, 0.95)}")
    sys.exit(1 if result["errors"] else 0)


if __name__ == "__main__":
    main()
