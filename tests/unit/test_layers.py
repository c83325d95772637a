"""The layout is the architecture (docs/architecture.md): each layer imports only the layers drawn below it,
each vendor library is imported only in the package that owns it, the domain does no I/O, and at most six
modules sit at the package root. Read from the source (ast), so it also holds for imports inside functions."""

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
    """The top-level packages a module imports (``whole``: the full module names, e.g. ``urllib.parse``, and
    ``owstream.logs`` for ``from owstream import logs``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            if node.module == "owstream":  # from owstream import logs
                names.update(f"owstream.{alias.name}" for alias in node.names)
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


# The drawing of docs/architecture.md, bottom up: a module imports owstream only from a lower rank or its own
# package (plus the few sideways steps listed).
RANK: dict[str, int] = {
    "words": 0,  # domain/vocabulary.py: imports nothing of owstream
    "root": 1,  # config, errors, retry, logs, processes
    "messages": 2,  # the wire models and codec: the kernel below the domain
    "domain": 3,
    "bus": 4, "overfast": 4, "store": 4, "localkafka": 4, "simulator": 4,  # adapters
    "services": 5,
    "runtime": 6,
    "cli": 7, "dashboard": 7,  # interfaces
}  # fmt: skip
SIDEWAYS = {("localkafka", "bus"), ("cli", "dashboard"), ("dashboard", "cli")}


def _layer_of(relative: str) -> str:
    if relative == "domain/vocabulary.py":
        return "words"
    return relative.split("/", maxsplit=1)[0] if "/" in relative else "root"


def _target(module: str) -> str | None:
    """The layer of an imported ``owstream...`` module (None: not owstream's)."""
    parts = module.split(".")
    if parts[0] != "owstream" or len(parts) == 1:
        return None
    if parts[1:3] == ["domain", "vocabulary"]:
        return "words"
    return parts[1] if (PACKAGE / parts[1]).is_dir() else "root"


def test_each_layer_imports_only_the_layers_below_it() -> None:
    wrong = []
    for path in _modules():
        source = _layer_of(path.relative_to(PACKAGE).as_posix())
        for module in _imports(path, whole=True):
            target = _target(module)
            if target is None or target == source or (source, target) in SIDEWAYS:
                continue
            if RANK[target] >= RANK[source]:
                wrong.append(f"{path.relative_to(PACKAGE)} ({source}) imports {module} ({target})")
    assert wrong == [], "imports against the drawing of docs/architecture.md:\n" + "\n".join(sorted(wrong))


def test_the_services_do_not_import_the_runner_that_makes_them() -> None:
    wrong = [
        path.name
        for path in (PACKAGE / "services").glob("*.py")
        if path.name != "runner.py" and "owstream.services.runner" in _imports(path, whole=True)
    ]
    assert wrong == []


def test_the_vocabulary_imports_nothing_of_owstream() -> None:
    assert {m for m in _imports(PACKAGE / "domain" / "vocabulary.py", whole=True) if m.startswith("owstream")} == set()


def test_at_most_six_modules_at_the_package_root() -> None:
    root = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(root) <= 6, root


def test_modules_stay_small() -> None:
    long = {str(p.relative_to(PACKAGE)): n for p in _modules() if (n := len(p.read_text().splitlines())) > 450}
    assert long == {}, f"modules over 450 lines: {long}"


def test_the_cli_choices_are_the_vocabulary_words() -> None:
    """typer needs Enum classes for its choices: each one is the vocabulary's list, nothing added or missing."""
    from owstream.cli import main as cli
    from owstream.domain import vocabulary as words

    assert [m.value for m in cli.Gamemode] == list(words.GAMEMODES)
    assert [m.value for m in cli.Platform] == list(words.PLATFORMS)
    assert [m.value for m in cli.Region] == list(words.REGIONS)
    assert [m.value for m in cli.Division] == ["all", *words.META_DIVISIONS]
    assert [m.value for m in cli.Service] == [*words.SERVICES, "dashboard", "services"]
    from owstream.store.exports import TABLES  # sqlalchemy: the CLI cannot import it at start, so it copies it

    assert [m.value for m in cli.ExportTable] == list(TABLES)
