"""Seasons in the store, on SQLite and PostgreSQL: each snapshot's own season, the season report
(``show --season``), the dashboard's season queries, the boundary rule with a borrowed season, resets, and
migration 0005 on a store made before it."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import select, text

from owstream.errors import UnknownSeason
from owstream.store import Store, schema, views
from owstream.store.migrations import migrate
from support.results import TOTALS, Result, advanced, ok_result, recorded, replace, src

T = 1_770_000_000.0
HOUR = 3600.0


def in_season(item: Result, season: int) -> Result:
    summary = copy.deepcopy(item.summary)
    assert summary is not None
    summary["competitive"]["pc"]["season"] = season
    return replace(item, summary=summary)


def tekrop() -> list[Result]:
    """Season 22 from the recorded answer (+3 games), then season 23 (+2 games, +3 games)."""
    a = ok_result("TeKrop-2217", "a", T)
    b = advanced(a, "b", T + HOUR, {"ana": (2, 1, 1800)})
    c = in_season(advanced(b, "c", T + 2 * HOUR, {"ana": (1, 1, 1200)}), 23)
    d = advanced(c, "d", T + 3 * HOUR, {"baptiste": (3, 0, 1500)})
    return [a, b, c, d]


def snapshot_seasons(store: Store) -> dict[str, int | None]:
    s = schema.snapshots.c
    with store.engine.connect() as conn:
        return dict(conn.execute(select(s.result_id, s.season)).all())  # type: ignore[arg-type]


def season(store: Store, choice: str, player: str = "TeKrop-2217", mode: str | None = None) -> dict[str, Any]:
    report = store.season_report(player, choice, mode)
    assert report is not None
    return report


def test_each_snapshot_keeps_its_own_season(store: Store) -> None:
    store.apply_results(src(*tekrop(), ok_result("KIRIKO-12460", "k", T), ok_result("JohnV1-1190", "j", T)))
    # KIRIKO-12460 has no ranked role (no rank row) but seasons 21 (pc) and 16 (console): the snapshot keeps 21
    assert snapshot_seasons(store) == {"a": 22, "b": 22, "c": 23, "d": 23, "k": 21, "j": 10}


def test_the_current_season_counts_from_the_last_snapshot_before_it(store: Store) -> None:
    items = tekrop()
    store.apply_results(src(*items))
    report = season(store, "current")
    lifetime = store.player_report("TeKrop-2217")
    assert lifetime is not None
    assert set(report) == set(lifetime) | {"season", "season_label", "since", "until"}  # show --json's shape
    assert (report["season"], report["season_label"]) == (23, "Season 23")
    assert report["since"]["at"] == T + HOUR and not report["since"]["since_tracking_began"]
    assert report["since"]["counted_in"] == "this_season"
    assert "are counted in Season 23: that snapshot reports Season 23 itself" in report["since"]["boundary"]
    assert report["until"] == {"at": T + 3 * HOUR, "boundary": None}
    comp = report["gamemodes"]["competitive"]
    overall = comp["overall"]
    assert (overall["games_played"], overall["games_won"], overall["games_lost"]) == (5, 4, 1)
    assert overall["time_played"] == 1200 + 1500
    assert overall["winrate"] == 80.0
    assert overall["total"] == {name: 5 * (i + 1) for i, name in enumerate(TOTALS)}  # advanced(): (i+1) per game
    assert overall["kda"] == round((5 + 10) / 15, 2)
    assert overall["average"]["damage"] == round(20 / (2700 / 600), 2)
    assert set(comp["heroes"]) == {"ana", "baptiste"} and set(comp["roles"]) == {"support"}
    assert comp["heroes"]["baptiste"]["games_played"] == 3 and comp["heroes"]["baptiste"]["winrate"] == 100.0
    assert comp["reset"] is None
    assert comp["latest_session"]["games"] == 3  # the season's newest session
    # quickplay was not played in season 23: a zero overall block, no roles or heroes
    quick = report["gamemodes"]["quickplay"]
    assert quick["overall"]["games_played"] == 0 and quick["roles"] == {} and quick["heroes"] == {}
    assert quick["latest_session"] is None
    assert report["ranks"] == lifetime["ranks"]


def test_the_first_season_is_counted_since_tracking_began(store: Store) -> None:
    store.apply_results(src(*tekrop()))
    report = season(store, "last", mode="competitive")
    assert list(report["gamemodes"]) == ["competitive"]
    assert report["season"] == 22
    assert report["since"]["since_tracking_began"] and report["since"]["counted_in"] is None
    assert report["since"]["at"] == T and report["since"]["text"].startswith("since tracking began (")
    assert report["gamemodes"]["competitive"]["overall"]["games_played"] == 3
    assert report["freshness"]["stats_fetched_at"] == T + HOUR  # the season's newest snapshot
    assert season(store, "22") == season(store, "last")


def test_a_season_not_stored_is_one_line_listing_those_stored(store: Store) -> None:
    store.apply_results(src(*tekrop()[:2]))
    with pytest.raises(UnknownSeason, match=r"^season 19 is not stored for TeKrop-2217; stored seasons: 22$"):
        store.season_report("TeKrop-2217", "19")
    # "last" is the app's (the season before the newest any stored player shows, 22), named with its number
    with pytest.raises(
        UnknownSeason, match=r"^season 21 is not stored for TeKrop-2217; stored seasons: 22 \(21 is the last"
    ):
        store.season_report("TeKrop-2217", "last")
    assert store.season_report("Nobody-1234", "current") is None


def test_a_borrowed_season_keeps_the_boundary_games_in_the_old_season(store: Store) -> None:
    """JohnV1-1190 shows no competitive season: its snapshots take the newest TeKrop-2217 had reported."""
    store.apply_results(src(*tekrop()))
    base = ok_result("JohnV1-1190", "j1", T + 1.5 * HOUR)  # TeKrop-2217 is in season 22 then
    assert base.summary is not None
    base = replace(base, summary={**base.summary, "competitive": None})
    j2 = advanced(base, "j2", T + 2.5 * HOUR, {"moira": (2, 0, 1200)})  # season 23 seen since T + 2 h
    j3 = advanced(j2, "j3", T + 3.5 * HOUR, {"moira": (0, 1, 600)})
    store.apply_results(src(base, j2, j3))
    old, new = season(store, "22", "JohnV1-1190"), season(store, "23", "JohnV1-1190")
    assert new["since"]["counted_in"] == "previous_season"
    assert "are counted in Season 22: that snapshot reports no season itself" in new["since"]["boundary"]
    assert old["until"]["at"] == T + 2.5 * HOUR and "Season 23 is taken from other players" in old["until"]["boundary"]
    assert old["gamemodes"]["competitive"]["overall"]["games_played"] == 2  # j1 -> j2, in the old season
    assert new["gamemodes"]["competitive"]["overall"]["games_played"] == 1  # j2 -> j3
    assert new["since"]["at"] == T + 2.5 * HOUR


def test_counters_that_go_down_inside_a_season_are_counted_from_the_reset(store: Store) -> None:
    a, b, *_ = tekrop()
    reset = in_season(advanced(b, "r", T + 2 * HOUR, {}), 23)
    stats = copy.deepcopy(reset.stats)
    fresh = stats["competitive"]
    hero = fresh["heroes"]["ana"]
    for block in (fresh["general"], fresh["roles"]["support"], hero):  # season 23 starts again at zero ...
        block.update(games_played=2, games_won=1, games_lost=1, time_played=1300)  # ... and 2 games were played
    fresh["heroes"], fresh["roles"] = {"ana": hero}, {"support": fresh["roles"]["support"]}
    store.apply_results(src(a, b, replace(reset, stats=stats)))
    comp = season(store, "current")["gamemodes"]["competitive"]
    assert comp["reset"]["at"] == T + 2 * HOUR and "counted from zero there" in comp["reset"]["note"]
    assert (comp["overall"]["games_played"], comp["overall"]["games_won"]) == (2, 1)
    assert list(comp["heroes"]) == ["ana"] and comp["heroes"]["ana"]["time_played"] == 1300
    assert season(store, "current")["gamemodes"]["quickplay"]["reset"] is None


def test_the_pages_show_the_numbers_the_report_gives(store: Store) -> None:
    store.apply_results(src(*tekrop(), ok_result("KIRIKO-12460", "k", T + 10)))
    report = season(store, "current")
    comp = report["gamemodes"]["competitive"]

    page = views.player(store.engine, "TeKrop-2217", "competitive", "current")
    assert page is not None and page.seasons == [22, 23]
    assert page.season is not None and page.season.season == 23 and page.season.since == report["since"]["text"]
    shown = {(r["scope"], r["key"]): r for r in page.stats}
    assert shown[("overall", "all")]["games_played"] == comp["overall"]["games_played"]
    assert shown[("hero", "baptiste")]["winrate"] == comp["heroes"]["baptiste"]["winrate"]
    assert shown[("overall", "all")]["avg_damage"] == comp["overall"]["average"]["damage"]
    lifetime = views.player(store.engine, "TeKrop-2217", "competitive")
    assert lifetime is not None and lifetime.season is None
    general = recorded("players_TeKrop-2217_stats_summary_competitive_all.json")["general"]
    assert {r["key"]: r for r in lifetime.stats}["all"]["games_played"] == general["games_played"] + 8

    hist = views.history(store.engine, "TeKrop-2217", "competitive", season="current")
    assert [r["fetched_at"] for r in hist.timeline] == [T + 2 * HOUR, T + 3 * HOUR]
    assert [r["games"] for r in hist.sessions] == [3, 2] and (hist.session_count, hist.session_games) == (2, 5)
    everything = views.history(store.engine, "TeKrop-2217", "competitive")
    assert len(everything.timeline) == 4 and (everything.session_count, everything.session_games) == (3, 8)
    assert views.history(store.engine, "KIRIKO-12460", "competitive", season="last").timeline == []

    squad = views.squad(store.engine, ["TeKrop-2217", "KIRIKO-12460"], "competitive", None, "current")
    assert (squad.seasons, squad.season, squad.missing) == ([21, 22, 23], 23, ["KIRIKO-12460"])
    overall = next(r for r in squad.stats if r["scope"] == "overall")
    assert (overall["player_id"], overall["games_played"]) == ("TeKrop-2217", 5)
    assert {s["games"] for s in squad.sessions} == {3, 2}
    last = views.squad(store.engine, ["TeKrop-2217", "KIRIKO-12460"], "competitive", None, "last")
    assert last.season == 22 and last.missing == ["KIRIKO-12460"]
    assert [s["games"] for s in last.sessions] == [3]


def test_a_store_from_before_0005_gets_its_seasons_from_the_ranks(store: Store) -> None:
    store.apply_results(src(*tekrop()[:2], ok_result("KIRIKO-12460", "k", T)))
    report = season(store, "current")
    with store.engine.begin() as conn:  # make it look like a store written before 0005 existed
        conn.execute(text("ALTER TABLE snapshots DROP COLUMN season"))
        conn.execute(text("DELETE FROM schema_migrations WHERE name = '0005_snapshot_seasons'"))
    assert migrate(store.engine) == ["0005_snapshot_seasons"]
    # TeKrop-2217's ranks say season 22; KIRIKO-12460 has no ranked role: its season stays unknown
    assert snapshot_seasons(store) == {"a": 22, "b": 22, "k": None}
    assert season(store, "current") == report
    assert migrate(store.engine) == []
