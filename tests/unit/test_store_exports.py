"""owstream.store.exports: a player's history as tables, each snapshot's numbers rebuilt from sparse rows."""

from __future__ import annotations

import json
from typing import Any

from test_store import history

from owstream.store import Store
from owstream.store.exports import TABLES, Table
from support.results import MODES, OVERFAST, recorded, result, src


def rows(table: Table) -> list[dict[str, Any]]:
    return [dict(zip(table.columns, row, strict=True)) for row in table.rows]


def test_every_table_of_a_history_with_each_snapshots_numbers(store: Store) -> None:
    store.apply_results(src(*history()))
    tables = store.export_tables("TeKrop-2217")
    assert tuple(tables) == TABLES

    snapshots = rows(tables["snapshots"])
    assert [(s["result_id"], s["changed"], s["outcome"]) for s in snapshots] == [
        ("h0", True, "ok"), ("h1", True, "ok"), ("h1b", False, "ok"), ("h2", True, "ok"),
    ]  # fmt: skip
    assert {"fetched_at", "last_updated_at", "season"} <= set(tables["snapshots"].columns)
    assert not {"id", "player_id", "source_offset"} & set(tables["snapshots"].columns)

    overall = [r for r in rows(tables["overall"]) if r["gamemode"] == "competitive"]
    assert [(r["result_id"], r["games_played"]) for r in overall] == [("h0", 19), ("h1", 23), ("h2", 25)]
    assert len(rows(tables["overall"])) == 6  # 3 changed snapshots x 2 gamemodes

    # h2 stored only the rows that changed (baptiste, support, overall): the others are carried over
    heroes = rows(tables["heroes"])
    body = recorded("players_TeKrop-2217_stats_summary_competitive_all.json")["heroes"]
    at = {(h["result_id"], h["hero"]): h for h in heroes if h["gamemode"] == "competitive"}
    assert {hero for (rid, hero) in at if rid == "h2"} == set(body)
    assert at[("h2", "ana")]["games_played"] == at[("h1", "ana")]["games_played"] == body["ana"]["games_played"] + 3
    assert at[("h2", "baptiste")]["games_lost"] == body["baptiste"]["games_lost"] + 2
    assert {h["season"] for h in heroes if h["result_id"] == "h2"} == {overall[-1]["season"]}
    roles = {(r["result_id"], r["role"]): r for r in rows(tables["roles"]) if r["gamemode"] == "competitive"}
    support = recorded("players_TeKrop-2217_stats_summary_competitive_all.json")["roles"]["support"]
    assert roles[("h2", "support")]["games_played"] == support["games_played"] + 6

    ranks = {(r["result_id"], r["platform"], r["role"]): r for r in rows(tables["ranks"])}
    assert (ranks[("h2", "pc", "support")]["division"], ranks[("h2", "pc", "support")]["tier"]) == ("gold", 5)
    assert ranks[("h1", "pc", "support")]["division"] == "silver"

    sessions = [s for s in rows(tables["sessions"]) if s["gamemode"] == "competitive"]
    assert [(s["result_id"], s["games"], s["wins"], s["losses"]) for s in sessions] == [
        ("h1", 4, 3, 1),
        ("h2", 2, 0, 2),
    ]
    assert all(s["started_at"] < s["ended_at"] for s in sessions)


def test_a_private_profile_exports_its_snapshots_without_stats(store: Store) -> None:
    summary = json.loads((OVERFAST / "responses" / "private_Player-137712_summary.json").read_text())
    private = result(
        result_id="p1",
        player_id="Player-137712",
        fetched_at=100.0,
        outcome="private",
        summary=summary,
        stats={m: recorded(f"private_Player-137712_stats_summary_{m}_all.json") for m in MODES},
    )
    store.apply_results(src(private))
    tables = store.export_tables("Player-137712")
    assert [(s["result_id"], s["outcome"]) for s in rows(tables["snapshots"])] == [("p1", "private")]
    assert all(not tables[name].rows for name in ("overall", "roles", "heroes", "sessions"))


def test_nothing_stored_gives_empty_tables_with_their_columns(store: Store) -> None:
    tables = store.export_tables("Nobody-1234")
    assert all(table.rows == [] and table.columns for table in tables.values())
