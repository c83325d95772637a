"""Every page says which platform its numbers are of (AppTest on a real SQLite store): KIRIKO-12460, stored per
platform from the recorded answers (quickplay: 67 games on pc, 93 on console), is shown on the platform it played
most with the other one a click away, and pc and console are never added together."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st

from owstream.config import get_settings
from owstream.domain import format as fmt
from owstream.store import SourcedResult, Store
from support.apptest import choose, metrics, page, text
from support.results import Result, add, platform_result, recorded, replace, stored

T0 = 1_700_000_000.0


def played(result: Result, result_id: str, at: float, platform: str, won: int, lost: int) -> Result:
    """``result`` an hour later with competitive games of its first hero added on ``platform`` only."""
    summary = copy.deepcopy(result.summary)
    assert summary is not None
    summary["last_updated_at"] += 3600
    per_platform = copy.deepcopy(result.platform_stats)
    body = per_platform[platform]["competitive"]
    hero = next(iter(body["heroes"]))
    role = next(r for r in body["roles"] if r in ("support", "damage", "tank"))
    for block in (body["heroes"][hero], body["roles"][role], body["general"]):
        add(block, won, lost, 600 * (won + lost))
    return replace(result, result_id=result_id, request_ids=[result_id], fetched_at=at, summary=summary,
                   platform_stats=per_platform)  # fmt: skip


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setenv("OWSTREAM_STORE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    monkeypatch.setenv("OWSTREAM_HOME", str(tmp_path))
    monkeypatch.setenv("OWSTREAM_KAFKA_BOOTSTRAP", "127.0.0.1:9")  # nothing listens there
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    store = Store.open(f"sqlite:///{tmp_path / 'store.db'}")
    kiriko = platform_result("KIRIKO-12460", "k-1", T0)
    tekrop = platform_result("TeKrop-2217", "t-1", T0 + 1)  # pc only: its console answers are {}
    results = [kiriko, tekrop, played(kiriko, "k-2", T0 + 3600, "console", 2, 1)]
    results.append(played(results[-1], "k-3", T0 + 7200, "pc", 1, 0))
    store.apply_results([SourcedResult(stored(r), "t.fetch-results", 0, i) for i, r in enumerate(results)])
    yield store
    store.close()
    st.cache_data.clear()
    st.cache_resource.clear()
    get_settings.cache_clear()


def general(mode: str, platform: str) -> dict[str, float]:
    found: dict[str, float] = recorded(f"players_KIRIKO-12460_stats_summary_{mode}_{platform}.json")["general"]
    return found


def test_the_player_page_shows_the_most_played_platform_and_the_other_a_click_away(store: Store) -> None:
    at = page("player", player="KIRIKO-12460")
    assert not at.exception
    control = at.button_group(key="platform")
    assert control.options == ["Console", "PC"] and control.value == "console"  # console: the most played
    console, pc = general("quickplay", "console"), general("quickplay", "pc")
    shown = metrics(at)
    assert shown["Games played"] == f"{console['games_played']:,}"
    assert shown["Winrate"] == fmt.percent(console["winrate"])
    assert "Quickplay on Console, lifetime" in [s.value for s in at.subheader]
    choose(at, "platform", "pc")
    shown = metrics(at)
    assert (shown["Games played"], shown["Winrate"]) == (f"{pc['games_played']:,}", fmt.percent(pc["winrate"]))
    assert at.query_params["platform"] == "pc"  # the choice is in the URL
    assert page("player", player="KIRIKO-12460", platform="pc").metric[0].value == f"{pc['games_played']:,}"
    summed = general("quickplay", "all")["games_played"]  # OverFast's total: 160, never shown for one platform
    assert f"{summed:,}" not in metrics(at).values()


def test_the_meta_beside_a_player_is_of_the_platform_shown(store: Store) -> None:
    at = page("player", player="KIRIKO-12460", mode="competitive")
    assert not at.exception
    assert "competitive, Console, " in text(at)  # no meta stored: said for the console's
    assert not any(b.key == "meta_platform" for b in at.button_group)  # no second platform choice
    choose(at, "platform", "pc")
    assert "competitive, PC, " in text(at)


def test_a_platform_the_player_lacks_is_said_and_the_one_it_has_shown(store: Store) -> None:
    at = page("player", player="TeKrop-2217", platform="console")
    assert not at.exception
    assert "No Console stats stored for this player: PC shown." in text(at)
    control = at.button_group(key="platform")
    assert control.options == ["PC"] and control.disabled  # nothing to switch to
    pc = recorded("players_TeKrop-2217_stats_summary_quickplay_pc.json")["general"]
    assert metrics(at)["Games played"] == f"{pc['games_played']:,}"


def test_history_counts_the_sessions_of_the_platform_shown(store: Store) -> None:
    at = page("history", player="KIRIKO-12460", mode="competitive")
    assert not at.exception
    assert "Competitive · Console · Since tracking began" in text(at) and "3 games in 1 session" in text(at)
    choose(at, "platform", "pc")
    assert "Competitive · PC · Since tracking began" in text(at) and "1 game in 1 session" in text(at)
    sessions = next(t.value for t in at.table if "Found" in t.value.columns)
    assert list(sessions["W – L"]) == ["1 – 0"]


def test_the_squad_shows_each_member_on_their_platform_or_all_on_one(store: Store) -> None:
    at = page("squad", players="KIRIKO-12460,TeKrop-2217")
    assert not at.exception
    side = next(t.value for t in at.table if "KDA" in t.value.columns)
    assert dict(side["Platform"]) == {"KIRIKO-12460": "Console", "TeKrop-2217": "PC"}
    assert side.loc["KIRIKO-12460", "Games"] == f"{general('quickplay', 'console')['games_played']:,}"
    choose(at, "platform", "pc")
    side = next(t.value for t in at.table if "KDA" in t.value.columns)
    assert dict(side["Platform"]) == {"KIRIKO-12460": "PC", "TeKrop-2217": "PC"}
    assert side.loc["KIRIKO-12460", "Games"] == f"{general('quickplay', 'pc')['games_played']:,}"
    choose(at, "platform", "console")  # TeKrop has no console stats: said, not silently dropped
    assert "No quickplay stats: TeKrop-2217 on Console" in text(at)


def test_the_watchlist_says_the_next_refresh_why_and_the_platforms(store: Store) -> None:
    store.watch_add("KIRIKO-12460", T0)
    at = page("watchlist")
    assert not at.exception
    said = text(at)
    # fetched last in 2023 and idle since: due now, at the longest interval
    assert "Next refresh now (due)" in said and "idle for" in said
    assert "Platforms: Console (most played), PC" in said
