"""Each dashboard page's load in Debian's chromium, from navigation to its content settled, against a bare
Streamlit page served the same way in the same run (issue 19, item 12: every page within 1.5x the bare one).

``owstream up --demo --no-browser`` is started and left to store every simulated player and the meta once;
a one-line Streamlit app (``st.write``) is served beside it as the floor: what any Streamlit page costs
(the browser loading Streamlit's frontend, the websocket session, one script run). Each page is opened by
its URL (a new session, as a user opening a link or pressing reload) and timed twice from navigation start:

- ``script``: the app reports its script run finished (``data-test-script-state="notRunning"``);
- ``settled``: the page's content stopped changing: the last change of the page (a DOM mutation or an image
  loaded) before one second with none, every chart drawn. Streamlit reports the run finished before a
  chart's component, loaded on demand, has drawn it: this is what a user waits for. Changes inside a chart's
  hover toolbar (its buttons, added ~0.25 s after the chart is drawn, invisible until pointed at) are not
  content and are left out; no page has an auto-refresh or a spinner left once its content is there.

Beside the bare page, a reference: Streamlit with three of the dashboard's bar charts and nothing else
(what three Vega-Lite charts cost on their own, whatever the page around them).

First the load of each page after start (``cold``), then the median of ``--runs`` more (``warm``),
interleaved with the bare page's; and a player opened by clicking its link on the Watchlist page (in the
same tab: no new session).

    .venv/bin/python bench/bench_pages.py [--runs 3] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from owstream.localkafka import free_port
from owstream.localkafka.jars import ensure_jars, jars_dir
from owstream.simulator import Simulator

JAR_CACHE = Path.home() / ".cache" / "owstream-test"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip
DONE = "[data-testid='stApp'][data-test-script-state='notRunning']"
QUIET_MS = 1000
TARGET = 1.5  # a page's settled content within this many times the bare page's
# Every change of the page, timed from navigation start (performance.now()), but those inside an element's
# toolbar (the fullscreen/download buttons Streamlit adds to a chart ~0.25 s after drawing it, shown only
# under the pointer): nothing a user sees, and a page without charts (the bare one) has none.
OBSERVE = """
window.__changed = 0;
const __hidden = (node) => {
  const element = node.nodeType === 1 ? node : node.parentElement;
  return element !== null && element.closest('[data-testid^="stElementToolbar"]') !== null;
};
new MutationObserver((changes) => {
  if (changes.some((c) => !__hidden(c.target))) window.__changed = performance.now();
}).observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
document.addEventListener('load', () => { window.__changed = performance.now(); }, true);
"""
SETTLED = f"""() => document.querySelector("{DONE}") !== null
  && [...document.querySelectorAll('[class*="st-key-chart_"]')]
       .every((c) => c.querySelector('[data-testid="stVegaLiteChart"] svg.marks g, canvas'))
  && performance.now() - window.__changed > {QUIET_MS}"""


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.2)


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as resp:
            return bool(resp.read() == b"ok")
    except OSError:
        return False


@contextmanager
def demo_stack(home: Path) -> Iterator[int]:
    """``owstream up --demo`` with every simulated player and the meta stored; yields the dashboard's port."""
    ensure_jars(JAR_CACHE)
    (home / "kafka" / "jars").mkdir(parents=True)
    jars_dir(home).symlink_to(jars_dir(JAR_CACHE), target_is_directory=True)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OWSTREAM_") and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(OWSTREAM_HOME=str(home), OWSTREAM_DASHBOARD_PORT=str(port),
               OWSTREAM_KAFKA_PORT=str(free_port()), OWSTREAM_KAFKA_CONTROLLER_PORT=str(free_port()))  # fmt: skip
    log = (home / "up.log").open("w")
    argv = [sys.executable, "-m", "owstream.cli", "up", "--demo", "--no-browser"]
    proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait(lambda: _healthy(port) or proc.poll() is not None, 240, "the dashboard")
        if proc.poll() is not None:
            raise RuntimeError(f"owstream up ended: see {log.name}")
        players = len(Simulator(seed=0).player_ids())

        def stored() -> bool:
            try:
                with closing(sqlite3.connect(home / "demo.db")) as db:
                    seen = db.execute("SELECT count(DISTINCT player_id) FROM snapshots").fetchone()[0]
                    meta = db.execute("SELECT count(*) FROM hero_stats").fetchone()[0]
            except sqlite3.Error:
                return False
            return bool(seen >= players - 1 and meta)  # the private player has no stats, but a snapshot

        _wait(stored, 240, "every demo player and the meta stored")
        yield port
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


# A reference, not a target: Streamlit with three of the dashboard's bar charts (the Player page's kind,
# drawn by the same code) and nothing else: what three Vega-Lite charts cost on their own.
THREE_CHARTS = """import streamlit as st

from owstream.dashboard import charts, palette

rows = [{"name": f"Hero {i}", "role": ("Tank", "Damage", "Support")[i % 3], "hours": 10.0 * (10 - i),
         "label": f"{10 * (10 - i)} h"} for i in range(10)]
scale = palette.role_scale(["tank", "damage", "support"])
st.write("hello")
left, right = st.columns(2)
for where, key in ((left, "chart_a"), (right, "chart_b"), (st.container(), "chart_c")):
    with where:
        charts.show(charts.bars(rows, value="hours", title="Time played", axis_title="Hours", scale=scale), key=key)
"""


@contextmanager
def bare_streamlit(home: Path, source: str = 'import streamlit as st\n\nst.write("hello")\n') -> Iterator[int]:
    """A Streamlit app of ``source`` (by default one line), served as the dashboard is."""
    app = home / f"floor-{abs(hash(source))}.py"
    app.write_text(source)
    port = free_port()
    argv = [sys.executable, "-m", "streamlit", "run", str(app), "--server.headless", "true",
            "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none"]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait(lambda: _healthy(port), 60, "the bare Streamlit app")
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _load(page: Any, url: str) -> tuple[float, float]:
    """(script finished, content settled), seconds from navigation start."""
    page.goto(url, timeout=120_000)
    page.wait_for_selector(DONE, timeout=120_000)
    script = float(page.evaluate("performance.now()")) / 1000
    page.wait_for_function(SETTLED, timeout=120_000, polling=50)
    settled = float(page.evaluate("window.__changed")) / 1000
    return script, max(settled, 0.0)


def _link(page: Any, base: str, player: str) -> float:
    """Seconds from clicking a player's link on the Watchlist page to the Player page settled."""
    page.goto(f"{base}/watchlist", timeout=120_000)
    page.wait_for_function(SETTLED, timeout=120_000, polling=50)
    began = float(page.evaluate("performance.now()"))
    page.get_by_role("link", name=player).first.click()
    page.wait_for_function("() => location.pathname.endsWith('/player')", timeout=120_000, polling=50)
    page.wait_for_function(f"() => window.__changed > {began}", timeout=120_000, polling=50)
    page.wait_for_function(SETTLED, timeout=120_000, polling=50)
    return (float(page.evaluate("window.__changed")) - began) / 1000


def run(runs: int = 3) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    player = next(p for p in Simulator(seed=0).player_ids() if p not in Simulator(seed=0).private_player_ids())
    pages = {"player": f"player?player={player}", "history": f"history?player={player}",
             "squad": "squad", "meta": "meta", "pipeline": "pipeline", "watchlist": "watchlist"}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as tmp:
        home = Path(tmp)
        with (
            demo_stack(home) as port,
            bare_streamlit(home) as floor_port,
            bare_streamlit(home, THREE_CHARTS) as charts_port,
            sync_playwright() as pw,
        ):
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1440, "height": 900})
            context.add_init_script(OBSERVE)
            page = context.new_page()
            base, floor = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{floor_port}/"
            three = f"http://127.0.0.1:{charts_port}/"
            cold = {name: _load(page, f"{base}/{path}") for name, path in pages.items()}
            floor_cold = _load(page, floor)
            _load(page, three)
            warm: dict[str, list[tuple[float, float]]] = {name: [] for name in [*pages, "bare streamlit", "three"]}
            links: list[float] = []
            for _ in range(runs):  # interleaved: the floor and the pages see the same machine
                warm["bare streamlit"].append(_load(page, floor))
                warm["three"].append(_load(page, three))
                for name, path in pages.items():
                    warm[name].append(_load(page, f"{base}/{path}"))
                links.append(_link(page, base, player))
            browser.close()
    script = {name: statistics.median(t[0] for t in times) for name, times in warm.items()}
    settled = {name: statistics.median(t[1] for t in times) for name, times in warm.items()}
    floor_settled = settled["bare streamlit"]
    figures: dict[str, Any] = {
        "runs": runs,
        "bare streamlit settled s": round(floor_settled, 2),
        "bare streamlit script s": round(script["bare streamlit"], 2),
        "bare streamlit cold settled s": round(floor_cold[1], 2),
        "streamlit with three charts settled s (reference)": round(settled["three"], 2),
        "streamlit with three charts / bare": round(settled["three"] / floor_settled, 2),
    }
    for name in pages:
        figures[f"{name} settled s"] = round(settled[name], 2)
        figures[f"{name} script s"] = round(script[name], 2)
        figures[f"{name} cold settled s"] = round(cold[name][1], 2)
        figures[f"{name} / bare"] = round(settled[name] / floor_settled, 2)
    figures["player from a watchlist link s"] = round(statistics.median(links), 2)
    figures[f"every page within {TARGET}x"] = all(settled[name] <= TARGET * floor_settled for name in pages)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    figures = run(args.runs)
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
