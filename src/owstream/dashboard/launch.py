"""``owstream run dashboard``: becomes ``streamlit run app.py`` (through :mod:`owstream.dashboard.serve`,
which imports the pages first)."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from owstream.config import Settings

log = logging.getLogger(__name__)

APP = Path(__file__).resolve().parent / "app.py"
WILDCARDS = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 - compared, not bound
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
        sys.executable, "-m", "owstream.dashboard.serve", "run", str(APP),
        "--server.headless", "true",
        "--server.address", address or settings.dashboard_address,
        "--server.port", str(port or settings.dashboard_port),
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
        "--client.toolbarMode", "viewer",
    ]  # fmt: skip
    if (address or settings.dashboard_address) in WILDCARDS:
        # Streamlit prints the URLs to open; for an address of every interface it first looks up this
        # machine's external IP on the internet (checkip.amazonaws.com), which stalls the server's start where
        # that is slow or unreachable (a container behind a proxy). A browser address of its own skips it.
        argv += ["--browser.serverAddress", "localhost"]
    for name, value in THEME.items():
        argv += [f"--{name}", value]
    return argv


def run_dashboard(settings: Settings) -> int:
    """Become the dashboard: this process is replaced by ``streamlit run app.py`` (exec: no Python process
    left waiting for a child, signals reach Streamlit itself). The environment passes through unchanged, so
    the app reads the same OWSTREAM_* settings. Returns only if the exec fails."""
    argv = streamlit_command(settings)
    log.info("dashboard on http://%s:%s", settings.dashboard_address, settings.dashboard_port)
    for handler in logging.getLogger().handlers:
        handler.flush()
    try:
        os.execv(argv[0], argv)  # noqa: S606 - a fixed argv: this interpreter running streamlit
    except OSError as exc:
        log.error("cannot start Streamlit (%s): %s", argv[0], exc)
    return 1
