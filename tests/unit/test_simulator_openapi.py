"""Everything the simulator serves validates against the OverFast OpenAPI spec (3.1 = JSON Schema
2020-12), read from tests/fixtures/overfast/openapi.json with its components resolved."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from jsonschema import Draft202012Validator

from owstream.simulator import UNKNOWN_PLAYER_ID, Simulator

SPEC_PATH = Path(__file__).resolve().parents[1] / "fixtures" / "overfast" / "openapi.json"


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


# --- /heroes/stats: the meta -------------------------------------------------------------------------------

RECORDED_HERO_STATS = SPEC_PATH.parent / "responses" / "heroes_stats_console_competitive_europe_master.json"
RECORDED_HERO_STATS_HEADERS = (
    SPEC_PATH.parent / "responses" / "headers" / "heroes_stats_console_competitive_europe_master.txt"
)
EU = "platform=pc&gamemode=competitive&region=europe"
ENUMS3 = [("enum", "platform"), ("enum", "gamemode"), ("enum", "region")]
DIVISIONS = ("", "bronze", "silver", "gold", "platinum", "diamond", "master", "grandmaster")


def hero_stats_query(**params: str) -> str:
    return "/heroes/stats?" + "&".join(f"{key}={value}" for key, value in params.items() if value)


def recorded_headers(path: Path) -> dict[str, str]:
    lines = path.read_text().splitlines()[1:]
    return {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines) if value}


def test_hero_stats_answers_validate_for_every_combination(sim: Simulator) -> None:
    checker = validator("/heroes/stats", 200)
    headers_spec = spec()["paths"]["/heroes/stats"]["get"]["responses"]["200"]["headers"]
    status_values = headers_spec["X-Cache-Status"]["schema"]["enum"]
    for platform in ("pc", "console"):
        for region in ("americas", "europe", "asia"):
            for gamemode, divisions in (("competitive", DIVISIONS), ("quickplay", ("",))):
                for division in divisions:
                    answer = sim.handle(
                        "GET", hero_stats_query(platform=platform, gamemode=gamemode, region=region,
                                                competitive_division=division),
                    )  # fmt: skip
                    assert answer.status == 200, answer.body[:300]
                    assert answer.headers["X-Cache-TTL"] == "3600"  # the spec: "Cache TTL : 1 hour."
                    assert answer.headers["Cache-Control"] == "public, max-age=3600"
                    assert answer.headers["X-Cache-Status"] in status_values
                    assert_valid(checker, json.loads(answer.body))


@pytest.mark.parametrize(
    "extra",
    [{"role": "tank"}, {"role": "support"}, {"map": "hanaoka"}, {"order_by": "winrate:desc"},
     {"order_by": "pickrate:asc", "role": "damage", "map": "kings-row", "competitive_division": "gold"}],
)  # fmt: skip
def test_hero_stats_optional_filters_validate(sim: Simulator, extra: dict[str, str]) -> None:
    body = fetch(sim, hero_stats_query(platform="pc", gamemode="competitive", region="europe", **extra))
    assert body
    assert_valid(validator("/heroes/stats", 200), body)


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ("", [("missing", "platform"), ("missing", "gamemode"), ("missing", "region")]),
        ("platform=pc&gamemode=competitive", [("missing", "region")]),
        ("platform=switch&gamemode=ranked&region=moon", ENUMS3),
        ("platform=&gamemode=competitive&region=europe", [("enum", "platform")]),
        (f"{EU}&competitive_division=ultimate", [("enum", "competitive_division")]),
        (f"{EU}&role=healer&map=moon", [("enum", "role"), ("enum", "map")]),
        (f"{EU}&order_by=kda:desc", [("string_pattern_mismatch", "order_by")]),
    ],
)  # fmt: skip
def test_hero_stats_validation_errors_in_fastapi_shape(
    sim: Simulator, query: str, errors: list[tuple[str, str]]
) -> None:
    body = fetch(sim, f"/heroes/stats?{query}", 422)
    assert_valid(validator("/heroes/stats", 422), body)
    assert [(e["type"], e["loc"][1]) for e in body["detail"]] == errors
    assert all(e["loc"][0] == "query" for e in body["detail"])
    for error in body["detail"]:
        if error["type"] == "missing":
            assert (error["msg"], error["input"]) == ("Field required", None)
        if error["type"] == "enum":  # pydantic: "Input should be 'europe', 'americas' or 'asia'"
            assert error["msg"] == f"Input should be {error['ctx']['expected']}"
    enum = {e["loc"][1]: e for e in body["detail"] if e["type"] == "enum"}
    if "region" in enum:
        assert enum["region"]["msg"] == "Input should be 'europe', 'americas' or 'asia'"  # the spec's order
    if "platform" in enum:
        assert enum["platform"]["ctx"]["expected"] == "'console' or 'pc'"


def test_hero_stats_has_the_shape_of_the_recorded_answer(sim: Simulator) -> None:
    recorded = json.loads(RECORDED_HERO_STATS.read_text())
    assert_valid(validator("/heroes/stats", 200), recorded)  # the recorded answer itself, checked by the spec
    answer = sim.handle(
        "GET", "/heroes/stats?platform=console&gamemode=competitive&region=europe&competitive_division=master"
        "&order_by=pickrate:desc",
    )  # fmt: skip
    simulated = json.loads(answer.body)
    assert [sorted(row) for row in simulated] == [["hero", "pickrate", "winrate"]] * len(simulated)
    assert {tuple(sorted(row)) for row in recorded} == {("hero", "pickrate", "winrate")}
    heroes = set(spec()["components"]["schemas"]["HeroKey"]["enum"])
    assert {row["hero"] for row in simulated} <= heroes
    assert len({row["hero"] for row in simulated}) == len(simulated)  # one row per hero, like the recording
    for rows in (recorded, simulated):
        assert [r["pickrate"] for r in rows] == sorted((r["pickrate"] for r in rows), reverse=True)  # order_by
        assert all(round(r[k], 1) == r[k] for r in rows for k in ("pickrate", "winrate"))  # one decimal
        assert 300 < sum(r["pickrate"] for r in rows) < 600  # ~5 heroes picked per team and game
        assert 30 < sum(r["winrate"] for r in rows) / len(rows) < 70
    wanted = recorded_headers(RECORDED_HERO_STATS_HEADERS)
    got = {name.lower(): value for name, value in answer.headers.items()}
    for name in ("x-cache-ttl", "cache-control", "x-cache-status"):
        assert got[name] == wanted[name], name


# --- /players?name=: the search ------------------------------------------------------------------------------


def test_the_search_answers_as_overfast_does() -> None:
    checker = validator("/players", 200)
    twins = Simulator(seed=3, players=["Rook-1111", "Quiet-4444", "Rook-2222", "Nova-3333"])
    single = fetch(twins, "/players?name=Nova-3333")
    assert_valid(checker, single)
    (hit,) = single["results"]
    nova = twins.player("Nova-3333")
    assert nova is not None
    # a single hit is labelled with the search input; the number after the # is nowhere else
    assert (hit["player_id"], hit["name"]) == ("Nova-3333", "Nova")
    assert hit["blizzard_id"] == nova.blizzard_id.replace("|", "%7C") and hit["is_public"] is True
    assert hit["last_updated_at"] == nova.last_updated_at
    labelled = fetch(twins, "/players?name=Nova-9999")  # OverFast #382: another number, the same label
    assert labelled["results"][0]["player_id"] == "Nova-9999"
    several = fetch(twins, "/players?name=Rook-1111")
    assert_valid(checker, several)
    assert several["total"] == 2 and all("%7C" in h["player_id"] for h in several["results"])
    assert fetch(twins, "/players?name=rook")["total"] == 0  # names are compared case-sensitively
    assert fetch(twins, "/players?name=Quiet")["total"] == 0  # the private profile (the second) is not listed
    assert fetch(twins, "/players?name=Rook&limit=1")["total"] == 2
    assert len(fetch(twins, "/players?name=Rook&limit=1")["results"]) == 1
    fetch(twins, "/players", 422)
    fetch(twins, "/players?name=Rook&order_by=bogus", 422)


def test_a_player_is_answered_by_its_blizzard_id_too(sim: Simulator) -> None:
    pid = next(p for p in sim.player_ids() if p not in sim.private_player_ids())
    player = sim.player(pid)
    assert player is not None
    by_id = fetch(sim, f"/players/{quote(player.blizzard_id, safe='')}/summary")
    assert by_id == fetch(sim, f"/players/{quote(pid)}/summary")
    assert_valid(validator("/players/{player_id}/summary", 200), by_id)
