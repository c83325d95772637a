"""Everything the simulator serves validates against the OverFast OpenAPI spec (3.1 = JSON Schema
2020-12), read from ../shared/overfast/openapi.json with its components resolved."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from jsonschema import Draft202012Validator

from owstream.simulator import UNKNOWN_PLAYER_ID, Simulator

SPEC_PATH = Path(__file__).resolve().parents[2].parent / "shared" / "overfast" / "openapi.json"


@cache
def spec() -> dict[str, Any]:
    return json.loads(SPEC_PATH.read_text())


def validator(path: str, status: int) -> Draft202012Validator:
    response = spec()["paths"][path]["get"]["responses"][str(status)]
    schema = response["content"]["application/json"]["schema"]
    return Draft202012Validator({**schema, "components": spec()["components"]})


def component(name: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"#/components/schemas/{name}", "components": spec()["components"]})


def assert_valid(checker: Draft202012Validator, body: Any) -> None:
    errors = sorted(checker.iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


def fetch(sim: Simulator, target: str, status: int = 200) -> Any:
    answer = sim.handle("GET", target)
    assert answer.status == status, answer.body[:300]
    return json.loads(answer.body)


@pytest.fixture(scope="module")
def sim() -> Simulator:
    simulator = Simulator(seed=21)
    simulator.advance()
    return simulator


def test_spec_sanity() -> None:
    # the validators really check something: a wrong summary is rejected
    with pytest.raises(AssertionError):
        assert_valid(validator("/players/{player_id}/summary", 200), {"username": 3})


@pytest.mark.parametrize("static", ["/heroes", "/roles", "/gamemodes"])
def test_static_endpoints(sim: Simulator, static: str) -> None:
    answer = sim.handle("GET", static)
    assert answer.headers["X-Cache-TTL"] == "600"
    assert_valid(validator(static, 200), json.loads(answer.body))


def test_every_player_endpoint(sim: Simulator) -> None:
    summary, stats, player = (
        validator("/players/{player_id}/summary", 200),
        validator("/players/{player_id}/stats/summary", 200),
        validator("/players/{player_id}", 200),
    )
    for pid in sim.player_ids():
        base = f"/players/{quote(pid)}"
        answer = sim.handle("GET", f"{base}/summary")
        assert answer.headers["Cache-Control"] == "public, max-age=600"
        assert_valid(summary, json.loads(answer.body))
        assert_valid(player, fetch(sim, base))
        for gamemode in ("", "quickplay", "competitive"):
            for platform in ("", "pc", "console"):
                query = "&".join(
                    f"{key}={value}" for key, value in (("gamemode", gamemode), ("platform", platform)) if value
                )
                assert_valid(stats, fetch(sim, f"{base}/stats/summary?{query}"))


def test_error_bodies(sim: Simulator) -> None:
    pid = quote(sim.player_ids()[0])
    # The real app nests the documented 404 body under "error" (recorded in responses/): validate the inside.
    body = fetch(sim, f"/players/{UNKNOWN_PLAYER_ID}/summary", 404)
    assert_valid(component("PlayerNotFoundError"), body["error"])
    assert_valid(
        validator("/players/{player_id}/stats/summary", 422),
        fetch(sim, f"/players/{pid}/stats/summary?gamemode=x", 422),
    )
    for status in (429, 503, 504, 500):
        sim.handle("POST", "/_sim/faults", json.dumps({"status": status, "count": 1}).encode())
        assert_valid(validator("/players/{player_id}/summary", status), fetch(sim, f"/players/{pid}/summary", status))
