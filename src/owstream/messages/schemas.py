"""JSON Schema (draft 2020-12) of each message, generated from its model: ``schemas/<name>.schema.json``.

``python -m owstream.messages.schemas`` writes the files; ``--check`` exits 1 when a file and its model
disagree, or when a schema breaks what the last release's copy in ``schemas/released/`` promised
(:mod:`owstream.messages.compat`); the test suite checks the same. ``--release VERSION`` copies the files into
``schemas/released/`` when a version is released (the only way the released copies change).
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import msgspec

from owstream.messages import compat
from owstream.messages.contracts import CONTRACTS

DRAFT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_DIR = Path(__file__).resolve().parents[3] / "schemas"  # in a source checkout
RELEASED = "released"  # SCHEMA_DIR / RELEASED: the schema files of the last release, and RELEASE naming it


def schema(model: str) -> dict[str, Any]:
    """The JSON Schema document of one model (a key of CONTRACTS)."""
    contract = CONTRACTS[model]
    name, version = contract.schema, contract.version
    (top,), defs = msgspec.json.schema_components([contract.json_model], ref_template="#/$defs/{name}")
    generated = {"FetchResult_PlayerSummary__StatsSummary_": "FetchResult"}
    generated |= {key: "HeroStatsAnswer" for key in defs if key.startswith("HeroStatsAnswer_")}  # its long name
    text = json.dumps({"top": top, "defs": defs})
    for old, new in generated.items():
        text = text.replace(f'"#/$defs/{old}"', f'"#/$defs/{new}"')
    renamed = json.loads(text)
    defs = {generated.get(key, key): value for key, value in renamed["defs"].items()}
    for key, value in defs.items():
        if key in generated.values():
            value["title"] = key
    document: dict[str, Any] = {
        "$schema": DRAFT,
        "$id": f"https://github.com/owstream/owstream/schemas/{name}.schema.json",
        "title": f"{name}/{version}",
        "description": contract.description,
        **renamed["top"],
        "$defs": dict(sorted(defs.items())),
    }
    return document


def rendered(model: str) -> str:
    return json.dumps(schema(model), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def path_of(model: str, directory: Path = SCHEMA_DIR) -> Path:
    return directory / f"{CONTRACTS[model].schema}.schema.json"


def stale(directory: Path = SCHEMA_DIR) -> list[str]:
    """The schema files that are missing or differ from their model."""
    out = []
    for model in CONTRACTS:
        file = path_of(model, directory)
        if not file.exists() or file.read_text(encoding="utf-8") != rendered(model):
            out.append(str(file))
    return out


def write(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for model in CONTRACTS:
        path = path_of(model, directory)
        path.write_text(rendered(model), encoding="utf-8")
        paths.append(path)
    return paths


# Breaks of the last release's schemas made on purpose without a new version, each with why no message that
# release wrote can break it (a regular expression over compat.breaks' lines). Review one before adding it.
ACCEPTED: dict[str, str] = {
    r": maximum of (number|integer) narrowed from \S+ to 4102444800(\.0)?$": (
        "times before 2100 (a forged far future made a player 'fetched' for ever); every time 0.1.0 wrote was "
        "its clock's or OverFast's"
    ),
    r"\.(avatar|namecard|frame|role_icon|rank_icon|tier_icon): pattern changed from None to '\^https\?://": (
        "OverFast's image fields are its https URLs; anything else was never one"
    ),
    r"^player-event<(session|rank_change)>\.data\.": (
        "event data bounded as the stats it is derived from already were (counts, amounts, tiers, seasons)"
    ),
}


def incompatible(directory: Path = SCHEMA_DIR) -> list[str]:
    """What the models' schemas break of the released ones (``directory/released``), one line each, but for
    the breaks :data:`ACCEPTED`; a topic with no released schema yet is new and breaks nothing."""
    return [line for line in breaks(directory) if not any(re.search(p, line) for p in ACCEPTED)]


def breaks(directory: Path = SCHEMA_DIR) -> list[str]:
    """Every break of the released schemas, the accepted ones included."""
    out = []
    for model in CONTRACTS:
        released = path_of(model, directory / RELEASED)
        if released.exists():
            out += compat.breaks(json.loads(released.read_text()), schema(model))
    return out


def release(version: str, directory: Path = SCHEMA_DIR) -> list[Path]:
    """Copy the schema files into ``directory/released`` as those of ``version`` (at a release only)."""
    target = directory / RELEASED
    target.mkdir(parents=True, exist_ok=True)
    copied = []
    for model in CONTRACTS:
        copied.append(Path(shutil.copy(path_of(model, directory), target)))
    (target / "RELEASE").write_text(f"{version}\n", encoding="utf-8")
    return copied


def main(argv: list[str]) -> int:
    if "--check" in argv:
        differ = stale()
        for path in differ:
            print(f"{path} differs from its model: run `python -m owstream.messages.schemas`", file=sys.stderr)
        broken = incompatible()
        for line in broken:
            print(f"incompatible with the released schema: {line}", file=sys.stderr)
        return 1 if differ or broken else 0
    if "--release" in argv:
        at = argv.index("--release")
        if at + 1 >= len(argv):
            print("--release needs the version being released", file=sys.stderr)
            return 1
        for copied in release(argv[at + 1]):
            print(f"released {copied}")
        return 0
    for written in write():
        print(f"wrote {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
