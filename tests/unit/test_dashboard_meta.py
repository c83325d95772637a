"""The meta in the dashboard under AppTest, on a real SQLite store: the recorded players, and the simulator's
/heroes/stats answers (over two hours, so the Meta page has a trend) stored as the processor stores them."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from owstream.config import get_settings
from owstream.domain import format as fmt
from owstream.domain.heroes import name_from_key
from owstream.domain.meta import ranked_platform, versus
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


def page(name: str, **params: str) -> AppTest:
    def script(page_name: str) -> None:
        import importlib

        importlib.import_module(f"owstream.dashboard.views.{page_name}").render()

    at = AppTest.from_function(script, kwargs={"page_name": name}, default_timeout=15)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def by_hero(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["hero"]: row for row in rows}


def test_player_heroes_next_to_the_meta_of_their_rank(meta: dict[str, Any]) -> None:
    at = page("player", player="TeKrop-2217")
    assert not any(s.value == "You vs the meta" for s in at.subheader)  # quickplay: no meta columns
    at.button_group(key="mode").set_value("competitive").run()
    assert not at.exception
    assert any(s.value == "You vs the meta" for s in at.subheader)
    table = next(t.value for t in at.table if "Hero winrate" in t.value.columns)
    competitive = recorded("players_TeKrop-2217_stats_summary_competitive_all.json")["heroes"]
    silver, everyone = by_hero(meta["silver"]), by_hero(meta["second"])  # the newest answers
    assert set(table.index) == {name_from_key(h) for h in competitive}
    for hero in competitive:
        row = table.loc[name_from_key(hero)]
        assert row["Your winrate"] == fmt.percent(competitive[hero]["winrate"])
        expected = silver[hero] if hero in SUPPORT else everyone[hero]
        assert row["Hero winrate"] == f"{expected['winrate']} %".replace(".0 %", " %")  # as OverFast gave it
        assert row["Hero pick rate"] == f"{expected['pickrate']} %".replace(".0 %", " %")
        assert row["Division of the meta"] == ("Silver" if hero in SUPPORT else "all divisions (unranked as damage)")
    caption = " ".join(c.value for c in at.caption).replace("\\", "")
    assert "Champion counts as Grandmaster" in caption and "PC, Europe" in caption

    at.button_group(key="region").set_value("asia").run()
    assert not at.exception
    assert at.query_params["region"] == "asia"
    assert any("No hero stats of OverFast stored yet for competitive, PC, Asia" in i.value for i in at.info)


def test_meta_page_trend_newest_answer_and_filters_in_the_url(meta: dict[str, Any]) -> None:
    at = page("meta")
    assert not at.exception
    shown = {m.label: m.value for m in at.metric}
    newest, first = by_hero(meta["second"]), by_hero(meta["first"])
    assert shown["Answers in the window"] == "2"
    assert shown["Heroes"] == str(len(newest))
    order = [r["hero"] for r in sorted(meta["second"], key=lambda r: (-r["pickrate"], r["hero"]))]
    assert list(at.table[0].value.index) == [name_from_key(h) for h in order[:15]]  # the most picked first
    at = page("meta", all="1")
    table = at.table[0].value
    assert list(table.index) == [name_from_key(h) for h in order]
    for hero, row in newest.items():
        shown_row = table.loc[name_from_key(hero)]
        assert shown_row["Pick rate"] == fmt.percent(row["pickrate"])
        assert shown_row["Winrate"] == fmt.percent(row["winrate"])
        assert shown_row["Winrate change"] == fmt.points(round(row["winrate"] - first[hero]["winrate"], 1))
    assert at.multiselect(key="meta_heroes").value == order[:8]  # the most picked heroes drawn

    division = page("meta", division="silver")  # a shared link with the meta's filters
    assert {m.label: m.value for m in division.metric}["Answers in the window"] == "1"
    assert any("One answer so far" in i.value for i in division.info)
    quick = page("meta", mode="quickplay")
    assert not quick.exception
    assert quick.selectbox(key="division").disabled
    assert "No hero stats stored for Quickplay, PC, Europe in this window" in quick.info[0].value


def test_versus_meta_says_why_it_reads_all_divisions() -> None:
    heroes = ["ana", "reinhardt", "newhero", "genji", "mercy"]
    ranks = [
        {"platform": "pc", "role": "support", "division": "ultimate"},
        {"platform": "pc", "role": "tank", "division": "gold"},
        {"platform": "pc", "role": "damage", "division": "diamond"},
        {"platform": "console", "role": "support", "division": "bronze"},
    ]
    rows = [("all", 1.0, "ana", 10.0, 50.0), ("all", 1.0, "reinhardt", 9.0, 49.0), ("all", 1.0, "genji", 8.0, 48.0),
            ("grandmaster", 2.0, "ana", 12.0, 55.5), ("diamond", 2.0, "widowmaker", 4.0, 51.0)]  # fmt: skip
    by_division = [dict(zip(("division", "fetched_at", "hero", "pickrate", "winrate"), r, strict=True)) for r in rows]
    roles = {"ana": "support", "reinhardt": "tank", "genji": "damage", "mercy": "support"}
    got = {v.key: v for v in versus(heroes, ranks, by_division, roles, "pc")}
    assert got["ana"].division == "Grandmaster (with Champion)"  # Champion reads grandmaster
    assert (got["ana"].winrate, got["ana"].pickrate, got["ana"].ranked) == (55.5, 12.0, True)
    assert got["reinhardt"].division == "all divisions (no Gold answer yet)" and got["reinhardt"].winrate == 49.0
    assert got["newhero"].division == "all divisions (role unknown)" and got["newhero"].winrate is None
    assert got["genji"].division == "all divisions (not in the Diamond answer)"
    assert got["mercy"].division == "all divisions (not in the Grandmaster (with Champion) answer)"
    console = {v.key: v for v in versus(heroes, ranks, by_division, roles, "console")}
    assert console["reinhardt"].division == "all divisions (unranked as tank)"
    assert ranked_platform(ranks) == "pc" and ranked_platform(ranks[3:]) == "console"
