"""schemas/*.schema.json are generated from the models and must not drift from them; each is a valid draft
2020-12 schema, real messages validate (invalid ones do not), and none breaks what the last release's schemas
(schemas/released/) promised: a removed, retyped or newly required field fails."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from owstream.messages import codec, compat, schemas
from owstream.messages.contracts import CONTRACTS
from owstream.messages.models import FetchRequest
from support.results import encoded, ok_result


def test_every_schema_file_is_what_its_model_generates() -> None:
    assert schemas.stale() == [], "run `python -m owstream.messages.schemas` and commit the files"


@pytest.mark.parametrize("model", sorted(CONTRACTS))
def test_each_file_is_a_draft_2020_12_schema(model: str) -> None:
    document = json.loads(schemas.path_of(model).read_text())
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(document)


def _validator(model: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(schemas.path_of(model).read_text()))


def test_real_messages_validate_and_broken_ones_do_not() -> None:
    result = json.loads(encoded(ok_result("TeKrop-2217", "r1", 1.0)))
    assert list(_validator("FetchResult").iter_errors(result)) == []
    result["stats"]["quickplay"]["heroes"]["ana"]["games_played"] = -1
    assert list(_validator("FetchResult").iter_errors(result))
    request = json.loads(codec.encode(FetchRequest(player_id="TeKrop-2217")))
    assert list(_validator("FetchRequest").iter_errors(request)) == []
    assert list(_validator("FetchRequest").iter_errors({"player_id": "Te#Krop"}))
    assert list(_validator("FetchRequest").iter_errors({"force": True}))


# --- compatibility with the last release (schemas/released/) -----------------------------------------------


def _current(model: str) -> dict[str, Any]:
    return copy.deepcopy(schemas.schema(model))


def test_the_released_schemas_are_kept_with_the_version_they_came_with() -> None:
    released = schemas.SCHEMA_DIR / schemas.RELEASED
    assert (released / "RELEASE").read_text().strip()  # which release these are
    for model, contract in CONTRACTS.items():
        document = json.loads(schemas.path_of(model, released).read_text())
        assert compat.version(document) == (contract.schema, contract.version), model


def test_no_schema_breaks_what_the_last_release_promised() -> None:
    assert schemas.incompatible() == [], "a deliberate break is a new version: see owstream/messages/compat.py"


def test_every_accepted_break_is_one_the_schemas_make() -> None:
    found = schemas.breaks()
    for pattern in schemas.ACCEPTED:  # an accepted break no schema makes any more is taken off the list
        assert any(re.search(pattern, line) for line in found), pattern


def _defs(document: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = document["$defs"][name]
    return found


def _remove_a_field(d: dict[str, Any]) -> None:
    del _defs(d, "FetchResult")["properties"]["retry_after"]


def _retype_a_field(d: dict[str, Any]) -> None:
    _defs(d, "StatBlock")["properties"]["games_played"]["type"] = "string"


def _widen_a_type(d: dict[str, Any]) -> None:
    _defs(d, "StatBlock")["properties"]["games_played"]["type"] = ["integer", "null"]


def _require_a_field(d: dict[str, Any]) -> None:
    _defs(d, "FetchResult")["required"].append("error")


def _require_a_new_field(d: dict[str, Any]) -> None:
    _defs(d, "FetchResult")["properties"]["platform"] = {"type": "string"}
    _defs(d, "FetchResult")["required"].append("platform")


def _remove_a_value(d: dict[str, Any]) -> None:
    _defs(d, "Rank")["properties"]["division"]["enum"].remove("ultimate")


def _narrow_a_bound(d: dict[str, Any]) -> None:
    _defs(d, "PlayerSummary")["properties"]["username"]["maxLength"] = 32


def _change_a_pattern(d: dict[str, Any]) -> None:
    _defs(d, "FetchResult")["properties"]["player_id"]["pattern"] = "^[A-Za-z]+-[0-9]+$"


def _older_version(d: dict[str, Any]) -> None:
    d["title"] = "fetch-result/0"


BREAKS = {
    "a removed field": (_remove_a_field, "fetch-result.retry_after: removed"),
    "a retyped field": (_retype_a_field, "games_played: retyped from integer to string"),
    "a wider type": (_widen_a_type, "games_played: retyped from integer to integer|null"),
    "a field made required": (_require_a_field, "fetch-result.error: now required"),
    "a new required field": (_require_a_new_field, "fetch-result.platform: a new required field"),
    "an enumerated value removed": (_remove_a_value, "division: values removed: [\"'ultimate'\"]"),
    "a narrowed bound": (_narrow_a_bound, "username: maxLength of string narrowed from 64 to 32"),
    "a changed pattern": (_change_a_pattern, "fetch-result.player_id: pattern changed"),
    "an older version": (_older_version, "version 0 is older than the released 1"),
}


@pytest.mark.parametrize("change", sorted(BREAKS))
def test_a_change_that_breaks_released_messages_or_readers_is_refused(change: str) -> None:
    edit, expected = BREAKS[change]
    released = json.loads(schemas.path_of("FetchResult", schemas.SCHEMA_DIR / schemas.RELEASED).read_text())
    current = _current("FetchResult")
    accepted = set(compat.breaks(released, current))  # schemas.ACCEPTED's, if any
    assert not schemas.incompatible()
    edit(current)
    found = set(compat.breaks(released, current)) - accepted
    assert any(expected in line for line in found), found


def test_an_event_type_removed_is_refused_and_one_added_is_not() -> None:
    released = json.loads(schemas.path_of("PlayerEvent", schemas.SCHEMA_DIR / schemas.RELEASED).read_text())
    removed = _current("PlayerEvent")
    del removed["discriminator"]["mapping"]["rank_change"]
    assert "player-event<rank_change>: removed" in compat.breaks(released, removed)
    added = _current("PlayerEvent")
    added["discriminator"]["mapping"]["expired"] = "#/$defs/PlayerNotFound"
    assert compat.breaks(released, added) == compat.breaks(released, _current("PlayerEvent"))


def test_additions_and_declared_versions_are_compatible() -> None:
    released = json.loads(schemas.path_of("FetchResult", schemas.SCHEMA_DIR / schemas.RELEASED).read_text())
    accepted = compat.breaks(released, _current("FetchResult"))  # schemas.ACCEPTED's, if any
    grown = _current("FetchResult")
    _defs(grown, "FetchResult")["properties"]["platform"] = {"type": "string", "default": "pc"}  # optional
    _defs(grown, "Rank")["properties"]["division"]["enum"].append("champion")  # a vocabulary grows
    _defs(grown, "PlayerSummary")["properties"]["username"]["maxLength"] = 128  # a bound widened
    assert compat.breaks(released, grown) == accepted
    bumped = _current("FetchResult")
    _remove_a_field(bumped)
    bumped["title"] = "fetch-result/2"  # a declared break: the reader reads both versions
    assert compat.breaks(released, bumped) == []


def test_a_release_copies_every_file_and_names_the_version(tmp_path: Path) -> None:
    schemas.write(tmp_path)
    copied = schemas.release("9.9.9", tmp_path)
    assert sorted(p.name for p in copied) == sorted(schemas.path_of(m).name for m in CONTRACTS)
    assert (tmp_path / schemas.RELEASED / "RELEASE").read_text() == "9.9.9\n"
    assert schemas.incompatible(tmp_path) == []
