"""JSON Schema (draft 2020-12) of each message, generated from its model: ``schemas/<name>.schema.json``.

``python -m owstream.messages.schemas`` writes the files; ``--check`` exits 1 when a file and its model
disagree (the test suite checks the same).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import msgspec

from owstream.messages.contracts import CONTRACTS

DRAFT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_DIR = Path(__file__).resolve().parents[3] / "schemas"  # in a source checkout


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


def main(argv: list[str]) -> int:
    if "--check" in argv:
        differ = stale()
        for path in differ:
            print(f"{path} differs from its model: run `python -m owstream.messages.schemas`", file=sys.stderr)
        return 1 if differ else 0
    for written in write():
        print(f"wrote {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
