"""The dashboard's pages under streamlit.testing.v1.AppTest, on a real SQLite store filled with the
recorded OverFast responses (plus one synthetic later snapshot, so History and Squad have a session)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from owstream.config import get_settings
from owstream.store import SourcedResult, Store
from support.results import PLAYERS, Result, ok_result, recorded, replace, stored

T0 = 1_700_000_000.0


def later(result: Result, result_id: str, at: float, hero: str, won: int, lost: int) -> Result:
    """``result`` an hour later with competitive games of ``hero`` added (hero, its role and overall)."""
    summary = copy.deepcopy(result.summary)
    assert summary is not None
    summary["last_updated_at"] += 3600
    stats = copy.deepcopy(result.stats)
    body = stats["competitive"]
    role = next(r for r in body["roles"] if r in ("support", "damage", "tank"))
    for block in (body["heroes"][hero], body["roles"][role], body["general"]):
        block["games_played"] += won + lost
        block["games_won"] += won
        block["games_lost"] += lost
        block["time_played"] += 600 * (won + lost)
        block["winrate"] = round(100 * block["games_won"] / block["games_played"], 2)
    return replace(result, result_id=result_id, request_ids=[result_id], fetched_at=at, summary=summary, stats=stats)


def sourced(*results: Result) -> list[SourcedResult]:
    return [SourcedResult(stored(r), "t.fetch-results", 0, i) for i, r in enumerate(results)]


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("OWSTREAM_STORE_URL", url)
    monkeypatch.setenv("OWSTREAM_HOME", str(tmp_path))
    monkeypatch.setenv("OWSTREAM_KAFKA_BOOTSTRAP", "127.0.0.1:9")  # nothing listens there
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    store = Store.open(url)
    first = {p: ok_result(p, f"{p}-1", T0 + i) for i, p in enumerate(PLAYERS)}
    store.apply_results(sourced(*first.values()))
    tek_hero = next(iter(first["TeKrop-2217"].stats["competitive"]["heroes"]))
    kir_hero = next(iter(first["KIRIKO-12460"].stats["competitive"]["heroes"]))
    store.apply_results(
        sourced(
            later(first["TeKrop-2217"], "TeKrop-2217-2", T0 + 3600, tek_hero, 3, 1),
            later(first["KIRIKO-12460"], "KIRIKO-12460-2", T0 + 3700, kir_hero, 1, 2),
        )
    )
    yield store
    store.close()
    st.cache_data.clear()
    st.cache_resource.clear()
    get_settings.cache_clear()


def page(name: str, player: str | None = None, timeout: float = 10) -> AppTest:
    def script(page_name: str) -> None:
        import importlib

        importlib.import_module(f"owstream.dashboard.views.{page_name}").render()

    at = AppTest.from_function(script, kwargs={"page_name": name}, default_timeout=timeout)
    if player:
        at.query_params["player"] = player
    return at.run()


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_player_page_shows_the_recorded_numbers_per_gamemode(store: Store) -> None:
    at = page("player", "KIRIKO-12460")
    assert not at.exception
    general = recorded("players_KIRIKO-12460_stats_summary_quickplay_all.json")["general"]
    shown = metrics(at)
    assert shown["Games played"] == f"{general['games_played']:,}"
    assert shown["Games won"] == f"{general['games_won']:,}"
    assert shown["Games lost"] == f"{general['games_lost']:,}"
    assert shown["Winrate"] == f"{general['winrate']:.2f} %"
    assert shown["KDA"] == f"{general['kda']:.2f}"
    assert general["time_played"] < 100 * 3600  # below 100 h: one decimal (the browser test checks >= 100 h)
    assert shown["Time played"] == f"{general['time_played'] / 3600:.1f} h"
    assert shown["Eliminations per 10 min"] == f"{general['average']['eliminations']:,.2f}"
    assert shown["Healing per 10 min"] == f"{general['average']['healing']:,.2f}"

    roles = at.table[0].value
    body = recorded("players_KIRIKO-12460_stats_summary_quickplay_all.json")
    assert sorted(roles.index) == sorted(r.title() for r in body["roles"])
    for role, block in body["roles"].items():
        assert roles.loc[role.title(), "Games"] == f"{block['games_played']:,}"
        assert roles.loc[role.title(), "Winrate (%)"] == f"{block['winrate']:.2f}"
    heroes = at.dataframe[0].value
    assert dict(zip(heroes["Hero"], heroes["games_played"], strict=True)) == {
        h: b["games_played"] for h, b in body["heroes"].items()
    }

    at.radio(key="player_gamemode").set_value("competitive").run()
    comp = recorded("players_KIRIKO-12460_stats_summary_competitive_all.json")["general"]
    assert metrics(at)["Games played"] == f"{comp['games_played'] + 3:,}"  # the later snapshot added 3
    assert any("Competitive" in s.value for s in at.subheader)


def test_player_page_header_and_freshness(store: Store) -> None:
    at = page("player", "TeKrop-2217")
    summary = recorded("players_TeKrop-2217_summary.json")
    assert at.header[0].value == summary["username"]
    caption = " ".join(c.value for c in at.caption)
    assert summary["title"] in caption
    assert f"endorsement level {summary['endorsement']['level']}" in caption
    assert "Blizzard last updated: " in caption
    assert "fetched: " in caption
    support = summary["competitive"]["pc"]["support"]
    assert f"Support: **{support['division'].title()} {support['tier']}**" in caption


def test_invalid_battletag_shows_the_validation_message(store: Store) -> None:
    at = page("player")
    at.text_input(key="player_battletag").input("bad tag!")
    at.button[0].click().run()
    assert not at.exception
    assert "Invalid BattleTag" in at.error[0].value
    assert "is not a BattleTag" in at.error[0].value


def test_unreachable_broker_is_said_plainly(store: Store) -> None:
    at = page("player", timeout=40)
    at.text_input(key="player_battletag").input("TeKrop#2217")
    at.button[0].click().run()
    assert not at.exception
    assert "Kafka broker unreachable" in at.error[0].value
    assert at.query_params["player"] == "TeKrop-2217"
    assert metrics(at)["Games played"]  # the stored data is still shown


def test_outcome_messages() -> None:
    from owstream.dashboard.fetching import notice_for
    from owstream.services.requests import RequestState

    def state(outcome: str, retry: float | None = None, error: str | None = None) -> RequestState:
        return RequestState("r", "A-123", "stored", outcome, error, retry)

    assert notice_for("A-123", state("not_found", 600)).kind == "error"
    assert "again in 10 min" in notice_for("A-123", state("not_found", 600)).text
    assert "Career Profile Visibility" in notice_for("A-123", state("private")).text
    busy = notice_for("A-123", state("upstream_error", 30, "Blizzard rate limited"))
    assert "Retry in 30 s" in busy.text
    assert "Stored" in notice_for("A-123", state("ok")).text


def drawn(at: AppTest) -> dict[str, tuple[dict[str, Any], pd.DataFrame]]:
    """Each Vega-Lite chart of the page by title: its spec and the rows it draws (the Arrow data it was sent)."""
    out = {}
    for chart in at.get("vega_lite_chart"):
        spec = json.loads(chart.proto.spec)
        title = spec["title"]["text"] if isinstance(spec["title"], dict) else spec["title"]
        (dataset,) = chart.proto.datasets
        out[title] = (spec, pa.ipc.open_stream(dataset.data.data).read_pandas())
    return out


def test_history_page_draws_a_line_through_each_snapshot_and_lists_the_sessions(store: Store) -> None:
    at = page("history", "TeKrop-2217", timeout=30)
    assert not at.exception
    at.radio(key="history_gamemode").set_value("competitive").run()
    charts = drawn(at)
    assert set(charts) == {"Games played (total)", "Winrate (%)", "KDA", "Competitive rank per role"}
    comp = recorded("players_TeKrop-2217_stats_summary_competitive_all.json")["general"]
    played, won = comp["games_played"] + 4, comp["games_won"] + 3
    for title, column, values in (
        ("Games played (total)", "games_played", [comp["games_played"], played]),
        ("Winrate (%)", "winrate", [comp["winrate"], round(100 * won / played, 2)]),
        ("KDA", "kda", [comp["kda"], comp["kda"]]),
    ):
        spec, rows = charts[title]
        assert spec["mark"]["type"] == "line" and spec["encoding"]["y"]["field"] == column, title
        assert list(rows.sort_values("when")[column]) == pytest.approx(values), title  # one point per snapshot
    _spec, ranks = charts["Competitive rank per role"]
    assert len(ranks) == 2 and set(ranks["role"]) == {"support (pc)"}
    sessions = at.dataframe[0].value
    assert len(sessions) == 1
    row = sessions.iloc[0]
    assert (row["Games"], row["W-L"], row["Winrate (%)"]) == (4, "3-1", 75.0)
    assert len(at.expander) == 1
    detail = at.expander[0].table[0].value
    assert list(detail["Games"]) == [4]


def test_squad_page_side_by_side_and_window(store: Store) -> None:
    at = page("squad")
    at.multiselect(key="squad_players").set_value(["TeKrop-2217", "KIRIKO-12460"]).run()
    at.radio(key="squad_gamemode").set_value("competitive").run()
    assert not at.exception
    side = at.table[0].value
    comp = recorded("players_KIRIKO-12460_stats_summary_competitive_all.json")["general"]
    assert side.loc["KIRIKO-12460", "Games"] == f"{comp['games_played'] + 3:,}"
    window = at.table[1].value
    assert window.loc["TeKrop-2217", "W-L"] == "3-1"
    assert window.loc["KIRIKO-12460", "W-L"] == "1-2"
    assert "Most wins: TeKrop-2217 (3 won, 1 lost)" in at.success[0].value.replace("\\", "")


def test_watchlist_page_add_and_remove(store: Store) -> None:
    at = page("watchlist")
    assert "Nobody is tracked yet" in at.info[0].value
    at.text_input(key="watch_tag").input("TeKrop#2217")
    at.button[0].click().run()
    assert [e.player_id for e in store.watchlist()] == ["TeKrop-2217"]
    assert "TeKrop-2217 is now tracked" in at.success[0].value.replace("\\", "")
    assert any("not fetched yet" not in m.value and "UTC" in m.value for m in at.markdown)
    at.button(key="remove_TeKrop-2217").click().run()
    assert store.watchlist() == []


def test_pipeline_page_degrades_when_kafka_is_unreachable(store: Store) -> None:
    at = page("pipeline", timeout=60)
    assert not at.exception
    assert "Kafka is unreachable" in at.error[0].value
    assert metrics(at)["Fetch results in the store"] == "5"


def test_player_page_without_a_player_offers_the_stored_ones(store: Store) -> None:
    store.watch_add("JohnV1-1190", T0)
    at = page("player")
    assert not at.exception
    labels = [b.label for b in at.button if b.label != "Fetch"]
    assert labels[:1] == ["JohnV1-1190 ★"]  # tracked players first
    assert set(labels) >= {"JohnV1-1190 ★", "KIRIKO-12460", "TeKrop-2217"}
    next(b for b in at.button if b.label == "KIRIKO-12460").click().run()
    assert not at.exception
    assert at.query_params["player"] == "KIRIKO-12460"
    assert "Games played" in metrics(at)


def next_season(store: Store) -> None:
    """A third TeKrop-2217 snapshot that reports season 23, with 2 competitive games (1 won) since the second."""
    second = replace(
        later(ok_result("TeKrop-2217", "TeKrop-2217-1", T0), "x", T0 + 3600, TEK_HERO, 3, 1),
        result_id="TeKrop-2217-2",
    )
    third = later(second, "TeKrop-2217-3", T0 + 7200, TEK_HERO, 1, 1)
    assert third.summary is not None
    competitive = copy.deepcopy(third.summary["competitive"])
    competitive["pc"]["season"] = 23
    store.apply_results(sourced(replace(third, summary={**third.summary, "competitive": competitive})))


TEK_HERO = next(iter(recorded("players_TeKrop-2217_stats_summary_competitive_all.json")["heroes"]))


def test_player_page_season_choice(store: Store) -> None:
    next_season(store)
    comp = recorded("players_TeKrop-2217_stats_summary_competitive_all.json")["general"]
    at = page("player", "TeKrop-2217")
    at.radio(key="player_gamemode").set_value("competitive").run()
    assert metrics(at)["Games played"] == f"{comp['games_played'] + 6:,}"  # lifetime by default
    switch = at.radio(key="player_season")
    assert switch.options == [
        "This season (Season 23)",
        "Last season (Season 22)",
        "Lifetime",
    ]
    switch.set_value("current").run()
    assert not at.exception
    shown = metrics(at)
    assert (shown["Games played"], shown["Games won"], shown["Winrate"]) == ("2", "1", "50.00 %")
    assert shown["Time played"] == "0.3 h"
    caption = " ".join(c.value for c in at.caption).replace("\\", "")
    assert "Season 23: numbers since" in caption
    assert "are counted in Season 23: that snapshot reports Season 23 itself" in caption
    assert any("Season 23" in s.value for s in at.subheader)
    heroes = at.dataframe[0].value
    assert dict(zip(heroes["Hero"], heroes["games_played"], strict=True)) == {TEK_HERO: 2}

    at.radio(key="player_season").set_value("last").run()
    assert metrics(at)["Games played"] == "4"  # season 22: since tracking began (the first snapshot)
    assert "since tracking began" in " ".join(c.value for c in at.caption)
    at.radio(key="player_gamemode").set_value("quickplay").run()
    assert not at.exception
    assert "No quickplay games in Season 22" in at.info[0].value
    at.radio(key="player_season").set_value("lifetime").run()
    quick = recorded("players_TeKrop-2217_stats_summary_quickplay_all.json")["general"]
    assert metrics(at)["Games played"] == f"{quick['games_played']:,}"


def test_player_page_with_one_season_has_no_last_one(store: Store) -> None:
    at = page("player", "KIRIKO-12460")
    switch = at.radio(key="player_season")
    assert switch.options[1] == "Last season (none stored)"
    switch.set_value("last").run()
    assert not at.exception
    assert "No such season stored for this player" in at.info[0].value
    assert "Games played" not in metrics(at)


def test_history_page_season_choice(store: Store) -> None:
    next_season(store)
    at = page("history", "TeKrop-2217")
    at.radio(key="history_gamemode").set_value("competitive").run()
    assert "Lifetime: 6 games in 2 sessions" in " ".join(c.value for c in at.caption).replace("\\", "")
    at.radio(key="history_season").set_value("current").run()
    assert not at.exception
    captions = " ".join(c.value for c in at.caption).replace("\\", "")
    assert "Season 23: 2 games in 1 session" in captions
    assert "Season 23: its snapshots and sessions only" in captions
    sessions = at.dataframe[0].value
    assert list(sessions["W-L"]) == ["1-1"]
    at.radio(key="history_season").set_value("last").run()
    assert list(at.dataframe[0].value["W-L"]) == ["3-1"]


def test_squad_page_season_choice(store: Store) -> None:
    next_season(store)
    at = page("squad")
    at.multiselect(key="squad_players").set_value(["TeKrop-2217", "KIRIKO-12460"]).run()
    at.radio(key="squad_gamemode").set_value("competitive").run()
    switch = at.radio(key="squad_season")
    assert switch.options[0] == "This season (Season 23)"
    switch.set_value("current").run()
    assert not at.exception
    side = at.table[0].value
    assert list(side.index) == ["TeKrop-2217"]
    assert (side.loc["TeKrop-2217", "Games"], side.loc["TeKrop-2217", "W-L"]) == ("2", "1-1")
    caption = " ".join(c.value for c in at.caption).replace("\\", "")
    assert "KIRIKO-12460: no snapshot in Season 23" in caption
    assert any("Season 23" in s.value for s in at.subheader)
    assert at.table[1].value.loc["TeKrop-2217", "W-L"] == "1-1"  # the window's sessions: the season's only
    at.radio(key="squad_season").set_value("last").run()  # season 22: TeKrop-2217's first two snapshots
    assert at.table[0].value.loc["TeKrop-2217", "Games"] == "4"
