"""``owstream run dashboard``: ``streamlit run app.py`` in the foreground, signals forwarded."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType

from owstream.config import Settings

log = logging.getLogger(__name__)

APP = Path(__file__).resolve().parent / "app.py"
THEME = {
    "theme.base": "light",
    "theme.primaryColor": "#F99E1A",  # Overwatch orange
    "theme.backgroundColor": "#FFFFFF",
    "theme.secondaryBackgroundColor": "#F0F2F6",
    "theme.textColor": "#1F2430",
}


def streamlit_command(settings: Settings, port: int | None = None, address: str | None = None) -> list[str]:
    """The argv that serves the dashboard (the e2e test runs the same)."""
    argv = [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.headless", "true",
        "--server.address", address or settings.dashboard_address,
        "--server.port", str(port or settings.dashboard_port),
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
        "--client.toolbarMode", "viewer",
    ]  # fmt: skip
    for name, value in THEME.items():
        argv += [f"--{name}", value]
    return argv


def run_dashboard(settings: Settings) -> int:
    """Serve the dashboard until it exits or SIGTERM/SIGINT arrives (forwarded); returns its exit status.

    The environment passes through unchanged, so the app reads the same OWSTREAM_* settings."""
    argv = streamlit_command(settings)
    log.info("dashboard on http://%s:%s", settings.dashboard_address, settings.dashboard_port)
    proc = subprocess.Popen(argv, env=os.environ.copy())

    def forward(signum: int, _frame: FrameType | None) -> None:
        if proc.poll() is None:
            proc.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        return proc.wait()
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)
