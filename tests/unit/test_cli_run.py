"""``owstream run``'s options mean what they say: ``--ready-file`` is refused for the dashboard (which becomes
Streamlit and is ready when its health check answers) instead of being accepted and ignored."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from owstream.config import Settings
from support.env import owstream_env


def test_run_dashboard_refuses_a_ready_file_it_would_never_write(tmp_path: Path) -> None:
    ready = tmp_path / "dashboard.ready"
    env = owstream_env(Settings(home=tmp_path / "home", dashboard_port=9))  # nothing may start listening
    proc = subprocess.run(
        [sys.executable, "-m", "owstream.cli", "run", "dashboard", "--ready-file", str(ready)],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "--ready-file is for the Python services" in lines[0], proc.stderr
    assert "/_stcore/health" in lines[0]
    assert not ready.exists()
