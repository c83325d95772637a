"""The simulator's players: deterministic, consistent like OverFast, advancing over time."""

from __future__ import annotations

import json
import urllib.request
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from owstream.domain.battletag import BattleTag
from owstream.simulator import UNKNOWN_PLAYER_ID, Simulator, SimulatorServer

COUNTED = ("games_played", "games_won", "games_lost", "time_played")
TOTALS = ("eliminations", "assists", "deaths", "damage", "healing")


def get(sim: Simulator, target: str) -> tuple[int, Any]:
    answer = sim.handle("GET", target)
    return answer.status, json.loads(answer.body)


def stats(sim: Simulator, player_id: str, gamemode: str | None = None, platform: str | None = None) -> Any:
    query = "&".join(f"{k}={v}" for k, v in (("gamemode", gamemode), ("platform", platform)) if v)
    status, body = get(sim, f"/players/{quote(player_id)}/stats/summary" + (f"?{query}" if query else ""))
    assert status == 200
    return body


def hero_roles(sim: Simulator) -> dict[str, str]:
    return {hero["key"]: hero["role"] for hero in get(sim, "/heroes")[1]}


def check_block(block: dict[str, Any]) -> None:
    """Derived values recomputed from the totals, rounded like OverFast."""
    played, won, lost = block["games_played"], block["games_won"], block["games_lost"]
    assert won + lost == played
    assert block["winrate"] == (round(won / played * 100, 2) if played else 0.0)
    total, tens = block["total"], block["time_played"] / 600
    kills = total["eliminations"] + total["assists"]
    assert block["kda"] == (round(kills / total["deaths"], 2) if total["deaths"] else kills)
    for key in TOTALS:
        assert block["average"][key] == (round(total[key] / tens, 2) if tens else 0.0)


def summed(blocks: list[dict[str, Any]]) -> dict[str, int]:
    sums = {key: sum(b[key] for b in blocks) for key in COUNTED}
    sums |= {key: sum(b["total"][key] for b in blocks) for key in TOTALS}
    return sums


def flat(block: dict[str, Any]) -> dict[str, int]:
    return summed([block])


def check_consistency(sim: Simulator, player_id: str) -> None:
    roles_of = hero_roles(sim)
    for gamemode in (None, "quickplay", "competitive"):
        for platform in (None, "pc", "console"):
            body = stats(sim, player_id, gamemode, platform)
            if not body:
                continue
            for block in [body["general"], *body["roles"].values(), *body["heroes"].values()]:
                check_block(block)
            for role, block in body["roles"].items():
                heroes = [b for key, b in body["heroes"].items() if roles_of[key] == role]
                assert heroes, "a role without heroes must be absent"
                assert summed(heroes) == flat(block)
            assert summed(list(body["roles"].values())) == flat(body["general"])
            assert set(body["roles"]) <= {"tank", "damage", "support"}
    everything = stats(sim, player_id)
    parts = [stats(sim, player_id, mode) for mode in ("quickplay", "competitive")]
    assert summed([p["general"] for p in parts if p]) == flat(everything["general"])
    platforms = [stats(sim, player_id, None, plat) for plat in ("pc", "console")]
    assert summed([p["general"] for p in platforms if p]) == flat(everything["general"])


def test_deterministic_from_the_seed() -> None:
    # one clock for both: a refresh stamps the time, and two real-clock advances may fall in different seconds
    one, two, other = (Simulator(seed=seed, clock=lambda: 1_800_000_000.0) for seed in (11, 11, 12))
    assert one.player_ids() == two.player_ids() != other.player_ids()
    for pid in one.player_ids():
        assert get(one, f"/players/{quote(pid)}") == get(two, f"/players/{quote(pid)}")
    assert one.advance() == two.advance()


@pytest.mark.parametrize("seed", range(6))
def test_players(seed: int) -> None:
    sim = Simulator(seed=seed)
    ids = sim.player_ids()
    assert 8 <= len(ids) <= 12
    assert len(sim.private_player_ids()) == 1
    assert any(not pid.isascii() for pid in ids)
    assert UNKNOWN_PLAYER_ID not in ids
    for pid in ids:
        assert BattleTag.parse(pid).player_id == pid


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32), refreshes=st.integers(0, 4))
def test_stats_are_consistent(seed: int, refreshes: int) -> None:
    sim = Simulator(seed=seed, players=4)
    for _ in range(refreshes):
        sim.advance()
    for pid in sim.player_ids():
        if pid not in sim.private_player_ids():
            check_consistency(sim, pid)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32))
def test_a_refresh_adds_exactly_what_history_records(seed: int) -> None:
    sim = Simulator(seed=seed, players=3)
    pid = sim.player_ids()[0]
    before = {mode: stats(sim, pid, mode) for mode in ("quickplay", "competitive")}
    updated_before = get(sim, f"/players/{quote(pid)}/summary")[1]["last_updated_at"]
    entries = sim.advance(pid)
    assert entries and sim.history(pid) == entries
    assert get(sim, f"/players/{quote(pid)}/summary")[1]["last_updated_at"] > updated_before
    for entry in entries:
        assert entry["wins"] + entry["losses"] == entry["games"] >= 1
        old = before[entry["gamemode"]].get("general") or dict.fromkeys(COUNTED, 0)
        new = stats(sim, pid, entry["gamemode"])["general"]
        assert new["games_played"] - old["games_played"] == entry["games"]
        assert new["games_won"] - old["games_won"] == entry["wins"]
        assert new["games_lost"] - old["games_lost"] == entry["losses"]
        assert new["time_played"] > old["time_played"]
    second = sim.advance(pid)
    assert {e["refresh"] for e in second} == {2}
    assert sim.history(pid) == entries + second


def test_private_player() -> None:
    sim = Simulator(seed=5)
    (pid,) = sim.private_player_ids()
    summary = get(sim, f"/players/{quote(pid)}/summary")[1]
    assert summary["competitive"] is None and summary["last_updated_at"] is None
    assert stats(sim, pid) == {} == stats(sim, pid, "competitive")
    assert get(sim, f"/players/{quote(pid)}")[1]["stats"] is None
    assert sim.advance(pid) == [] and sim.history(pid) == []


def test_unknown_player_retry_after_grows() -> None:
    sim = Simulator(seed=1)
    seen = []
    for _ in range(6):
        status, body = get(sim, f"/players/{UNKNOWN_PLAYER_ID}/summary")
        assert status == 404
        seen.append(body["error"]["retry_after"])
        assert body["error"]["error"] == "Player not found"
    assert seen == [600, 1800, 5400, 16200, 21600, 21600]


def test_bad_gamemode_is_422() -> None:
    sim = Simulator(seed=1)
    pid = sim.player_ids()[0]
    status, body = get(sim, f"/players/{quote(pid)}/stats/summary?gamemode=ranked")
    assert status == 422 and body["detail"][0]["loc"] == ["query", "gamemode"]


def test_advance_every_with_a_fake_clock() -> None:
    now = [1_800_000_000.0]
    sim = Simulator(seed=2, players=3, advance_every=60, clock=lambda: now[0])
    pid = sim.player_ids()[0]
    get(sim, "/heroes")
    assert sim.history(pid) == []
    now[0] += 130
    get(sim, f"/players/{quote(pid)}/summary")
    assert {entry["refresh"] for entry in sim.history(pid)} == {1, 2}


def test_rate_limit_window_with_a_fake_clock() -> None:
    now = [1_800_000_000.0]
    sim = Simulator(seed=2, players=3, clock=lambda: now[0])
    sim.handle("POST", "/_sim/ratelimit", b'{"rps": 3}')
    # nginx limit_req, rate 3/s, burst 5, nodelay: one request plus a burst of 5 at the same instant.
    statuses = [sim.handle("GET", "/roles").status for _ in range(8)]
    assert statuses == [200] * 6 + [429, 429]
    limited = sim.handle("GET", "/roles")
    assert limited.headers["Retry-After"] == "1"
    assert json.loads(limited.body)["error"].startswith("API rate limit reached")
    now[0] += 1.0  # the bucket drains 3 requests per second
    assert [sim.handle("GET", "/roles").status for _ in range(4)] == [200, 200, 200, 429]
    sim.handle("POST", "/_sim/ratelimit", b'{"rps": null}')
    assert {sim.handle("GET", "/roles").status for _ in range(10)} == {200}
    assert sim.served[429] == 4


def test_admin_endpoints_over_http() -> None:
    sim = Simulator(seed=9)
    pid = sim.player_ids()[0]

    def call(method: str, path: str, payload: Any = None) -> tuple[int, Any]:
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(server.url + path, data=data, method=method)
        try:
            with urllib.request.urlopen(request) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    with SimulatorServer(sim) as server:
        assert server.url.startswith("http://127.0.0.1:")
        status, body = call("POST", f"/_sim/advance?player={quote(pid)}", {})
        assert status == 200 and body["entries"]
        assert call("GET", f"/_sim/history/{quote(pid)}") == (200, body["entries"])
        assert call("POST", "/_sim/advance", {})[0] == 200
        assert call("POST", "/_sim/faults", {"status": 503, "count": 2})[0] == 200
        assert call("GET", "/heroes")[0] == 503
        status, body = call("GET", f"/players/{quote(pid)}/summary")
        assert status == 503 and "Blizzard" in body["error"]
        assert call("GET", f"/players/{quote(pid)}/summary")[0] == 200
        assert call("POST", "/_sim/faults", {"huge": 1, "size": 5000})[0] == 200
        with urllib.request.urlopen(server.url + f"/players/{quote(pid)}/summary") as response:
            assert len(response.read()) == 5000
        assert call("POST", "/_sim/faults", {"deep": 1, "depth": 1000})[0] == 200
        with urllib.request.urlopen(server.url + "/heroes") as response:
            assert response.read() == b"[" * 1000 + b"]" * 1000
        assert call("POST", "/_sim/faults", {"trickle": 1, "interval": 0.001})[0] == 200
        with urllib.request.urlopen(server.url + f"/players/{quote(pid)}/summary") as response:
            assert json.loads(response.read())["username"] == pid.rsplit("-", 1)[0]  # whole, if slow
        assert call("POST", "/_sim/faults", {"status": 418})[0] == 400
        assert call("POST", "/_sim/advance?player=Nobody-1", {})[0] == 404


META = "/heroes/stats?platform=pc&gamemode=competitive&region=europe"


def test_hero_stats_are_deterministic_and_drift_when_the_simulator_advances() -> None:
    one, two, other = Simulator(seed=4, players=3), Simulator(seed=4, players=3), Simulator(seed=5, players=3)
    first = get(one, META)[1]
    assert first == get(two, META)[1] != get(other, META)[1]
    assert get(one, META) == get(one, META)  # asking again changes nothing
    one.advance(one.player_ids()[0])  # one player's refresh: the meta stays
    assert get(one, META)[1] == first
    one.advance()
    two.advance()
    moved = get(one, META)[1]
    assert moved == get(two, META)[1]
    before, after = ({r["hero"]: (r["pickrate"], r["winrate"]) for r in rows} for rows in (first, moved))
    assert before.keys() == after.keys()
    assert sum(before[h] != after[h] for h in before) > len(before) // 2  # most heroes moved


def test_hero_stats_filters_and_order() -> None:
    sim = Simulator(seed=4, players=3)
    everyone = get(sim, META)[1]
    assert [r["hero"] for r in everyone] == sorted(r["hero"] for r in everyone)  # hero:asc by default
    roles = hero_roles(sim)
    tanks = get(sim, META + "&role=tank")[1]
    assert tanks and {roles[r["hero"]] for r in tanks} == {"tank"}
    assert tanks == [r for r in everyone if roles[r["hero"]] == "tank"]  # a filter keeps the heroes' numbers
    assert 95 <= sum(r["pickrate"] for r in tanks) <= 105  # one tank per team
    gold = get(sim, META + "&competitive_division=gold")[1]
    assert gold != everyone and {r["hero"] for r in gold} == {r["hero"] for r in everyone}
    by_winrate = get(sim, META + "&order_by=winrate:desc")[1]
    assert [r["winrate"] for r in by_winrate] == sorted((r["winrate"] for r in everyone), reverse=True)
