"""The memory of the whole ``owstream up --demo --no-browser`` stack: the broker's JVM, the simulator, the
fetcher, the processor, the scheduler, the dashboard (Streamlit) and ``up`` itself, each process's PSS
(``owstream.processes.pss_of``, so shared pages are counted once in the total), sampled every second for
``--seconds`` after "owstream is up" (the demo refreshes its players every minute), while chromium opens each
dashboard page once (``--no-pages`` leaves it out; chromium itself is not counted). Prints the peak total,
the mean total and the peak per part.

    .venv/bin/python bench/bench_stack_memory.py [--seconds 90] [--no-pages] [--json PATH]

Extra environment (``OWSTREAM_KAFKA_HEAP_OPTS=...``, ``OWSTREAM_KAFKA_BROKERS=3``) is passed on to ``up``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from owstream.localkafka import free_port
from owstream.localkafka.jars import ensure_jars, jars_dir
from owstream.processes import descendants, pss_of

JAR_CACHE = Path.home() / ".cache" / "owstream-test"
CHROMIUM = Path("/usr/bin/chromium")
PAGES = ("", "history", "squad", "pipeline", "watchlist")
MIB = 1024 * 1024


def part_of(pid: int) -> str:
    """Which part a process is, by its command line."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return "gone"
    if argv and argv[0].endswith("java"):
        return "broker"
    for name in ("simulate", "fetcher", "processor", "scheduler", "dashboard", "streamlit"):
        if any(a == name or a.endswith(f"/{name}") for a in argv):
            return {"simulate": "simulator", "streamlit": "dashboard"}.get(name, name)
    return "up" if "up" in argv else "other"


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


def run(seconds: float = 90.0, pages: bool = True) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix="bench-stack-"))
    ensure_jars(JAR_CACHE)
    (home / "kafka" / "jars").mkdir(parents=True)
    jars_dir(home).symlink_to(jars_dir(JAR_CACHE), target_is_directory=True)
    port = free_port()
    env = dict(os.environ)
    env.update(OWSTREAM_HOME=str(home), OWSTREAM_DASHBOARD_PORT=str(port))
    env.setdefault("OWSTREAM_KAFKA_PORT", str(free_port()))
    env.setdefault("OWSTREAM_KAFKA_CONTROLLER_PORT", str(free_port()))
    proc = subprocess.Popen(
        [sys.executable, "-m", "owstream.cli", "up", "--demo", "--no-browser"],
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
    peaks: dict[str, int] = {}
    totals: list[int] = []
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            parts = sample(proc.pid)
            totals.append(sum(parts.values()))
            for part, pss in parts.items():
                peaks[part] = max(peaks.get(part, 0), pss)
            time.sleep(1.0)
        final = sample(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)
        if browser.is_alive():
            browser.join(timeout=60)
    return {
        "up_s": round(up_s, 1),
        "seconds_sampled": seconds,
        "pages_opened": bool(pages and CHROMIUM.exists()),
        "peak_total_mib": round(max(totals) / MIB),
        "mean_total_mib": round(sum(totals) / len(totals) / MIB),
        "final_total_mib": round(sum(final.values()) / MIB),
        "peak_per_part_mib": {k: round(v / MIB) for k, v in sorted(peaks.items())},
        "final_per_part_mib": {k: round(v / MIB) for k, v in sorted(final.items())},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=90.0)
    parser.add_argument("--no-pages", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    figures = run(args.seconds, pages=not args.no_pages)
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
