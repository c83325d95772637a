"""No page renders upstream or visitor text as HTML: Streamlit escapes HTML unless a call allows it, and no
dashboard module makes such a call (``<script>`` in a summary is shown as text; tests/integration/test_forged.py
shows it on the Player page)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

DASHBOARD = Path(__file__).resolve().parents[2] / "src" / "owstream" / "dashboard"
HTML_CALLS = re.compile(r"unsafe_allow_html\s*=\s*True|\bst\.html\(|components\.v1|\.html\(")


# The one HTML the dashboard writes: its own stylesheet, a literal of layout.py with no text of anyone's in it.
ALLOWED = {("layout.py", "st.html(STYLE)")}


def test_no_dashboard_module_renders_html() -> None:
    found = [
        f"{path.relative_to(DASHBOARD)}:{number}: {line.strip()}"
        for path in sorted(DASHBOARD.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if HTML_CALLS.search(line) and (str(path.relative_to(DASHBOARD)), line.strip()) not in ALLOWED
    ]
    assert found == [], "HTML rendered by the dashboard (escape it with layout.plain instead):\n" + "\n".join(found)


def test_the_stylesheet_is_a_constant_with_nothing_filled_in() -> None:
    from owstream.dashboard import layout

    tree = ast.parse((DASHBOARD / "layout.py").read_text())
    assigned = [n for n in ast.walk(tree) if isinstance(n, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id == "STYLE" for t in n.targets)]  # fmt: skip
    assert len(assigned) == 1 and isinstance(assigned[0].value, ast.Constant)  # a literal, not an f-string
    assert layout.STYLE.startswith("<style>") and layout.STYLE.rstrip().endswith("</style>")
    assert "<script" not in layout.STYLE.lower()
