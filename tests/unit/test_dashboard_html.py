"""No page renders upstream or visitor text as HTML: Streamlit escapes HTML unless a call allows it, and no
dashboard module makes such a call (``<script>`` in a summary is shown as text; tests/integration/test_forged.py
shows it on the Player page)."""

from __future__ import annotations

import re
from pathlib import Path

DASHBOARD = Path(__file__).resolve().parents[2] / "src" / "owstream" / "dashboard"
HTML_CALLS = re.compile(r"unsafe_allow_html\s*=\s*True|\bst\.html\(|components\.v1|\.html\(")


def test_no_dashboard_module_renders_html() -> None:
    found = [
        f"{path.relative_to(DASHBOARD)}:{number}: {line.strip()}"
        for path in sorted(DASHBOARD.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if HTML_CALLS.search(line)
    ]
    assert found == [], "HTML rendered by the dashboard (escape it with layout.plain instead):\n" + "\n".join(found)
