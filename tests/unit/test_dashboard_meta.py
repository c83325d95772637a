"""The meta in the dashboard under AppTest, on a real SQLite store: the recorded players, and the simulator's
/heroes/stats answers (over two hours, so the Meta page has a trend) stored as the processor stores them."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from owstream.config import get_settings
from owstream.dashboard import data
from owstream.messages import codec
from owstream.simulator import Simulator
from owstream.store import SourcedAnswer, SourcedResult, Store
from support.results import PLAYERS, ok_result, recorded, stored

SUPPORT = ("ana", "baptiste", "kiriko", "lucio")  # TeKrop-2217 is Silver 4 as support on PC, unranked otherwise


def query(**params: str) -> str:
    return "/heroes/stats?" + "&".join(f"{k}={v}" for k, v in params.items())


def store_answer(store: Store, sim: Simulator, at: float, offset: int, **combination: Any) -> list[dict[str, Any]]:
    """Ask the simulator like the meta service does and store the answer; returns OverFast's rows."""
    combination = {"platform": "pc", "gamemode": "competitive", "region": "europe"} | combination
    params = {k: v for k, v in combination.items() if v is not None}
    if "division" in params:
        params["competitive_division"] = params.pop("division")
    body = sim.handle("GET", query(**params)).body
    message = codec.wire_hero_stats(body, fetched_at=at, cache_headers={"x-cache-ttl": "3600"}, **combination)
    wire, rows = codec.decode_hero_stats(codec.encode(message))
    store.apply_hero_stats([SourcedAnswer(wire, rows, "t.hero-stats", 0, offset)])
    return list(json.loads(body))


@pytest.fixture
def meta(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("OWSTREAM_STORE_URL", url)
    monkeypatch.setenv("OWSTREAM_HOME", str(tmp_path))
    monkeypatch.setenv("OWSTREAM_KAFKA_BOOTSTRAP", "127.0.0.1:9")  # nothing listens there
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    store = Store.open(url)
    store.apply_results(
        [
            SourcedResult(stored(ok_result(p, f"{p}-1", 1.7e9 + i)), "t.fetch-results", 0, i)
            for i, p in enumerate(PLAYERS)
        ]
    )
    sim = Simulator(seed=3, players=2)
    now = time.time()
    first = store_answer(store, sim, now - 7200, 0)
    for offset, role in enumerate(("tank", "damage", "support"), start=1):
        store_answer(store, sim, now - 7200, offset, role=role)
    sim.advance()  # the meta drifts
    second = store_answer(store, sim, now - 3600, 4)
    silver = store_answer(store, sim, now - 3600, 5, division="silver")
    yield {"first": first, "second": second, "silver": silver, "sim": sim}
    store.close()
    st.cache_data.clear()
    st.cache_resource.clear()
    get_settings.cache_clear()


def page(name: str, player: str | None = None) -> AppTest:
    def script(page_name: str) -> None:
        import importlib

        importlib.import_module(f"owstream.dashboard.views.{page_name}").render()

    at = AppTest.from_function(script, kwargs={"page_name": name}, default_timeout=15)
    if player:
        at.query_params["player"] = player
    return at.run()


def by_hero(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["hero"]: row for row in rows}


def test_player_heroes_next_to_the_meta_of_their_rank(meta: dict[str, Any]) -> None:
    at = page("player", "TeKrop-2217")
    assert not any(s.value == "You vs the meta" for s in at.subheader)  # quickplay: no meta columns
    at.radio(key="player_gamemode").set_value("competitive").run()
    assert not at.exception
    assert any(s.value == "You vs the meta" for s in at.subheader)
    versus = at.table[1].value  # after the roles table
    competitive = recorded("players_TeKrop-2217_stats_summary_competitive_all.json")["heroes"]
    silver, everyone = by_hero(meta["silver"]), by_hero(meta["second"])  # the newest answers
    assert set(versus.index) == set(competitive)
    for hero in competitive:
        row = versus.loc[hero]
        assert row["Your winrate (%)"] == f"{competitive[hero]['winrate']:.2f}"
        expected = silver[hero] if hero in SUPPORT else everyone[hero]
        assert row["Hero winrate (%)"] == str(expected["winrate"])  # as OverFast gave it
        assert row["Hero pick rate (%)"] == str(expected["pickrate"])
        assert row["Division of the meta"] == ("Silver" if hero in SUPPORT else "all divisions (unranked as damage)")
    caption = " ".join(c.value for c in at.caption)
    assert "Champion counts as Grandmaster" in caption and "PC, Europe" in caption

    heroes = at.dataframe[0].value  # the hero table: the same numbers next to the player's winrate
    columns = list(heroes.columns)
    assert columns.index("Hero winrate at your rank (%)") == columns.index("Winrate (%)") + 1
    ana = heroes[heroes["Hero"] == "ana"].iloc[0]
    assert ana["Hero winrate at your rank (%)"] == silver["ana"]["winrate"]
    assert ana["Hero pick rate at your rank (%)"] == silver["ana"]["pickrate"]
    assert ana["Meta division"] == "Silver"

    at.radio(key="player_meta_region").set_value("asia").run()
    assert not at.exception
    assert any("No hero stats of OverFast stored yet for competitive, PC, Asia" in i.value for i in at.info)


def test_meta_page_trend_and_newest_answer(meta: dict[str, Any]) -> None:
    at = page("meta")
    assert not at.exception
    shown = {m.label: m.value for m in at.metric}
    newest, first = by_hero(meta["second"]), by_hero(meta["first"])
    assert shown["Answers in the window"] == "2"
    assert shown["Heroes"] == str(len(newest))
    table = at.table[0].value
    assert list(table.index) == [r["hero"] for r in sorted(meta["second"], key=lambda r: (-r["pickrate"], r["hero"]))]
    for hero, row in newest.items():
        assert table.loc[hero, "Pick rate (%)"] == str(row["pickrate"])
        assert table.loc[hero, "Winrate (%)"] == str(row["winrate"])
        assert table.loc[hero, "Winrate change (points)"] == f"{round(row['winrate'] - first[hero]['winrate'], 1):+.1f}"
    assert at.multiselect[0].value == list(table.index[:8])  # the most picked heroes drawn

    at.selectbox(key="meta_division").set_value("silver").run()
    assert {m.label: m.value for m in at.metric}["Answers in the window"] == "1"
    assert any("One answer so far" in i.value for i in at.info)
    at.radio(key="meta_gamemode").set_value("quickplay").run()
    assert not at.exception
    assert at.selectbox(key="meta_division").disabled
    assert "No hero stats stored for Quickplay, PC, Europe in this window" in at.info[0].value


def test_meta_frames_for_the_charts(meta: dict[str, Any], tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        view = data.load_meta(store, "competitive", "pc", "europe", division=None, since=None)
    finally:
        store.close()
    assert view.answers == 2 and len(view.trend) == len(meta["first"]) + len(meta["second"])
    ana = view.trend[view.trend["hero"] == "ana"]
    assert list(ana["winrate"]) == [by_hero(meta["first"])["ana"]["winrate"], by_hero(meta["second"])["ana"]["winrate"]]
    assert ana["fetched_at"].is_monotonic_increasing


def test_versus_meta_says_why_it_reads_all_divisions() -> None:
    heroes = pd.DataFrame({"key": ["ana", "reinhardt", "newhero", "genji", "mercy"]})
    ranks = pd.DataFrame(
        [("pc", "support", "ultimate"), ("pc", "tank", "gold"), ("pc", "damage", "diamond"),
         ("console", "support", "bronze")],
        columns=["platform", "role", "division"],
    )  # fmt: skip
    by_division = pd.DataFrame(
        [
            ("all", 1.0, "ana", 10.0, 50.0), ("all", 1.0, "reinhardt", 9.0, 49.0), ("all", 1.0, "genji", 8.0, 48.0),
            ("grandmaster", 2.0, "ana", 12.0, 55.5), ("diamond", 2.0, "widowmaker", 4.0, 51.0),
        ],
        columns=["division", "fetched_at", "hero", "pickrate", "winrate"],
    )  # fmt: skip
    roles = {"ana": "support", "reinhardt": "tank", "genji": "damage", "mercy": "support"}
    got = data.versus_meta(heroes, ranks, data.PlayerMeta(by_division, roles), "pc").set_index("key")
    assert got.loc["ana", "meta_division"] == "Grandmaster (with Champion)"  # Champion reads grandmaster
    assert (got.loc["ana", "meta_winrate"], got.loc["ana", "meta_pickrate"]) == (55.5, 12.0)
    assert bool(got.loc["ana", "meta_ranked"])
    assert got.loc["reinhardt", "meta_division"] == "all divisions (no Gold answer yet)"
    assert got.loc["reinhardt", "meta_winrate"] == 49.0
    assert got.loc["newhero", "meta_division"] == "all divisions (role unknown)"
    assert pd.isna(got.loc["newhero", "meta_winrate"])
    assert got.loc["genji", "meta_division"] == "all divisions (not in the Diamond answer)"
    assert got.loc["mercy", "meta_division"] == "all divisions (not in the Grandmaster (with Champion) answer)"
    console = data.versus_meta(heroes, ranks, data.PlayerMeta(by_division, roles), "console").set_index("key")
    assert console.loc["reinhardt", "meta_division"] == "all divisions (unranked as tank)"
    assert data.player_platform(ranks) == "pc"
    assert data.player_platform(ranks[ranks["platform"] == "console"]) == "console"
