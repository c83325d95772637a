"""Platforms apart, end to end in the store: stats fetched per platform are stored, reported, diffed into
sessions and counted into seasons per platform, every number equal to OverFast's answer for the same filters
(the recorded ``responses2/`` answers of KIRIKO-12460: pc 67 and console 93 quickplay games); old results
(OverFast's total of both) stay readable, labelled ``both``, and never mix with one platform's numbers."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import select

from owstream.store import Store, schema, views
from support.results import MODES, ok_result, platform_result, recorded, replace, src, stored_block


def block(player: str, mode: str, platform: str) -> dict[str, Any]:
    return stored_block(recorded(f"players_{player}_stats_summary_{mode}_{platform}.json")["general"])


def played(item: Any, result_id: str, at: float, platform: str, mode: str, won: int, lost: int) -> Any:
    """``item`` an hour later with ``won + lost`` games of ``mode`` played on ``platform`` (overall only)."""
    summary = copy.deepcopy(item.summary)
    summary["last_updated_at"] += 3600
    per_platform = copy.deepcopy(item.platform_stats)
    general = per_platform[platform][mode]["general"]
    general["games_played"] += won + lost
    general["games_won"] += won
    general["games_lost"] += lost
    general["time_played"] += 600 * (won + lost)
    return replace(
        item, result_id=result_id, request_ids=[f"req-{result_id}"], fetched_at=at, summary=summary,
        platform_stats=per_platform,
    )  # fmt: skip


def test_kiriko_is_stored_per_platform_with_overfasts_numbers(store: Store) -> None:
    store.apply_results(src(platform_result("KIRIKO-12460", "k1", 1000.0)))
    report = store.player_report("KIRIKO-12460")
    assert report is not None
    assert report["platform"] == "console" and list(report["platforms"]) == ["console", "pc"]  # most played first
    for platform in ("pc", "console"):
        for mode in MODES:
            shown = report["platforms"][platform]["gamemodes"][mode]["overall"]
            assert shown == block("KIRIKO-12460", mode, platform)  # field for field, OverFast's own numbers
    quick = {p: report["platforms"][p]["gamemodes"]["quickplay"]["overall"] for p in ("pc", "console")}
    assert (quick["pc"]["games_played"], quick["pc"]["winrate"]) == (67, 44.78)
    assert (quick["console"]["games_played"], quick["console"]["winrate"]) == (93, 53.76)
    assert (quick["pc"]["average"]["damage"], quick["console"]["average"]["damage"]) == (2718.16, 6891.64)
    assert report["gamemodes"] == report["platforms"]["console"]["gamemodes"]
    assert report["seasons"] == {"pc": 21, "console": 16}
    only_pc = store.player_report("KIRIKO-12460", platform="pc")
    assert only_pc is not None and list(only_pc["platforms"]) == ["pc"]
    assert only_pc["gamemodes"]["quickplay"]["overall"]["games_played"] == 67


def test_a_one_platform_player_stores_nothing_for_the_other(store: Store) -> None:
    store.apply_results(src(platform_result("TeKrop-2217", "t1", 1000.0)))  # console answers {}
    report = store.player_report("TeKrop-2217")
    assert report is not None and list(report["platforms"]) == ["pc"]
    assert report["gamemodes"]["competitive"]["overall"] == block("TeKrop-2217", "competitive", "pc")
    with store.engine.connect() as conn:
        platforms = set(conn.execute(select(schema.stats.c.platform).distinct()).scalars())
    assert platforms == {"pc"}


def test_sessions_are_diffed_per_platform(store: Store) -> None:
    first = platform_result("KIRIKO-12460", "k1", 1000.0)
    later = played(first, "k2", 5000.0, "console", "quickplay", won=2, lost=1)
    events = store.apply_results(src(first, later))
    sessions = [e for e in events if e.type == "session"]
    assert [(e.data.platform, e.data.gamemode, e.data.games, e.data.wins) for e in sessions] == [  # type: ignore[union-attr]
        ("console", "quickplay", 3, 2)
    ]
    history = views.history(store.engine, "KIRIKO-12460", "quickplay")
    assert history.platform == "console" and [s["games"] for s in history.sessions] == [3]
    on_pc = views.history(store.engine, "KIRIKO-12460", "quickplay", platform="pc")
    assert on_pc.sessions == [] and [t["games_played"] for t in on_pc.timeline] == [67, 67]
    report = store.player_report("KIRIKO-12460")
    assert report is not None
    latest = report["platforms"]["console"]["gamemodes"]["quickplay"]["latest_session"]
    assert latest["platform"] == "console" and latest["games"] == 3
    assert report["platforms"]["pc"]["gamemodes"]["quickplay"]["latest_session"] is None
    assert report["platforms"]["console"]["gamemodes"]["quickplay"]["overall"]["games_played"] == 96


def test_old_results_are_labelled_both_and_never_diffed_against_one_platform(store: Store) -> None:
    old = ok_result("KIRIKO-12460", "k0", 500.0)  # fetched without a platform: pc + console added by OverFast
    new = platform_result("KIRIKO-12460", "k1", 1000.0, summary=old.summary)
    moved = played(new, "k2", 5000.0, "pc", "competitive", won=1, lost=0)
    events = store.apply_results(src(old, new, moved))
    assert [(e.data.platform, e.data.games) for e in events if e.type == "session"] == [("pc", 1)]  # type: ignore[union-attr]
    report = store.player_report("KIRIKO-12460")
    assert report is not None and list(report["platforms"]) == ["console", "pc", "both"]
    both = report["platforms"]["both"]
    assert both["label"] == "PC + console"
    assert both["gamemodes"]["quickplay"]["overall"] == stored_block(
        recorded("players_KIRIKO-12460_stats_summary_quickplay_all.json")["general"]
    )  # OverFast's own total, as it was, not a sum owstream made
    legacy = views.player(store.engine, "KIRIKO-12460", "quickplay", platform="both")
    assert legacy is not None and legacy.platform == "both"
    assert next(r for r in legacy.stats if r["scope"] == "overall")["games_played"] == 160


def test_seasons_are_per_platform(store: Store) -> None:
    store.apply_results(src(platform_result("KIRIKO-12460", "k1", 1000.0)))
    season = store.season_report("KIRIKO-12460", "current")  # the app's current season, 21: only pc has it
    assert season is not None
    assert {p: per["season"] for p, per in season["platforms"].items()} == {"pc": 21}
    assert season["platform"] == "pc" and season["season"] == 21
    console = store.season_report("KIRIKO-12460", "16")  # console's own last season, asked by its number
    assert console is not None and {p: per["season"] for p, per in console["platforms"].items()} == {"console": 16}
    pc = season["platforms"]["pc"]["gamemodes"]["competitive"]["overall"]
    # one snapshot: the history begins inside season 21, counted from it: no games yet, so no winrate (not 0 %)
    assert (pc["games_played"], pc["winrate"], pc["kda"]) == (0, None, None)
    rows = views.player(store.engine, "KIRIKO-12460", "competitive", "current", platform="pc")
    assert rows is not None and rows.seasons == [21] and rows.season is not None and rows.season.season == 21


def test_a_season_without_games_has_no_winrate(store: Store) -> None:
    first = platform_result("KIRIKO-12460", "k1", 1000.0)
    summary = copy.deepcopy(first.summary)
    assert summary is not None
    summary["competitive"]["console"]["season"] = 17  # a new season on console, nothing played in it yet
    summary["last_updated_at"] += 60
    later = replace(first, result_id="k2", request_ids=["r2"], fetched_at=2000.0, summary=summary)
    store.apply_results(src(first, later))
    season = store.season_report("KIRIKO-12460", "17", platform="console")
    assert season is not None and season["season"] == 17
    overall = season["gamemodes"]["quickplay"]["overall"]
    assert overall["games_played"] == 0 and overall["winrate"] is None and overall["kda"] is None


@pytest.mark.parametrize("platform", [None, "pc"])
def test_the_squad_shows_each_player_on_a_platform(store: Store, platform: str | None) -> None:
    store.apply_results(src(platform_result("KIRIKO-12460", "k1", 1.0), platform_result("JohnV1-1190", "j1", 2.0)))
    squad = views.squad(store.engine, ["KIRIKO-12460", "JohnV1-1190"], "quickplay", None, platform=platform)
    expected = {"KIRIKO-12460": platform or "console", "JohnV1-1190": "pc"}
    assert squad.platforms == expected
    overall = {r["player_id"]: r for r in squad.stats if r["scope"] == "overall"}
    assert {pid: r["platform"] for pid, r in overall.items()} == expected
    assert overall["KIRIKO-12460"]["games_played"] == (93 if platform is None else 67)


# --- a store made before per-platform stats (migration 0010), on SQLite and PostgreSQL ---------------------------


def _as_before_0010(store: Store) -> None:
    """Turn a new store's per-platform tables back into their shape before 0010 (no ``platform`` column, the
    primary keys without it, no per-platform seasons), keeping their rows."""
    from sqlalchemy import Column, MetaData, PrimaryKeyConstraint, Table

    keys = {"stats": ("snapshot_id", "gamemode", "scope", "key"), "sessions": ("to_snapshot_id", "gamemode"),
            "session_parts": ("to_snapshot_id", "gamemode", "scope", "key")}  # fmt: skip
    with store.engine.begin() as conn:
        for name, key in keys.items():
            table = schema.metadata.tables[name]
            columns = [c.name for c in table.columns if c.name != "platform"]
            rows = [dict(r) for r in conn.execute(select(*(table.c[c] for c in columns))).mappings()]
            conn.exec_driver_sql(f"DROP TABLE {name}")
            old = Table(
                name, MetaData(),
                *(Column(c.name, c.type, nullable=c.nullable) for c in table.columns if c.name != "platform"),
                PrimaryKeyConstraint(*key, name=f"{name}_pkey"),
            )  # fmt: skip
            old.create(conn)
            if name == "sessions":
                conn.exec_driver_sql("CREATE INDEX ix_sessions_player_fetched ON sessions (player_id, fetched_at)")
            if rows:
                conn.execute(old.insert(), rows)
        for column in ("season_pc", "season_console"):
            conn.exec_driver_sql(f"ALTER TABLE snapshots DROP COLUMN {column}")
        conn.exec_driver_sql("DELETE FROM schema_migrations WHERE name = '0010_platforms'")


def test_a_store_from_before_0010_reads_as_both_and_takes_platforms(store_url: str) -> None:
    from sqlalchemy import inspect

    from owstream.store.migrations import migrate

    first = ok_result("KIRIKO-12460", "k0", 500.0)
    second = ok_result("KIRIKO-12460", "k1", 900.0, summary={**first.summary, "last_updated_at": 1734242400})  # type: ignore[dict-item]
    with Store.open(store_url) as store:
        store.apply_results(src(first))
        before = store.player_report("KIRIKO-12460")
        _as_before_0010(store)
        assert migrate(store.engine) == ["0010_platforms"]
        assert migrate(store.engine) == []
        for name in ("stats", "sessions", "session_parts"):
            assert "platform" in inspect(store.engine).get_pk_constraint(name)["constrained_columns"]
        after = store.player_report("KIRIKO-12460")
        assert after is not None and before is not None
        # KIRIKO has no rank, so the ranks cannot tell its per-platform seasons: `owstream replay` fills them
        assert after.pop("seasons") == {"pc": None, "console": None} and before.pop("seasons")["pc"] == 21
        assert after == before  # the old rows read as before, as OverFast's total: "both"
        store.apply_results([*src(platform_result("KIRIKO-12460", "k2", 1000.0, summary=second.summary))][:1])
        report = store.player_report("KIRIKO-12460")
        assert report is not None and list(report["platforms"]) == ["console", "pc", "both"]
        assert report["platforms"]["pc"]["gamemodes"]["quickplay"]["overall"]["games_played"] == 67


def test_an_unchanged_scheduled_refresh_is_a_small_result_the_store_reads(store: Store) -> None:
    from owstream.messages import codec
    from support.databases import count
    from support.results import encoded

    digest = codec.digest(codec.encode(recorded("players_KIRIKO-12460_summary.json")))
    full = platform_result("KIRIKO-12460", "k1", 1000.0, summary_digest=digest)
    unchanged = replace(full, result_id="k2", request_ids=["r2"], fetched_at=1600.0, platform_stats={},
                        summary_only=True, summary=None)  # fmt: skip
    assert len(encoded(unchanged)) * 20 <= len(encoded(full))  # a twentieth of the bytes on fetch-results
    new_summary = replace(unchanged, result_id="k3", request_ids=["r3"], fetched_at=2200.0, summary=full.summary)
    rows = None
    for item in (full, unchanged, new_summary):
        events = store.apply_results(src(item))
        assert [e.type for e in events] == ["fetch_stored"]
        rows = rows or count(store, "stats")
    assert count(store, "stats") == rows  # nothing of the stats written again
    with store.engine.connect() as conn:
        s = schema.snapshots.c
        kept = conn.execute(select(s.changed, s.last_updated_at).order_by(s.id)).all()
    assert [tuple(r) for r in kept] == [(True, 1734242338), (False, 1734242338), (False, 1734242338)]
    report = store.player_report("KIRIKO-12460")
    assert report is not None and report["freshness"]["fetched_at"] == 2200.0
    assert report["platforms"]["pc"]["gamemodes"]["quickplay"]["overall"]["games_played"] == 67
    assert store.fetch_facts("KIRIKO-12460").summary_digest == digest
    # a stranger's digest-only result (its earlier results missing) stores its outcome, nothing else
    store.apply_results(src(replace(unchanged, result_id="x1", request_ids=["x"], player_id="Nobody-1234")))
    assert store.player_report("Nobody-1234") is None and store.request_status("x") is not None
