"""Stats rows only for blocks that changed (migration 0003), on SQLite and PostgreSQL: what a changed snapshot
writes, ``removed`` rows for vanished blocks, what readers see, and warm vs cold writer caches."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from test_store import history

from owstream.messages.models import PlayerEvent
from owstream.store import SourcedResult, Store, schema
from support.databases import fresh_database, table_dump
from support.results import Result, add, advanced, data, encoded, ok_result, plain, replace, stored

TOPIC = "owstream.fetch-results"
PLAYER = "TeKrop-2217"
Key = tuple[str, str, str]  # gamemode, scope, key


@pytest.fixture
def other_url(store_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A second, empty store of the same kind as ``store``."""
    if store_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path}/other/owstream.db"
    server: str = request.getfixturevalue("postgres")
    return fresh_database(server, f"o{abs(hash(request.node.nodeid)) % 10**12}")


def sourced(results: Sequence[Result]) -> list[SourcedResult]:
    """Results as the processor gets them (the Kafka value kept)."""
    return [SourcedResult(stored(r), TOPIC, 0, offset, encoded(r)) for offset, r in enumerate(results)]


def played(
    result: Result, result_id: str, at: float, mode: str, hero: str, role: str, games: tuple[int, int, int]
) -> Result:
    """``result`` an hour later with ``games`` (won, lost, seconds) added to one hero of one gamemode."""
    summary, stats = copy.deepcopy(result.summary), copy.deepcopy(result.stats)
    assert summary is not None
    summary["last_updated_at"] += 3600
    body = stats[mode]
    for block in (body["heroes"][hero], body["roles"][role], body["general"]):
        add(block, *games)
    return replace(
        result, result_id=result_id, request_ids=[f"req-{result_id}"], fetched_at=at, summary=summary, stats=stats
    )


def without_cassidy(result: Result, result_id: str, at: float) -> Result:
    """``result`` a day later with cassidy (TeKrop's only competitive damage hero) and the damage role gone."""
    summary, stats = copy.deepcopy(result.summary), copy.deepcopy(result.stats)
    assert summary is not None
    summary["last_updated_at"] += 86400
    body = stats["competitive"]
    cassidy = body["heroes"].pop("cassidy")
    del body["roles"]["damage"]
    general = body["general"]
    for name in ("games_played", "games_won", "games_lost", "time_played"):
        general[name] -= cassidy[name]
    update = {"result_id": result_id, "request_ids": [f"req-{result_id}"], "fetched_at": at}
    return replace(result, **update, summary=summary, stats=stats)


def with_cassidy_again(result: Result, result_id: str, at: float, games: tuple[int, int, int]) -> Result:
    """``result`` an hour later with cassidy (and the damage role) back, ``games`` played on her."""
    summary, stats = copy.deepcopy(result.summary), copy.deepcopy(result.stats)
    assert summary is not None
    summary["last_updated_at"] += 3600
    body = stats["competitive"]
    won, lost, seconds = games
    fresh: dict[str, Any] = {
        "games_played": 0,
        "games_won": 0,
        "games_lost": 0,
        "time_played": 0,
        "winrate": 100.0 * won / (won + lost),
        "kda": 2.5,
        "total": dict.fromkeys(("eliminations", "assists", "deaths", "damage", "healing"), 0),
        "average": {"eliminations": 20.5, "assists": 1.25, "deaths": 8.0, "damage": 9000.75, "healing": 0.0},
    }
    body["heroes"]["cassidy"], body["roles"]["damage"] = fresh, copy.deepcopy(fresh)
    for block in (body["heroes"]["cassidy"], body["roles"]["damage"], body["general"]):
        add(block, won, lost, seconds)
    update = {"result_id": result_id, "request_ids": [f"req-{result_id}"], "fetched_at": at}
    return replace(result, **update, summary=summary, stats=stats)


def stats_of(store: Store, result_id: str) -> dict[Key, dict[str, Any]]:
    """The ``stats`` rows written with one snapshot, by (gamemode, scope, key)."""
    s, st = schema.snapshots, schema.stats
    with store.engine.connect() as conn:
        rows = conn.execute(select(st).join(s, s.c.id == st.c.snapshot_id).where(s.c.result_id == result_id))
        return {(r["gamemode"], r["scope"], r["key"]): dict(r) for r in rows.mappings()}


def every_key(result: Result) -> set[Key]:
    keys: set[Key] = set()
    for mode, body in result.stats.items():
        keys |= {(mode, "overall", "all")} | {(mode, "role", k) for k in body["roles"]}
        keys |= {(mode, "hero", k) for k in body["heroes"]}
    return keys


def assert_report_is(store: Store, result: Result) -> None:
    """The player report shows every block of ``result``'s JSON, field for field, and nothing else."""
    report = store.player_report(result.player_id)
    assert report is not None
    assert set(report["gamemodes"]) == set(result.stats)
    for mode, body in result.stats.items():
        stored = report["gamemodes"][mode]
        assert stored["overall"] == body["general"]
        assert stored["roles"] == body["roles"]
        assert stored["heroes"] == body["heroes"]


def dump_events(events: list[PlayerEvent]) -> list[dict[str, Any]]:
    return [plain(e) for e in events]


# --- what a changed snapshot writes ---------------------------------------------------------------


def test_one_hero_played_writes_overall_rows_that_hero_and_its_role(store: Store) -> None:
    base = ok_result(PLAYER, "c0", 1000.0)
    after = played(base, "c1", 5000.0, "quickplay", "ana", "support", (2, 1, 1500))
    store.apply_results(sourced([base, after])[:1])
    first = stats_of(store, "c0")
    assert set(first) == every_key(base) and not any(r["removed"] for r in first.values())
    events = store.apply_results(sourced([base, after])[1:])
    second = stats_of(store, "c1")
    assert set(second) == {
        ("quickplay", "overall", "all"),
        ("competitive", "overall", "all"),  # written although nothing changed there
        ("quickplay", "hero", "ana"),
        ("quickplay", "role", "support"),
    }
    assert not any(r["removed"] for r in second.values())
    ana = second[("quickplay", "hero", "ana")]
    assert (ana["games_played"], ana["games_won"], ana["time_played"]) == (1230, 576, 574579 + 1500)
    sessions = [data(e) for e in events if e.type == "session"]
    assert [(d["gamemode"], d["games"], d["heroes"], d["is_reset"]) for d in sessions] == [
        ("quickplay", 3, ["ana"], False)
    ]
    # readers still see every hero, with the numbers of the latest JSON
    report = store.player_report(PLAYER)
    assert report is not None
    heroes = report["gamemodes"]["quickplay"]["heroes"]
    assert heroes["ana"] == after.stats["quickplay"]["heroes"]["ana"] != base.stats["quickplay"]["heroes"]["ana"]
    assert heroes["mercy"] == after.stats["quickplay"]["heroes"]["mercy"] == base.stats["quickplay"]["heroes"]["mercy"]
    assert report["gamemodes"]["quickplay"]["roles"]["support"] == after.stats["quickplay"]["roles"]["support"]
    assert_report_is(store, after)
    assert report["freshness"]["stats_fetched_at"] == 5000.0


# --- blocks that vanish and come back --------------------------------------------------------------


def test_a_vanished_hero_is_removed_then_comes_back(store: Store) -> None:
    base = ok_result(PLAYER, "v0", 1000.0)
    gone = without_cassidy(base, "v1", 90000.0)
    back = with_cassidy_again(gone, "v2", 95000.0, (1, 1, 900))
    items = sourced([base, gone, back])
    store.apply_results(items[:1])
    events = store.apply_results(items[1:2])
    rows = stats_of(store, "v1")
    removed = {k for k, r in rows.items() if r["removed"]}
    assert removed == {("competitive", "hero", "cassidy"), ("competitive", "role", "damage")}
    cassidy = rows[("competitive", "hero", "cassidy")]
    assert (cassidy["games_played"], cassidy["time_played"], cassidy["winrate"], cassidy["avg_damage"]) == (
        0,
        0,
        None,
        None,
    )
    assert set(rows) - removed == {("quickplay", "overall", "all"), ("competitive", "overall", "all")}
    sessions = [data(e) for e in events if e.type == "session"]
    assert [(d["gamemode"], d["is_reset"]) for d in sessions] == [("competitive", True)]
    report = store.player_report(PLAYER)
    assert report is not None
    assert "cassidy" not in report["gamemodes"]["competitive"]["heroes"]
    assert "damage" not in report["gamemodes"]["competitive"]["roles"]
    assert_report_is(store, gone)
    # it comes back: shown again with its new numbers, not the ones from before it vanished
    events = store.apply_results(items[2:])
    rows = stats_of(store, "v2")
    assert not any(r["removed"] for r in rows.values())
    assert {("competitive", "hero", "cassidy"), ("competitive", "role", "damage")} <= set(rows)
    report = store.player_report(PLAYER)
    assert report is not None
    assert report["gamemodes"]["competitive"]["heroes"]["cassidy"] == back.stats["competitive"]["heroes"]["cassidy"]
    assert report["gamemodes"]["competitive"]["heroes"]["cassidy"]["games_played"] == 2
    assert_report_is(store, back)
    sessions = [data(e) for e in events if e.type == "session"]
    assert [(d["games"], d["heroes"], d["is_reset"]) for d in sessions] == [(2, ["cassidy"], False)]


# --- warm vs cold caches, fast vs pydantic results ---------------------------------------------------


def long_history() -> list[Result]:
    """Seven snapshots of TeKrop (one unchanged, one error) and one of KIRIKO in between."""
    base, s1, same, s2, missing = history()
    qp = played(s2, "l1", 9200.0, "quickplay", "mercy", "support", (1, 0, 700))
    gone = without_cassidy(qp, "l2", 99000.0)
    back = with_cassidy_again(gone, "l3", 103000.0, (2, 0, 1100))
    both = played(back, "l4", 107000.0, "quickplay", "ana", "support", (0, 1, 400))
    both = advanced(both, "l4", 107000.0, {"lucio": (1, 0, 300)})  # same snapshot, competitive too
    kiriko = ok_result("KIRIKO-12460", "k0", 4000.0)
    return [base, s1, kiriko, same, s2, missing, qp, gone, back, both]


def test_warm_and_cold_caches_build_identical_stores(store: Store, other_url: str) -> None:
    items = sourced(long_history())
    warm_events = [e for item in items for e in store.apply_results([item])]
    cold_events = []
    for item in items:
        cold = Store.open(other_url)  # a new writer: its state comes from the database every time
        try:
            cold_events += cold.apply_results([item])
        finally:
            cold.close()
    cold = Store.open(other_url)
    try:
        assert table_dump(cold) == table_dump(store)
    finally:
        cold.close()
    assert dump_events(cold_events) == dump_events(warm_events)
    sessions = [(e.event_id, data(e)["gamemode"], data(e)["is_reset"]) for e in warm_events if e.type == "session"]
    assert sessions == [
        ("h1:session:0", "competitive", False),
        ("h2:session:0", "competitive", False),
        ("l1:session:0", "quickplay", False),
        ("l2:session:0", "competitive", True),  # cassidy and the damage role vanished
        ("l3:session:0", "competitive", False),
        ("l4:session:0", "competitive", False),
        ("l4:session:1", "quickplay", False),
    ]
    assert_report_is(store, long_history()[-1])
