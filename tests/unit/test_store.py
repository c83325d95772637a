"""owstream.store on real SQLite files: recorded players field for field, outcomes, idempotency, replay,
sessions, resets, rank changes and the read API."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import zstandard
from sqlalchemy import func, select

from owstream.errors import ProcessingError
from owstream.messages import ZSTD_MAGIC, FetchResult, PlayerEvent
from owstream.store import SourcedResult, Store
from owstream.store.migrations import MIGRATIONS

OVERFAST = Path(__file__).resolve().parents[2].parent / "shared" / "overfast"
PLAYERS = ("TeKrop-2217", "KIRIKO-12460", "JohnV1-1190")
MODES = ("quickplay", "competitive")
TOTALS = ("eliminations", "assists", "deaths", "damage", "healing")


def recorded(name: str) -> Any:
    return json.loads((OVERFAST / "responses2" / name).read_text())


def ok_result(player: str, result_id: str, at: float, **changes: Any) -> FetchResult:
    fields: dict[str, Any] = {
        "result_id": result_id,
        "request_ids": [f"req-{result_id}"],
        "player_id": player,
        "fetched_at": at,
        "outcome": "ok",
        "summary": recorded(f"players_{player}_summary.json"),
        "stats": {m: recorded(f"players_{player}_stats_summary_{m}_all.json") for m in MODES},
    }
    fields.update(changes)
    return FetchResult(**fields)


def advanced(result: FetchResult, result_id: str, at: float, plays: dict[str, tuple[int, int, int]]) -> FetchResult:
    """``result`` one hour later with competitive games added: hero -> (won, lost, seconds), all support."""
    summary = copy.deepcopy(result.summary)
    assert summary is not None
    summary["last_updated_at"] += 3600
    stats = copy.deepcopy(result.stats)
    body = stats["competitive"]
    for hero, (won, lost, seconds) in plays.items():
        for block in (body["heroes"][hero], body["roles"]["support"], body["general"]):
            add(block, won, lost, seconds)
    return result.model_copy(
        update={
            "result_id": result_id,
            "request_ids": [f"req-{result_id}"],
            "fetched_at": at,
            "summary": summary,
            "stats": stats,
        }
    )


def add(block: dict[str, Any], won: int, lost: int, seconds: int) -> None:
    block["games_played"] += won + lost
    block["games_won"] += won
    block["games_lost"] += lost
    block["time_played"] += seconds
    for i, name in enumerate(TOTALS):
        block["total"][name] += (won + lost) * (i + 1)


def src(*results: FetchResult) -> list[SourcedResult]:
    return [SourcedResult(r, "owstream.fetch-results", 0, i) for i, r in enumerate(results)]


def count(store: Store, table: str) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(store.tables[table])).scalar_one())


# --- recorded data, field for field -----------------------------------------------------------------


@pytest.mark.parametrize("player", PLAYERS)
def test_recorded_player_is_stored_field_for_field(store: Store, player: str) -> None:
    result = ok_result(player, "r1", 1000.0)
    events = store.apply_results(src(result))
    assert [(e.type, e.request_id, e.data["outcome"]) for e in events] == [("fetch_stored", "req-r1", "ok")]
    report = store.player_report(player)
    assert report is not None
    summary = result.summary
    assert summary is not None
    assert report["player"]["name"] == summary["username"]
    assert report["player"]["title"] == summary["title"]
    assert report["player"]["endorsement_level"] == summary["endorsement"]["level"]
    assert report["player"]["private"] is False and report["player"]["last_outcome"] == "ok"
    assert report["freshness"] == {
        "fetched_at": 1000.0,
        "stats_fetched_at": 1000.0,
        "last_updated_at": summary["last_updated_at"],
    }
    for mode in MODES:
        body, stored = result.stats[mode], report["gamemodes"][mode]
        assert stored["overall"] == body["general"]
        assert stored["roles"] == body["roles"]
        assert stored["heroes"] == body["heroes"]
        assert stored["latest_session"] is None
    expected_ranks = [
        (platform, role, block["season"], rank["division"], rank["tier"], rank["rank_icon"])
        for platform, block in sorted((summary["competitive"] or {}).items())
        if block
        for role, rank in sorted(block.items())
        if role != "season" and rank
    ]
    got = [(r["platform"], r["role"], r["season"], r["division"], r["tier"], r["rank_icon"]) for r in report["ranks"]]
    assert got == expected_ranks
    if player == "TeKrop-2217":
        assert got[0][:5] == ("pc", "support", 22, "silver", 4)
    only = store.player_report(player, gamemode="competitive")
    assert only is not None and list(only["gamemodes"]) == ["competitive"]


def test_private_player_then_public_again(store: Store) -> None:
    summary = json.loads((OVERFAST / "responses" / "private_Player-137712_summary.json").read_text())
    private = FetchResult(
        result_id="p1",
        request_ids=["a", "b", "a"],
        player_id="Player-137712",
        fetched_at=10.0,
        outcome="private",
        summary=summary,
        stats={m: recorded(f"private_Player-137712_stats_summary_{m}_all.json") for m in MODES},
    )
    events = store.apply_results(src(private))
    assert [(e.type, e.request_id, e.data["outcome"]) for e in events] == [
        ("fetch_stored", "a", "private"),
        ("fetch_stored", "b", "private"),
    ]
    report = store.player_report("Player-137712")
    assert report is not None and report["player"]["private"] is True and report["gamemodes"] == {}
    assert report["player"]["name"] == "Player" and report["ranks"] == []
    status = store.request_status("b")
    assert status is not None and (status.outcome, status.player_id, status.at) == (
        "private",
        "Player-137712",
        10.0,
    )
    # the same profile opens up: stats arrive and a privacy change is announced
    public = ok_result("TeKrop-2217", "p2", 20.0, player_id="Player-137712")
    events = store.apply_results(src(public))
    assert [e.type for e in events] == ["privacy_change", "fetch_stored"]
    assert events[0].data == {"private": False}
    report = store.player_report("Player-137712")
    assert report is not None and report["player"]["private"] is False and set(report["gamemodes"]) == set(MODES)


def test_not_found_and_upstream_errors(store: Store) -> None:
    missing = FetchResult(
        result_id="n1",
        request_ids=["q1"],
        player_id="Unknown-1234",
        fetched_at=5.0,
        outcome="not_found",
        status=404,
        error="Player not found",
        retry_after=600,
    )
    busy = FetchResult(
        result_id="u1",
        request_ids=["q2"],
        player_id="TeKrop-2217",
        fetched_at=6.0,
        outcome="upstream_error",
        status=503,
        error="Blizzard is rate limiting",
        retry_after=59,
    )
    events = store.apply_results(src(missing, busy))
    assert [(e.type, e.player_id) for e in events] == [
        ("not_found", "Unknown-1234"),
        ("fetch_stored", "Unknown-1234"),
        ("fetch_stored", "TeKrop-2217"),
    ]
    assert events[0].data == {"error": "Player not found", "retry_after": 600}
    assert events[1].data == {"outcome": "not_found", "error": "Player not found", "retry_after": 600}
    assert store.player_report("Unknown-1234") is None
    status = store.request_status("q1")
    assert status is not None
    assert (status.outcome, status.error, status.retry_after, status.at) == (
        "not_found",
        "Player not found",
        600,
        5.0,
    )
    status = store.request_status("q2")
    assert status is not None and (status.outcome, status.retry_after) == ("upstream_error", 59)
    assert store.request_status("nope") is None
    # an error for a known player is recorded as its last outcome, its data stays
    store.apply_results(src(ok_result("TeKrop-2217", "ok1", 7.0)))
    store.apply_results(src(busy.model_copy(update={"result_id": "u2", "fetched_at": 8.0})))
    report = store.player_report("TeKrop-2217")
    assert report is not None and report["player"]["last_outcome"] == "upstream_error"
    assert report["gamemodes"]["competitive"]["overall"]["games_played"] == 19


# --- idempotency and replay -----------------------------------------------------------------------


def test_identical_result_twice_changes_nothing(store: Store) -> None:
    first = ok_result("KIRIKO-12460", "k1", 100.0)
    announced = [e for e in store.apply_results(src(first)) if e.type == "fetch_stored"]
    assert [e.event_id for e in announced] == ["k1:fetch_stored:0"]
    before = store.table_dump()
    # stored again: nothing changes, but fetch_stored is announced again, the same event (lost ones come back)
    assert store.apply_results(src(first)) == announced
    assert store.apply_results(src(first, first)) == announced
    assert store.table_dump() == before
    # a duplicate inside one batch is stored once
    second = ok_result("JohnV1-1190", "j1", 101.0)
    events = store.apply_results(src(second, second))
    assert [e.request_id for e in events] == ["req-j1"]
    assert count(store, "snapshots") == 2 and count(store, "raw_results") == 2


def history(player: str = "TeKrop-2217") -> list[FetchResult]:
    base = ok_result(player, "h0", 1000.0)
    s1 = advanced(base, "h1", 5000.0, {"ana": (2, 1, 1800), "kiriko": (1, 0, 600)})
    same = s1.model_copy(update={"result_id": "h1b", "request_ids": ["req-h1b"], "fetched_at": 5600.0})
    s2 = advanced(s1, "h2", 9000.0, {"baptiste": (0, 2, 1300)})
    summary = copy.deepcopy(s2.summary)
    assert summary is not None
    summary["competitive"]["pc"]["support"].update(division="gold", tier=5)
    s2 = s2.model_copy(update={"summary": summary})
    missing = FetchResult(
        result_id="h3",
        request_ids=["req-h3"],
        player_id=player,
        fetched_at=9500.0,
        outcome="upstream_error",
        error="busy",
    )
    return [base, s1, same, s2, missing]


def test_reset_derived_and_replay_rebuild_an_identical_store(store: Store, tmp_path: Path) -> None:
    results = [*history(), ok_result("KIRIKO-12460", "k1", 50.0)]
    store.watch_add("TeKrop-2217", 1.0)
    live_events = []
    for item in src(*results):  # live: one result per batch
        live_events += store.apply_results([item])
    live = store.table_dump()
    assert live["sessions"] and live["rank_changes"] and live["ranks"]
    store.reset_derived()
    dump = store.table_dump()
    assert set(dump) == {
        "players",
        "snapshots",
        "ranks",
        "stats",
        "sessions",
        "session_parts",
        "rank_changes",
        "fetch_outcomes",
        "raw_results",
    }
    assert all(rows == [] for rows in dump.values())
    assert [w.player_id for w in store.watchlist()] == ["TeKrop-2217"]  # not derived: kept
    replay_events = store.apply_results(src(*results))  # replay: one batch
    assert store.table_dump() == live
    assert [e.model_dump() for e in replay_events] == [e.model_dump() for e in live_events]
    # a second store file fed the same batches from a cold start is identical too
    other = Store.open(f"sqlite:///{tmp_path}/other.db")
    try:
        other.watch_add("TeKrop-2217", 1.0)
        other.apply_results(src(*results[:2]))
        other.close()
        other = Store.open(f"sqlite:///{tmp_path}/other.db")  # cold cache: state comes from the file
        other.apply_results(src(*results)[2:])
        assert other.table_dump() == live
    finally:
        other.close()


# --- sessions, resets, unchanged snapshots, rank changes ------------------------------------------


def test_sessions_between_two_snapshots_match_what_was_added(store: Store) -> None:
    base, s1, same, s2, _ = history()
    store.apply_results(src(base))
    events = store.apply_results(src(s1))
    session_events = [e for e in events if e.type == "session"]
    assert all(PlayerEvent.from_bytes(e.to_bytes()) == e for e in events)  # they go to Kafka as they are
    assert len(session_events) == 1
    data = session_events[0].data
    assert (data["gamemode"], data["games"], data["wins"], data["losses"]) == ("competitive", 4, 3, 1)
    assert data["time_played"] == 2400 and data["winrate"] == 75.0 and data["is_reset"] is False
    assert data["heroes"] == ["ana", "kiriko"]
    assert (data["eliminations"], data["assists"], data["deaths"]) == (4, 8, 12)
    assert data["kda"] == 1.0
    assert data["started_at"] == 1678536999 and data["ended_at"] == 1678536999 + 3600
    report = store.player_report("TeKrop-2217")
    assert report is not None
    latest = report["gamemodes"]["competitive"]["latest_session"]
    assert latest["games"] == 4 and [h["hero"] for h in latest["heroes"]] == ["ana", "kiriko"]
    ana = latest["heroes"][0]
    assert (ana["games"], ana["wins"], ana["losses"], ana["time_played"]) == (3, 2, 1, 1800)
    assert report["gamemodes"]["quickplay"]["latest_session"] is None
    assert report["gamemodes"]["competitive"]["heroes"]["ana"] == s1.stats["competitive"]["heroes"]["ana"]
    with store.engine.connect() as conn:
        parts = conn.execute(
            select(
                store.tables["session_parts"].c.scope,
                store.tables["session_parts"].c.key,
                store.tables["session_parts"].c.games,
            )
        ).all()
    assert sorted(parts) == [("hero", "ana", 3), ("hero", "kiriko", 1), ("role", "support", 4)]
    # the unchanged snapshot (same last_updated_at) is recorded but adds no stats and no session
    stats_before = count(store, "stats")
    events = store.apply_results(src(same))
    assert [e.type for e in events] == ["fetch_stored"]
    assert count(store, "stats") == stats_before and count(store, "sessions") == 1
    with store.engine.connect() as conn:
        snaps = store.tables["snapshots"].c
        flags = conn.execute(select(snaps.result_id, snaps.changed).order_by(snaps.id)).all()
    assert flags == [("h0", True), ("h1", True), ("h1b", False)]
    # the next session is measured from the last *changed* snapshot, with a rank change
    events = store.apply_results(src(s2))
    kinds = [e.type for e in events]
    assert kinds == ["rank_change", "session", "fetch_stored"]
    assert events[0].data == {
        "platform": "pc",
        "role": "support",
        "season": 22,
        "from_division": "silver",
        "from_tier": 4,
        "to_division": "gold",
        "to_tier": 5,
    }
    assert events[1].data["games"] == 2 and events[1].data["losses"] == 2 and events[1].data["heroes"] == ["baptiste"]
    report = store.player_report("TeKrop-2217")
    assert report is not None and (report["ranks"][0]["division"], report["ranks"][0]["tier"]) == ("gold", 5)
    assert [e.event_id for e in events] == ["h2:rank_change:0", "h2:session:0", "h2:fetch_stored:0"]
    assert all(e.at == 9000.0 for e in events)


def test_season_reset_is_flagged_without_negatives(store: Store) -> None:
    base = ok_result("TeKrop-2217", "s0", 1.0)
    stats = copy.deepcopy(base.stats)
    body = stats["competitive"]
    body["heroes"] = {"kiriko": body["heroes"]["kiriko"]}
    body["heroes"]["kiriko"].update(games_played=2, games_won=1, games_lost=1, time_played=1200)
    for block in (body["general"], body["roles"]["support"]):
        block.update(games_played=2, games_won=1, games_lost=1, time_played=1200)
    del body["roles"]["damage"]
    summary = copy.deepcopy(base.summary)
    assert summary is not None
    summary["last_updated_at"] += 86400
    summary["competitive"]["pc"].update(season=23, support=None)
    new_season = base.model_copy(update={"result_id": "s1", "fetched_at": 2.0, "stats": stats, "summary": summary})
    store.apply_results(src(base))
    events = store.apply_results(src(new_season))
    sessions = [e for e in events if e.type == "session"]
    assert len(sessions) == 1 and sessions[0].data["is_reset"] is True
    assert [e.data["to_division"] for e in events if e.type == "rank_change"] == [None]
    with store.engine.connect() as conn:
        for table in ("sessions", "session_parts"):
            t = store.tables[table]
            for row in conn.execute(select(t)).mappings():
                numbers = [row[c] for c in ("games", "wins", "losses", "time_played", *TOTALS, "winrate", "kda")]
                assert all(v >= 0 for v in numbers), (table, dict(row))
        is_reset = conn.execute(select(store.tables["sessions"].c.is_reset)).scalar_one()
    assert is_reset is True
    report = store.player_report("TeKrop-2217")
    assert report is not None and report["gamemodes"]["competitive"]["overall"]["games_played"] == 2


def test_several_snapshots_of_one_player_in_one_batch(store: Store, tmp_path: Path) -> None:
    results = history()
    results.insert(2, ok_result("KIRIKO-12460", "kk", 4000.0))  # another player in between
    batch_events = store.apply_results(src(*results))
    other = Store.open(f"sqlite:///{tmp_path}/one-by-one.db")
    try:
        single_events = [e for item in src(*results) for e in other.apply_results([item])]
        assert other.table_dump() == store.table_dump()
    finally:
        other.close()
    assert [e.model_dump() for e in batch_events] == [e.model_dump() for e in single_events]
    assert [e.type for e in batch_events].count("session") == 2


def test_unknown_hero_keys_and_fields_survive(store: Store) -> None:
    base = ok_result("JohnV1-1190", "u0", 1.0)
    stats = copy.deepcopy(base.stats)
    hero = copy.deepcopy(stats["quickplay"]["heroes"]["ana"])
    hero["mvp_cards"] = 4
    hero["total"]["objective_time"] = 99
    stats["quickplay"]["heroes"]["zz-newhero"] = hero
    store.apply_results(src(base.model_copy(update={"stats": stats})))
    report = store.player_report("JohnV1-1190")
    assert report is not None
    assert report["gamemodes"]["quickplay"]["heroes"]["zz-newhero"] == hero


def test_malformed_body_raises_and_writes_nothing(store: Store) -> None:
    good = ok_result("TeKrop-2217", "g1", 1.0)
    store.apply_results(src(good))
    before = store.table_dump()
    stats = copy.deepcopy(good.stats)
    stats["quickplay"]["heroes"]["ana"]["games_played"] = "many"
    bad = good.model_copy(update={"result_id": "bad", "stats": stats})
    later = advanced(good, "g2", 2.0, {"ana": (1, 0, 600)})
    with pytest.raises(ProcessingError, match=r"bad.*heroes\.ana\.games_played"):
        store.apply_results(src(later, bad))
    assert store.table_dump() == before
    events = store.apply_results(src(later))  # the cache was not left holding the rolled-back batch
    assert [e.type for e in events] == ["session", "fetch_stored"]


# --- the read API -------------------------------------------------------------------------------


def test_watchlist(store: Store) -> None:
    assert store.watch_add("TeKrop-2217", 10.0) is True
    assert store.watch_add("TeKrop-2217", 11.0) is False
    assert store.watch_add("KIRIKO-12460", 12.0) is True
    store.apply_results(src(ok_result("KIRIKO-12460", "w1", 30.0)))
    entries = store.watchlist()
    assert [(w.player_id, w.added_at, w.last_fetched_at) for w in entries] == [
        ("TeKrop-2217", 10.0, None),
        ("KIRIKO-12460", 12.0, 30.0),
    ]
    assert store.watch_remove("TeKrop-2217") is True and store.watch_remove("TeKrop-2217") is False
    store.reset_derived()
    assert [(w.player_id, w.last_fetched_at) for w in store.watchlist()] == [("KIRIKO-12460", None)]


def test_history_frame(store: Store) -> None:
    store.apply_results(src(*history()))
    frame = store.history_frame("TeKrop-2217")
    assert len(frame) == 6  # 3 changed snapshots x 2 gamemodes
    comp = frame[frame["gamemode"] == "competitive"]
    assert list(comp["games"]) == [19, 23, 25]
    assert list(comp["rank_pc_support"]) == ["silver 4", "silver 4", "gold 5"]
    assert {"fetched_at", "last_updated_at", "wins", "losses", "winrate", "kda", "time_played_hours"} <= set(frame)
    assert store.history_frame("Nobody-1234").empty


def test_open_creates_schema_once_and_reopens(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/a/b/store.db"
    first = Store.open(url)
    first.apply_results(src(ok_result("JohnV1-1190", "x", 1.0)))
    first.close()
    again = Store.open(url)
    try:
        with again.engine.connect() as conn:
            names = conn.execute(select(again.tables["schema_migrations"].c.name)).scalars().all()
            mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
            fks = conn.exec_driver_sql("PRAGMA foreign_keys").scalar()
        assert names == [name for name, _ in MIGRATIONS] and mode == "wal" and fks == 1
        assert again.player_report("JohnV1-1190") is not None
    finally:
        again.close()


def test_two_writers_taking_turns_on_one_player(tmp_path: Path) -> None:
    """After a consumer-group rebalance another process may have written a player: caches must notice."""
    base, s1, _, s2, _ = history()
    s3 = advanced(s2, "h4", 12000.0, {"lucio": (1, 1, 900)})
    url = f"sqlite:///{tmp_path}/shared.db"
    first, second, alone = Store.open(url), Store.open(url), Store.open(f"sqlite:///{tmp_path}/alone.db")
    try:
        first.apply_results(src(base, s1))  # first caches TeKrop at s1
        second.apply_results(src(s2))  # the partition moved: second writes s2
        events = first.apply_results(src(s3))  # and back: first must diff s3 against s2, not s1
        sessions = [e.data for e in events if e.type == "session"]
        assert [(d["games"], d["heroes"]) for d in sessions] == [(2, ["lucio"])]
        for batch in ((base, s1), (s2,), (s3,)):  # same batches: same source offsets
            alone.apply_results(src(*batch))
        assert first.table_dump() == alone.table_dump()
    finally:
        for s in (first, second, alone):
            s.close()


def test_raw_results_keep_the_whole_fetch_result(store: Store) -> None:
    first = ok_result("JohnV1-1190", "raw1", 1.0)
    second = ok_result("KIRIKO-12460", "raw2", 2.0)
    third = ok_result("TeKrop-2217", "raw3", 3.0)
    kafka_value = second.to_bytes()  # how results travel: zstd-compressed JSON
    plain_value = third.model_dump_json().encode()  # how they travelled before
    store.apply_results(
        [
            SourcedResult(first, "topic-a", 3, 41),
            SourcedResult(second, "topic-a", 4, 7, kafka_value),
            SourcedResult(third, "topic-a", 5, 9, plain_value),
        ]
    )
    raw = store.tables["raw_results"]
    with store.engine.connect() as conn:
        rows = conn.execute(select(raw).order_by(raw.c.result_id)).mappings().all()
    assert [(r["source_topic"], r["source_partition"], r["source_offset"]) for r in rows] == [
        ("topic-a", 3, 41),
        ("topic-a", 4, 7),
        ("topic-a", 5, 9),
    ]
    assert kafka_value.startswith(ZSTD_MAGIC)
    assert rows[1]["payload"] == kafka_value  # stored as it came, not compressed twice
    payloads = [zstandard.ZstdDecompressor().decompress(r["payload"]) for r in rows]
    assert [FetchResult.from_bytes(p) for p in payloads] == [first, second, third]
    assert payloads[2] == plain_value


def test_sessions_of_several_players_in_a_time_window(store: Store) -> None:
    tekrop = history()
    kiriko = ok_result("KIRIKO-12460", "k0", 1000.0)
    kiriko2 = advanced(kiriko, "k1", 6000.0, {"kiriko": (1, 0, 500)})
    store.apply_results(src(*tekrop, kiriko, kiriko2))
    both = ["TeKrop-2217", "KIRIKO-12460"]
    found = store.sessions(both, 0.0, 10_000.0)
    assert [(s["player_id"], s["fetched_at"], s["games"]) for s in found] == [
        ("TeKrop-2217", 5000.0, 4),
        ("KIRIKO-12460", 6000.0, 1),
        ("TeKrop-2217", 9000.0, 2),
    ]
    assert found[0]["heroes"] == ["ana", "kiriko"] and found[0]["is_reset"] is False
    assert [s["player_id"] for s in store.sessions(both, 5500.0, 9000.0)] == ["KIRIKO-12460"]
    assert store.sessions(["KIRIKO-12460"], 0.0, 10_000.0, gamemode="quickplay") == []
    assert store.sessions([], 0.0, 10_000.0) == []
