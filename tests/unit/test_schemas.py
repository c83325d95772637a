"""schemas/*.schema.json are generated from the models and must not drift from them; each is a valid draft
2020-12 schema, and real messages validate (invalid ones do not)."""

from __future__ import annotations

import json

import jsonschema
import pytest

from owstream.messages import codec, schemas
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
