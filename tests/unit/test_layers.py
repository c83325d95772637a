"""The layout is the architecture: each vendor library is imported only in the package that owns it, the
domain does no I/O, and at most six modules sit at the package root. Read from the source (ast), so it also
holds for imports inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "owstream"

# library -> the modules (relative to src/owstream, a trailing "/" for a whole package) that may import it
OWNERS: dict[str, tuple[str, ...]] = {
    "confluent_kafka": ("bus/",),
    "httpx": ("overfast/",),
    "streamlit": ("dashboard/",),
    "altair": ("dashboard/",),
    "sqlalchemy": ("store/",),
    "pandas": ("dashboard/", "cli/export.py"),
    "pyarrow": ("cli/export.py",),
    "msgspec": ("messages/",),
    "zstandard": ("messages/codec.py",),
    "pydantic": (),
    "pydantic_settings": (),
}
# what the pure domain may not touch
IO_MODULES = {
    "socket", "subprocess", "sqlite3", "urllib.request", "http", "threading", "asyncio", "os", "pathlib", "time",
}  # fmt: skip


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _imports(path: Path, *, whole: bool = False) -> set[str]:
    """The top-level packages a module imports (``whole``: the full module names, e.g. ``urllib.parse``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names if whole else {name.split(".")[0] for name in names}


def _owned(relative: str, owners: tuple[str, ...]) -> bool:
    return any(relative.startswith(owner) if owner.endswith("/") else relative == owner for owner in owners)


@pytest.mark.parametrize("library", sorted(OWNERS))
def test_each_vendor_library_is_imported_only_by_its_owner(library: str) -> None:
    wrong = [
        str(path.relative_to(PACKAGE))
        for path in _modules()
        if library in _imports(path) and not _owned(path.relative_to(PACKAGE).as_posix(), OWNERS[library])
    ]
    assert wrong == [], f"{library} is imported outside {OWNERS[library] or 'owstream'}: {wrong}"


def test_the_domain_does_no_io_and_imports_no_vendor_library() -> None:
    allowed_vendor = {"owstream"}
    for path in (PACKAGE / "domain").glob("*.py"):
        names = _imports(path)
        io = {n for n in _imports(path, whole=True) if n in IO_MODULES or n.split(".")[0] in IO_MODULES - {"urllib"}}
        assert not io, f"{path.name} imports {io}"
        vendors = {n for n in names if n in OWNERS or n in {"confluent_kafka", "httpx"}} - allowed_vendor
        assert not vendors, f"{path.name} imports {vendors}"


def test_at_most_six_modules_at_the_package_root() -> None:
    root = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(root) <= 6, root


def test_modules_stay_small() -> None:
    long = {str(p.relative_to(PACKAGE)): n for p in _modules() if (n := len(p.read_text().splitlines())) > 450}
    assert long == {}, f"modules over 450 lines: {long}"
