"""The dashboard's pages under streamlit.testing.v1.AppTest, on a real SQLite store filled with the
recorded OverFast responses (plus one synthetic later snapshot, so History and Squad have a session)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from owstream.config import get_settings
from owstream.domain import format as fmt
from owstream.domain.heroes import name_from_key
from owstream.store import SourcedResult, Store
from support.apptest import choose, metrics, page, text
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
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv("OWSTREAM_STORE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    monkeypatch.setenv("OWSTREAM_HOME", str(tmp_path))
    monkeypatch.setenv("OWSTREAM_KAFKA_BOOTSTRAP", "127.0.0.1:9")  # nothing listens there
    return monkeypatch


@pytest.fixture
def store(env: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Store]:
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    store = Store.open(f"sqlite:///{tmp_path / 'store.db'}")
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


def test_player_page_shows_the_recorded_numbers_per_gamemode(store: Store) -> None:
    at = page("player", player="KIRIKO-12460", table="1")  # the table of every hero, drawn when asked for
    assert not at.exception
    body = recorded("players_KIRIKO-12460_stats_summary_quickplay_all.json")
    general = body["general"]
    shown = metrics(at)
    assert shown["Games played"] == f"{general['games_played']:,}"
    assert shown["Games won"] == f"{general['games_won']:,}"
    assert shown["Winrate"] == fmt.percent(general["winrate"])
    assert shown["KDA"] == f"{general['kda']:.2f}"
    assert shown["Time played"] == f"{general['time_played'] / 3600:.1f} h"  # below 100 h: one decimal
    assert shown["Eliminations / 10 min"] == f"{general['average']['eliminations']:,.2f}"
    assert shown["Damage / 10 min"] == f"{general['average']['damage']:,.0f}"  # whole numbers
    roles = next(t.value for t in at.table if t.value.index.name == "Role")
    assert sorted(roles.index) == sorted(r.title() for r in body["roles"])
    for role, block in body["roles"].items():
        assert roles.loc[role.title(), "Games"] == f"{block['games_played']:,}"
        assert roles.loc[role.title(), "Winrate"] == fmt.percent(block["winrate"])
    heroes = next(t.value for t in at.table if t.value.index.name == "Hero")
    assert {h: heroes.loc[name_from_key(h), "Games"] for h in body["heroes"]} == {
        h: f"{b['games_played']:,}" for h, b in body["heroes"].items()
    }
    assert all("%" in v or v == fmt.MISSING for v in heroes["Winrate"])  # never "100.0000"

    choose(at, "mode", "competitive")
    comp = recorded("players_KIRIKO-12460_stats_summary_competitive_all.json")["general"]
    assert metrics(at)["Games played"] == f"{comp['games_played'] + 3:,}"  # the later snapshot added 3
    assert at.query_params["mode"] == "competitive"  # the choice is in the URL
    assert any(s.value.startswith("Competitive") for s in at.subheader)


def test_the_player_page_reads_its_choices_from_the_url(store: Store) -> None:
    at = page("player", player="KIRIKO#12460", mode="competitive")  # the # form people paste, decoded from %23
    assert not at.exception
    comp = recorded("players_KIRIKO-12460_stats_summary_competitive_all.json")["general"]
    assert metrics(at)["Games played"] == f"{comp['games_played'] + 3:,}"
    assert at.button_group(key="mode").value == "competitive"


def test_an_unknown_player_says_so_once_and_never_shows_another(store: Store) -> None:
    for name in ("player", "history"):
        at = page(name, player="Nobody-1111")
        assert not at.exception
        notices = [n.value for n in (*at.info, *at.warning, *at.error)]
        assert len(notices) == 1 and "Nobody-1111 is not in the store" in notices[0].replace("\\", "")
        assert not at.metric and not at.table  # nobody else's numbers
    at = page("player", player="bad tag!")
    assert [e.value for e in at.error] and "Invalid BattleTag" in at.error[0].value and not at.metric


def test_player_page_header_and_freshness(store: Store) -> None:
    at = page("player", player="TeKrop-2217")
    summary = recorded("players_TeKrop-2217_summary.json")
    assert at.header[0].value == summary["username"]
    caption = text(at)
    assert summary["title"] in caption and f"endorsement level {summary['endorsement']['level']}" in caption
    assert "Blizzard last updated: " in caption and "fetched " in caption
    support = summary["competitive"]["pc"]["support"]
    assert f"Support: **{support['division'].title()} {support['tier']}**" in caption


def test_invalid_battletag_shows_the_validation_message(store: Store) -> None:
    at = page("player")
    at.text_input(key="player_box").input("bad tag!")
    at.button[0].click().run()
    assert not at.exception
    assert "Invalid BattleTag" in at.error[0].value and "is not a BattleTag" in at.error[0].value


def test_unreachable_broker_is_said_plainly(store: Store) -> None:
    at = page("player", timeout=60)
    at.text_input(key="player_box").input("TeKrop#2217")
    at.button[0].click().run()
    assert not at.exception
    assert "Kafka broker unreachable" in at.error[0].value
    assert at.query_params["player"] == "TeKrop-2217"
    assert metrics(at)["Games played"]  # the stored data is still shown


def test_a_visitors_fetches_are_bounded_per_session(store: Store, env: pytest.MonkeyPatch) -> None:
    env.setenv("OWSTREAM_DASHBOARD_ADDRESS", "0.0.0.0")
    env.setenv("OWSTREAM_SESSION_FETCHES_PER_HOUR", "1")
    get_settings.cache_clear()
    at = page("player", timeout=60)
    for _ in range(2):
        at.text_input(key="player_box").input("TeKrop#2217")
        at.button[0].click().run()
    assert not at.exception
    refusal = " ".join(w.value for w in at.warning).replace("\\", "")
    assert "Not fetched: Fetch requests from one browser session are limited to 1 per" in refusal


def test_outcome_messages() -> None:
    from owstream.dashboard.fetching import notice_for
    from owstream.services.requests import RequestState

    def state(outcome: str, retry: float | None = None, error: str | None = None) -> RequestState:
        return RequestState("r", "A-123", "stored", outcome, error, retry)

    assert notice_for("A-123", state("not_found", 600)).kind == "error"
    assert "again in 10 min" in notice_for("A-123", state("not_found", 600)).text
    assert "Career Profile Visibility" in notice_for("A-123", state("private")).text
    assert "Retry in 30 s" in notice_for("A-123", state("upstream_error", 30, "Blizzard rate limited")).text
    assert "Stored" in notice_for("A-123", state("ok")).text


def drawn(at: AppTest) -> dict[str, tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Each Vega-Lite chart of the page by title: its spec and the rows it draws (the Arrow data Streamlit
    sends the browser in place of the spec's ``data.values``, or the rows kept in the spec one layer down:
    charts.inline)."""
    out = {}
    for chart in at.get("vega_lite_chart"):
        spec = json.loads(chart.proto.spec)
        if "mark" not in spec and len(spec.get("layer", [])) == 1:  # charts.inline: the body one layer down
            spec = {**{k: v for k, v in spec.items() if k != "layer"}, **spec["layer"][0]}
        if chart.proto.HasField("data") or chart.proto.datasets:
            arrow = chart.proto.data.data if chart.proto.HasField("data") else chart.proto.datasets[0].data.data
            rows = pa.ipc.open_stream(arrow).read_pandas().to_dict("records")
        else:
            rows = list(spec.get("data", {}).get("values", []))
        out[spec["title"]["text"]] = (spec, rows)
    return out


def test_history_page_draws_a_line_through_each_snapshot_and_lists_the_sessions(store: Store) -> None:
    at = page("history", player="TeKrop-2217", mode="competitive")
    assert not at.exception
    charts = drawn(at)
    lines = {"Games played (total)", "Winrate", "KDA", "Competitive rank per role"}
    assert lines <= set(charts), set(charts)
    comp = recorded("players_TeKrop-2217_stats_summary_competitive_all.json")["general"]
    played, won = comp["games_played"] + 4, comp["games_won"] + 3
    for title, column, values in (
        ("Games played (total)", "games", [comp["games_played"], played]),
        ("Winrate", "winrate", [comp["winrate"], round(100 * won / played, 2)]),
        ("KDA", "kda", [comp["kda"], comp["kda"]]),
    ):
        spec, rows = charts[title]
        assert spec["mark"]["type"] == "line" and spec["encoding"]["y"]["field"] == column, title
        rows.sort(key=lambda r: r["t"])
        assert [r[column] for r in rows] == pytest.approx(values), title  # one point per snapshot
    spec, ranks = charts["Competitive rank per role"]
    assert spec["mark"]["type"] == "line" and spec["encoding"]["color"]["field"] == "role"
    assert len(ranks) == 2 and {r["role"] for r in ranks} == {"Support"}, ranks
    sessions = next(t.value for t in at.table if "Found" in t.value.columns)
    assert len(sessions) == 1
    row = sessions.iloc[0]
    assert (row["Games"], row["W – L"], row["Winrate"]) == ("4", "3 – 1", "75 %")
    detail = next(t.value for t in at.table if t.value.index.name == "Hero")
    assert list(detail["Games"]) == ["4"]
    # snapshots stored before per-platform fetches: OverFast's total of both, said so
    assert "Competitive · PC + console (before per-platform fetches) · Since tracking began" in text(at)
    assert "4 games in 1 session" in text(at)


def test_squad_page_side_by_side_who_carried_and_the_url(store: Store) -> None:
    at = page("squad", players="TeKrop#2217,KIRIKO-12460", mode="competitive")
    assert not at.exception
    side = next(t.value for t in at.table if "KDA" in t.value.columns)
    comp = recorded("players_KIRIKO-12460_stats_summary_competitive_all.json")["general"]
    assert side.loc["KIRIKO-12460", "Games"] == f"{comp['games_played'] + 3:,}"
    night = next(t.value for t in at.table if "Won – lost" in t.value.columns)
    assert night.loc["TeKrop-2217 (carried)", "Won – lost"] == "3 W – 1 L"
    assert night.loc["KIRIKO-12460", "Won – lost"] == "1 W – 2 L"
    assert "Carried: **TeKrop-2217**, 3 W – 1 L in 4 games" in at.success[0].value.replace("\\", "")
    at.multiselect(key="squad_members").set_value(["TeKrop-2217"]).run()
    assert at.query_params["players"] == "TeKrop-2217"  # the squad is shared by its URL


def test_squad_members_that_show_no_numbers_say_why(store: Store) -> None:
    store.apply_results(
        sourced(replace(ok_result("JohnV1-1190", "nf", T0 + 9), player_id="Unknown-1234", outcome="not_found",
                        summary=None, stats={}, status=404, error="Player not found", retry_after=600.0))
    )  # fmt: skip
    at = page("squad", players="TeKrop-2217,Unknown-1234,Never-1234,bad!")
    assert not at.exception
    said = text(at)
    assert "Unknown-1234**: unknown to OverFast" in said and "checks again in 10 min" in said
    assert "Never-1234**: not fetched yet" in said
    assert "Not BattleTags: bad!" in said
    assert any(b.label == "Fetch 1 missing player" for b in at.button)


def test_watchlist_page_add_and_remove(store: Store) -> None:
    at = page("watchlist")
    assert "Nobody is tracked yet" in at.info[0].value
    at.text_input(key="watch_tag").input("TeKrop#2217")
    at.button[0].click().run()
    assert [e.player_id for e in store.watchlist()] == ["TeKrop-2217"]
    assert "TeKrop-2217 is now tracked" in at.success[0].value.replace("\\", "")
    at.button(key="remove_TeKrop-2217").click().run()
    assert store.watchlist() == []


def test_watchlist_refuses_an_unknown_player_and_a_full_list(store: Store, env: pytest.MonkeyPatch) -> None:
    store.apply_results(
        sourced(replace(ok_result("JohnV1-1190", "nf", T0 + 9), player_id="Unknown-1234", outcome="not_found",
                        summary=None, stats={}, status=404, error="Player not found", retry_after=600.0))
    )  # fmt: skip
    env.setenv("OWSTREAM_WATCHLIST_MAX", "1")
    get_settings.cache_clear()
    at = page("watchlist")
    for tag in ("Unknown#1234", "TeKrop#2217", "KIRIKO#12460"):
        at.text_input(key="watch_tag").input(tag)
        at.button[0].click().run()
    said = text(at)
    assert [e.player_id for e in store.watchlist()] == ["TeKrop-2217"]
    assert "Not tracked: the watchlist is full" in said


def test_the_watchlist_refuses_a_webhook_on_an_internal_address_as_the_cli_does(store: Store) -> None:
    store.watch_add("TeKrop-2217", T0)
    at = page("watchlist")
    for internal in ("https://10.0.0.5/hook", "https://127.0.0.1:8443/hook", "https://169.254.169.254/latest"):
        at.text_input(key="notify_url").input(internal)
        next(b for b in at.button if b.label == "Save alerts").click().run()
        assert "Not a webhook URL" in text(at), internal
        assert store.notifications.targets(["TeKrop-2217"]) == {}, internal


def test_a_visitor_on_a_public_host_cannot_change_the_watchlist(store: Store, env: pytest.MonkeyPatch) -> None:
    store.watch_add("TeKrop-2217", T0)
    env.setenv("OWSTREAM_DASHBOARD_ADDRESS", "0.0.0.0")
    get_settings.cache_clear()
    at = page("watchlist")
    assert not at.exception
    said = at.info[0].value.replace("\\", "")
    assert "no owner is configured" in said and "OWSTREAM_OWNER_TOKEN" in said
    assert not any(b.label in ("Add", "Remove", "Save alerts") for b in at.button)


def test_the_owner_signs_in_with_the_token_compared_in_constant_time(store: Store, env: pytest.MonkeyPatch) -> None:
    env.setenv("OWSTREAM_DASHBOARD_ADDRESS", "0.0.0.0")
    env.setenv("OWSTREAM_OWNER_TOKEN", "correct horse battery")
    get_settings.cache_clear()

    def script() -> None:
        from owstream.dashboard import access
        from owstream.dashboard.views import watchlist

        access.sidebar()
        watchlist.render()

    at = AppTest.from_function(script, default_timeout=15).run()
    assert "sign in as the owner" in at.info[0].value.replace("\\", "")
    at.sidebar.text_input(key="owner_token_input").input("wrong")
    at.sidebar.button[0].click().run()
    assert "Not signed in: that is not the owner's token" in at.sidebar.error[0].value
    at.sidebar.text_input(key="owner_token_input").input("correct horse battery")
    at.sidebar.button[0].click().run()
    assert any(b.label == "Add" for b in at.button)  # the owner's controls


def test_pipeline_page_degrades_when_kafka_is_unreachable(store: Store) -> None:
    at = page("pipeline", timeout=60)
    assert not at.exception
    assert "Kafka is unreachable" in at.error[0].value
    assert metrics(at)["Results stored"] == "5"


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


def test_one_current_season_for_every_page_named_with_its_number(store: Store) -> None:
    next_season(store)
    comp = recorded("players_TeKrop-2217_stats_summary_competitive_all.json")["general"]
    at = page("player", player="TeKrop-2217", mode="competitive")
    assert metrics(at)["Games played"] == f"{comp['games_played'] + 6:,}"  # lifetime by default
    assert at.button_group(key="season").options == [
        "This season (Season 23)",
        "Last season (Season 22)",
        "Lifetime",
    ]
    choose(at, "season", "current")
    assert not at.exception
    shown = metrics(at)
    assert (shown["Games played"], shown["Games won"], shown["Winrate"]) == ("2", "1", "50 %")
    assert "Season 23: counted since" in text(at)
    assert at.query_params["season"] == "current"
    choose(at, "season", "last")
    assert metrics(at)["Games played"] == "4"  # season 22: since tracking began (the first snapshot)
    assert "since tracking began" in text(at)

    kiriko = page("player", player="KIRIKO-12460", season="current")  # the app's season 23: none for KIRIKO
    assert "No snapshot of this player in Season 23" in text(kiriko) and "Games played" not in metrics(kiriko)


def test_history_and_squad_seasons(store: Store) -> None:
    next_season(store)
    at = page("history", player="TeKrop-2217", mode="competitive")
    assert "6 games in 2 sessions" in text(at)
    choose(at, "season", "current")
    assert "Season 23, counted since" in text(at) and "2 games in 1 session" in text(at)
    sessions = next(t.value for t in at.table if "Found" in t.value.columns)
    assert list(sessions["W – L"]) == ["1 – 1"]

    squad = page("squad", players="TeKrop-2217,KIRIKO-12460", mode="competitive", season="current")
    assert not squad.exception
    side = next(t.value for t in squad.table if "KDA" in t.value.columns)
    assert list(side.index) == ["TeKrop-2217"] and side.loc["TeKrop-2217", "W – L"] == "1 – 1"
    assert "KIRIKO-12460: no snapshot in Season 23" in text(squad)
