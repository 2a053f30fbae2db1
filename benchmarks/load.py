"""A room on one workspace: N concurrent browser sessions navigate every page and move the
what-if slider for a few minutes against one `streamlit run` on loopback, all looking at the
same workspace (with --load, a file one person loaded first, as its current version; else
the demo). Reports errors (there should be none), server memory per session (the sessions
share one database per workspace version, so it should stay small), memory after the
sessions closed, and action latency. With --waves 2 the room comes twice: a second peak no
higher than the first shows memory is reused, not leaked. The server gets a data directory
of its own (a temporary one), never the project's. A script, not a test: it prints figures
and exits non-zero only on errors.

    .venv/bin/python benchmarks/load.py [--sessions 20] [--minutes 3] [--think 0] [--load]
        [--waves 1]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.async_api import async_playwright

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        "--disable-dev-shm-usage"]
PAGES = {"Home": "/", "Data": "/Data", "Funnel": "/Funnel", "Close rates": "/Close_rates",
         "Objectives": "/Objectives", "What if": "/What_if"}
# Opened at /Data, Streamlit's frontend first probes /Data/_stcore/… and falls back to /_stcore/…
_PROBE = re.compile(r"/[^/]+/_stcore/(health|host-config)$|favicon")
UPLOAD = ROOT / "tests" / "fixtures" / "maven_sales_pipeline_300.csv"
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident memory of the server process and its children, in MB."""
    total = 0.0
    for p in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            continue
    return total


@contextmanager
def served() -> Iterator[tuple[subprocess.Popen, str, Path]]:
    """`streamlit run Home.py` on a free loopback port: the process, its address, its log."""
    port = free_port()
    home = Path(tempfile.mkdtemp(prefix="handoff-load-"))
    log = home / "server.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "Home.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT),
                           "HANDOFF_DATA_DIR": str(home / "data")},
            stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
                break
            except OSError:
                time.sleep(0.3)
        yield server, url, log
    finally:
        server.terminate()
        server.wait(timeout=20)


def pct(values: list[float], q: float) -> str:
    """The q-quantile of durations in seconds, as milliseconds."""
    return f"{sorted(values)[int(len(values) * q)] * 1000:,.0f} ms" if values else "—"


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the server process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


async def upload(page, url: str) -> None:
    """Load a deals file on the Data page: it becomes the workspace's current version, the
    data every session of the room then sees."""
    await page.goto(f"{url}/Data")
    await page.wait_for_selector(IDLE)
    await page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(
        UPLOAD)
    await page.get_by_role("button", name=re.compile(r"^Load 1 file")).click()
    await page.get_by_text(re.compile(f"Loaded {UPLOAD.name}")).wait_for()


async def session(browser, url: str, deadline: float, errors: list, timings: dict,
                  loaded: bool, think: float) -> None:
    """One person: every page in turn, a slider move on What-if, until the deadline."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(120_000)  # browsers share the 2 cores with the server
    page.on("console", lambda m: errors.append(f"console: {m.text[:120]}")
            if m.type == "error" and "Failed to load resource" not in m.text else None)
    page.on("response", lambda r: errors.append(f"HTTP {r.status}: {r.url[:160]}")
            if r.status >= 400 and not _PROBE.search(r.url) else None)
    try:
        await page.goto(url)
        await page.wait_for_selector(IDLE)
        while time.monotonic() < deadline:
            for name, path in PAGES.items():
                if time.monotonic() >= deadline:
                    break
                await asyncio.sleep(random.uniform(0, 2 * think))  # a person reads
                started = time.perf_counter()
                await page.get_by_role("link", name=name, exact=True).first.click()
                # the new page, its view (filters, tab, scenario) in the query string
                await page.wait_for_url(re.compile(re.escape(path) + r"(\?.*)?$"))
                await page.wait_for_timeout(100)
                await page.wait_for_selector(IDLE)
                timings["navigate"].append(time.perf_counter() - started)
                if await page.locator('[data-testid="stException"]').count():
                    errors.append(f"exception on {name}")
                if name == "What if" and loaded:  # a deals-only upload: no what-if
                    await page.get_by_text("The what-if needs dated leads").wait_for()
                elif name == "What if":
                    started = time.perf_counter()
                    slider = page.get_by_role("slider").first
                    await slider.focus()
                    await page.keyboard.press("ArrowRight")
                    await page.wait_for_timeout(100)
                    await page.wait_for_selector(IDLE)
                    timings["slider"].append(time.perf_counter() - started)
    except Exception as e:  # noqa: BLE001 - every failure is counted, none stops the room
        errors.append(f"{type(e).__name__}: {str(e)[:160]}")
    finally:
        await context.close()


async def room(url: str, sessions: int, minutes: float, pid: int, loaded: bool,
               think: float) -> dict:
    errors: list[str] = []
    timings: dict[str, list[float]] = {"navigate": [], "slider": []}
    samples: list[float] = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=os.environ.get(
            "HANDOFF_CHROMIUM", "/usr/bin/chromium"), args=ARGS)
        deadline = time.monotonic() + minutes * 60

        async def sample() -> None:
            while time.monotonic() < deadline + 5:
                samples.append(rss_mb(pid))
                await asyncio.sleep(2)

        sampler = asyncio.create_task(sample())
        await asyncio.gather(*(session(browser, url, deadline, errors, timings, loaded, think)
                               for _ in range(sessions)))
        await sampler
        await browser.close()
    return {"errors": errors, "timings": timings, "peak": max(samples, default=0.0)}


async def loaded_once(url: str) -> None:
    """One person loads the file before the room comes."""
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=os.environ.get(
            "HANDOFF_CHROMIUM", "/usr/bin/chromium"), args=ARGS)
        page = await (await browser.new_context()).new_page()
        page.set_default_timeout(120_000)
        await upload(page, url)
        await browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--think", type=float, default=5.0,
                        help="mean seconds a person waits between actions (0: no pause)")
    parser.add_argument("--load", action="store_true",
                        help="load a deals file into the workspace first (else: the demo)")
    parser.add_argument("--waves", type=int, default=1, help="the room comes this many times")
    parser.add_argument("--settle", type=float, default=150.0,
                        help="seconds to wait after the sessions close before measuring "
                             "(Streamlit keeps a closed tab's session for 120 s)")
    args = parser.parse_args()
    waves = []
    with served() as (server, url, log):
        if args.load:
            asyncio.run(loaded_once(url))
        asyncio.run(room(url, 1, 0.05, server.pid, args.load, 0))  # warm-up: imports, database
        time.sleep(2)
        baseline = rss_mb(server.pid)
        for _ in range(args.waves):
            cpu, wall = cpu_seconds(server.pid), time.monotonic()
            result = asyncio.run(room(url, args.sessions, args.minutes, server.pid,
                                      args.load, args.think))
            result["server cpu"] = (cpu_seconds(server.pid) - cpu) / (time.monotonic() - wall)
            time.sleep(args.settle)  # closed sessions are dropped after a grace period
            result["after"] = rss_mb(server.pid)
            waves.append(result)

    shown = f"{UPLOAD.name} loaded once" if args.load else "the demo"
    print(f"sessions {args.sessions} on one workspace ({shown}), {args.minutes} min, "
          f"think {args.think} s, {args.waves} wave(s); server RSS after one warm-up session "
          f"{baseline:,.0f} MB")
    for i, result in enumerate(waves, start=1):
        nav, slider = result["timings"]["navigate"], result["timings"]["slider"]
        print(f"wave {i}: {len(nav):,} page switches, {len(slider):,} slider moves, "
              f"errors {len(result['errors'])}; the server used {result['server cpu']:.0%} "
              "of one core (the browsers the rest of the machine)")
        for line in sorted(set(result["errors"]))[:20]:
            print(f"  {line}")
        print(f"  server RSS: peak {result['peak']:,.0f} MB "
              f"({(result['peak'] - baseline) / args.sessions:,.1f} MB per session), "
              f"{args.settle:.0f} s after the sessions closed {result['after']:,.0f} MB")
        print(f"  page switch: median {statistics.median(nav) * 1000 if nav else 0:,.0f} ms, "
              f"p95 {pct(nav, 0.95)}; slider move: median "
              f"{statistics.median(slider) * 1000 if slider else 0:,.0f} ms, "
              f"p95 {pct(slider, 0.95)}")
    sys.exit(1 if any(w["errors"] for w in waves) else 0)


if __name__ == "__main__":
    main()
