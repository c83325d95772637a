"""Every ``python -m owstream.…`` that the Makefile, the Dockerfile, Compose and the docs run names a module
that exists and runs as a script (``make run`` once called a module the House restructure had moved, and
so always started the demo)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FILES = [
    "Makefile",
    "Dockerfile",
    "compose.yaml",
    "README.md",
    *(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md")),
]
MODULE = re.compile(r"-m (owstream(?:\.[a-z_]+)*)")


def _modules() -> list[tuple[str, str]]:
    found = []
    for name in FILES:
        path = ROOT / name
        if path.exists():
            found += [(name, m) for m in MODULE.findall(path.read_text(encoding="utf-8"))]
    return sorted(set(found))


def test_some_entry_points_are_found() -> None:
    assert ("Makefile", "owstream.runtime.reachability") in _modules()


@pytest.mark.parametrize(("where", "module"), _modules())
def test_each_module_run_with_dash_m_exists_and_runs_as_a_script(where: str, module: str) -> None:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None, f"{where} runs {module}, which does not exist"
    if spec.submodule_search_locations:  # a package: its __main__
        main = Path(spec.origin).with_name("__main__.py")
        assert main.exists(), f"{where} runs the package {module}, which has no __main__.py"
    else:
        assert '__name__ == "__main__"' in Path(spec.origin).read_text(), f"{module} does nothing as a script"
