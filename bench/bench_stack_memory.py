"""The memory of the whole ``owstream up --demo --no-browser`` stack: the broker's JVM, the simulator, the
Python services (one process, or one each with ``--process-per-service``), the dashboard (Streamlit) and
``up`` itself, each process's PSS (``owstream.processes.pss_of``, so shared pages are counted once in the
total), sampled every second for ``--seconds`` after "owstream is up" while chromium opens each dashboard page
once (``--no-pages`` leaves it out; chromium itself is not counted) and ``--rate`` forced fetch requests a
second reach the fetcher (5/s: issue 12's load). Prints the peak total, the mean total and the peak per part,
and which processes loaded pandas (only the dashboard should).

    .venv/bin/python bench/bench_stack_memory.py [--seconds 90] [--rate 5] [--process-per-service]
                                                 [--no-pages] [--json PATH]

Extra environment (``OWSTREAM_KAFKA_HEAP_OPTS=...``, ``OWSTREAM_KAFKA_BROKERS=3``) is passed on to ``up``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import closing
from pathlib import Path
from typing import Any

from owstream.bus import Producer, Topics
from owstream.config import Settings
from owstream.localkafka import free_port
from owstream.localkafka.jars import ensure_jars, jars_dir
from owstream.messages.models import FetchRequest, new_id
from owstream.processes import descendants, pss_of
from owstream.runtime.up import DEMO_PREFIX
from owstream.simulator import player_ids

JAR_CACHE = Path.home() / ".cache" / "owstream-test"
CHROMIUM = Path("/usr/bin/chromium")
PAGES = ("", "history", "squad", "meta", "pipeline", "watchlist")
MIB = 1024 * 1024


def part_of(pid: int) -> str:
    """Which part a process is, by its command line."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return "gone"
    if argv and argv[0].endswith("java"):
        return "broker"
    if "owstream.dashboard.serve" in argv:
        return "dashboard"
    names = ("simulate", "services", "fetcher", "processor", "scheduler", "meta", "notifier", "dashboard", "streamlit")
    for name in names:
        if any(a == name or a.endswith(f"/{name}") for a in argv):
            return {"simulate": "simulator", "streamlit": "dashboard"}.get(name, name)
    return "up" if "up" in argv else "other"


def loads_pandas(pid: int) -> bool:
    try:
        return "/pandas/" in Path(f"/proc/{pid}/maps").read_text(errors="replace")
    except OSError:
        return False


def load(settings: Settings, rate: float, seconds: float, stop: threading.Event) -> int:
    """Forced fetch requests for the demo's players, ``rate`` a second for ``seconds``; returns how many."""
    requests = Topics(settings.topic_prefix).fetch_requests
    players = player_ids()
    producer = Producer(settings)
    sent = 0
    began = time.monotonic()
    try:
        while not stop.is_set() and time.monotonic() - began < seconds:
            player = players[sent % len(players)]
            request = FetchRequest(player_id=player, request_id=new_id(), force=True, requested_at=time.time())
            message = requests.message(request, key=player)
            producer.publish(message)
            sent += 1
            stop.wait(max(0.0, began + sent / rate - time.monotonic()))
        producer.flush_or_raise(timeout=15)
    finally:
        producer.close()
    return sent


def sample(root: int) -> dict[str, int]:
    parts: dict[str, int] = {}
    for pid in [root, *descendants(root)]:
        part = part_of(pid)
        parts[part] = parts.get(part, 0) + pss_of(pid)
    return parts


def browse(url: str) -> None:
    """Open each dashboard page once in Debian's chromium (Streamlit runs each page's script per session)."""
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]  # fmt: skip
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=args)
        page = browser.new_page()
        for name in PAGES:
            page.goto(f"{url}/{name}", timeout=120_000)
            page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=120_000)
        browser.close()


def run(seconds: float = 90.0, pages: bool = True, rate: float = 5.0, together: bool = True) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix="bench-stack-"))
    ensure_jars(JAR_CACHE)
    (home / "kafka" / "jars").mkdir(parents=True)
    jars_dir(home).symlink_to(jars_dir(JAR_CACHE), target_is_directory=True)
    port = free_port()
    env = dict(os.environ)
    env.update(OWSTREAM_HOME=str(home), OWSTREAM_DASHBOARD_PORT=str(port))
    env.setdefault("OWSTREAM_KAFKA_PORT", str(free_port()))
    env.setdefault("OWSTREAM_KAFKA_CONTROLLER_PORT", str(free_port()))
    settings = Settings.from_env(env, env_file=None).replace(topic_prefix=DEMO_PREFIX)
    mode = "--one-process" if together else "--process-per-service"
    proc = subprocess.Popen(
        [sys.executable, "-m", "owstream.cli", "up", "--demo", "--no-browser", mode],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True,
    )  # fmt: skip
    assert proc.stdout is not None
    lines: list[str] = []
    began = time.monotonic()
    for line in proc.stdout:
        lines.append(line.rstrip())
        if "owstream is up" in line:
            break
    else:
        raise RuntimeError("owstream up ended before it was up:\n" + "\n".join(lines))
    up_s = time.monotonic() - began
    threading.Thread(target=lambda: [None for _ in proc.stdout or ()], daemon=True).start()
    browser = threading.Thread(target=browse, args=(f"http://127.0.0.1:{port}",), daemon=True)
    if pages and CHROMIUM.exists():
        browser.start()
    stop = threading.Event()
    requests: list[int] = []
    loader = threading.Thread(target=lambda: requests.append(load(settings, rate, min(60.0, seconds), stop)))
    if rate > 0:
        loader.start()
    peaks: dict[str, int] = {}
    totals: list[int] = []
    pandas: set[str] = set()
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            parts = sample(proc.pid)
            totals.append(sum(parts.values()))
            for part, pss in parts.items():
                peaks[part] = max(peaks.get(part, 0), pss)
            time.sleep(1.0)
        final = sample(proc.pid)
        pandas = {part_of(pid) for pid in [proc.pid, *descendants(proc.pid)] if loads_pandas(pid)}
    finally:
        stop.set()
        if loader.is_alive():
            loader.join(timeout=30)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)
        if browser.is_alive():
            browser.join(timeout=60)
    with closing(sqlite3.connect(home / "demo.db")) as db:
        stored = db.execute("SELECT count(*) FROM snapshots").fetchone()[0]
    return {
        "snapshots_stored": stored,
        "mode": "one process" if together else "process per service",
        "requests_sent": requests[0] if requests else 0,
        "request_rate": rate,
        "processes_with_pandas": sorted(pandas),
        "up_s": round(up_s, 1),
        "seconds_sampled": seconds,
        "pages_opened": bool(pages and CHROMIUM.exists()),
        "peak_total_mib": round(max(totals) / MIB),
        "mean_total_mib": round(sum(totals) / len(totals) / MIB),
        "final_total_mib": round(sum(final.values()) / MIB),
        "peak_per_part_mib": {k: round(v / MIB) for k, v in sorted(peaks.items())},
        "final_per_part_mib": {k: round(v / MIB) for k, v in sorted(final.items())},
    }


def both(seconds: float = 90.0, rate: float = 5.0) -> dict[str, Any]:
    """One process for the five services (``owstream up``'s default) and one process each, one after the
    other in this run, under the same pages and load; the figures of the first and the ratio."""
    together = run(seconds, rate=rate, together=True)
    apart = run(seconds, rate=rate, together=False)
    return {
        **{k: v for k, v in together.items() if k not in ("mode", "final_per_part_mib", "final_total_mib")},
        "per_service_peak_total_mib": apart["peak_total_mib"],
        "one_process_vs_per_service": round(together["peak_total_mib"] / apart["peak_total_mib"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=90.0)
    parser.add_argument("--rate", type=float, default=5.0, help="forced fetch requests a second (0: none)")
    parser.add_argument("--process-per-service", action="store_true")
    parser.add_argument("--no-pages", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    figures = run(args.seconds, pages=not args.no_pages, rate=args.rate, together=not args.process_per_service)
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
