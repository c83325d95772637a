"""owstream.store on real SQLite files: recorded players field for field, outcomes, idempotency, replay,
sessions, resets, rank changes and the read API."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import zstandard
from sqlalchemy import select

from owstream.errors import ProcessingError
from owstream.messages import codec
from owstream.store import SourcedResult, Store, schema
from owstream.store.migrations import MIGRATIONS
from support.databases import count, table_dump
from support.results import (
    MODES,
    OVERFAST,
    PLAYERS,
    TOTALS,
    Result,
    advanced,
    checked,
    data,
    encoded,
    ok_result,
    plain,
    recorded,
    replace,
    result,
    src,
    stored,
)

# --- recorded data, field for field -----------------------------------------------------------------


@pytest.mark.parametrize("player", PLAYERS)
def test_recorded_player_is_stored_field_for_field(store: Store, player: str) -> None:
    result = ok_result(player, "r1", 1000.0)
    events = store.apply_results(src(result))
    assert [(e.type, e.request_id, e.data.outcome) for e in events] == [("fetch_stored", "req-r1", "ok")]
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
    private = result(
        result_id="p1",
        request_ids=["a", "b", "a"],
        player_id="Player-137712",
        fetched_at=10.0,
        outcome="private",
        summary=summary,
        stats={m: recorded(f"private_Player-137712_stats_summary_{m}_all.json") for m in MODES},
    )
    events = store.apply_results(src(private))
    assert [(e.type, e.request_id, e.data.outcome) for e in events] == [
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
    assert data(events[0]) == {"private": False}
    report = store.player_report("Player-137712")
    assert report is not None and report["player"]["private"] is False and set(report["gamemodes"]) == set(MODES)


def test_not_found_and_upstream_errors(store: Store) -> None:
    missing = result(
        result_id="n1",
        request_ids=["q1"],
        player_id="Unknown-1234",
        fetched_at=5.0,
        outcome="not_found",
        status=404,
        error="Player not found",
        retry_after=600,
    )
    busy = result(
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
    assert data(events[0]) == {"error": "Player not found", "retry_after": 600}
    stored_data = {"outcome": "not_found", "error": "Player not found", "retry_after": 600, "suggestion": None}
    assert data(events[1]) == stored_data
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
    store.apply_results(src(replace(busy, result_id="u2", fetched_at=8.0)))
    report = store.player_report("TeKrop-2217")
    assert report is not None and report["player"]["last_outcome"] == "upstream_error"
    assert report["gamemodes"]["competitive"]["overall"]["games_played"] == 19


# --- idempotency and replay -----------------------------------------------------------------------


def test_identical_result_twice_changes_nothing(store: Store) -> None:
    first = ok_result("KIRIKO-12460", "k1", 100.0)
    announced = [e for e in store.apply_results(src(first)) if e.type == "fetch_stored"]
    assert [e.event_id for e in announced] == ["k1:fetch_stored:0"]
    before = table_dump(store)
    # stored again: nothing changes, but fetch_stored is announced again, the same event (lost ones come back)
    assert store.apply_results(src(first)) == announced
    assert store.apply_results(src(first, first)) == announced
    assert table_dump(store) == before
    # a duplicate inside one batch is stored once
    second = ok_result("JohnV1-1190", "j1", 101.0)
    events = store.apply_results(src(second, second))
    assert [e.request_id for e in events] == ["req-j1"]
    assert count(store, "snapshots") == 2 and count(store, "raw_results") == 2


def history(player: str = "TeKrop-2217") -> list[Result]:
    base = ok_result(player, "h0", 1000.0)
    s1 = advanced(base, "h1", 5000.0, {"ana": (2, 1, 1800), "kiriko": (1, 0, 600)})
    same = replace(s1, result_id="h1b", request_ids=["req-h1b"], fetched_at=5600.0)
    s2 = advanced(s1, "h2", 9000.0, {"baptiste": (0, 2, 1300)})
    summary = copy.deepcopy(s2.summary)
    assert summary is not None
    summary["competitive"]["pc"]["support"].update(division="gold", tier=5)
    s2 = replace(s2, summary=summary)
    missing = result(
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
    live = table_dump(store)
    assert live["sessions"] and live["rank_changes"] and live["ranks"]
    store.reset_derived()
    dump = table_dump(store)
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
    assert table_dump(store) == live
    assert [plain(e) for e in replay_events] == [plain(e) for e in live_events]
    # a second store file fed the same batches from a cold start is identical too
    other = Store.open(f"sqlite:///{tmp_path}/other.db")
    try:
        other.watch_add("TeKrop-2217", 1.0)
        other.apply_results(src(*results[:2]))
        other.close()
        other = Store.open(f"sqlite:///{tmp_path}/other.db")  # cold cache: state comes from the file
        other.apply_results(src(*results)[2:])
        assert table_dump(other) == live
    finally:
        other.close()


# --- sessions, resets, unchanged snapshots, rank changes ------------------------------------------


def test_sessions_between_two_snapshots_match_what_was_added(store: Store) -> None:
    base, s1, same, s2, _ = history()
    store.apply_results(src(base))
    events = store.apply_results(src(s1))
    session_events = [e for e in events if e.type == "session"]
    assert all(codec.decode_event(codec.encode(e)) == e for e in events)  # they go to Kafka as they are
    assert len(session_events) == 1
    played = data(session_events[0])
    assert (played["gamemode"], played["games"], played["wins"], played["losses"]) == ("competitive", 4, 3, 1)
    assert played["time_played"] == 2400 and played["winrate"] == 75.0 and played["is_reset"] is False
    assert played["heroes"] == ["ana", "kiriko"]
    assert (played["eliminations"], played["assists"], played["deaths"]) == (4, 8, 12)
    assert played["kda"] == 1.0
    assert played["started_at"] == 1678536999 and played["ended_at"] == 1678536999 + 3600
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
                schema.session_parts.c.scope,
                schema.session_parts.c.key,
                schema.session_parts.c.games,
            )
        ).all()
    assert sorted(parts) == [("hero", "ana", 3), ("hero", "kiriko", 1), ("role", "support", 4)]
    # the unchanged snapshot (same last_updated_at) is recorded but adds no stats and no session
    stats_before = count(store, "stats")
    events = store.apply_results(src(same))
    assert [e.type for e in events] == ["fetch_stored"]
    assert count(store, "stats") == stats_before and count(store, "sessions") == 1
    with store.engine.connect() as conn:
        snaps = schema.snapshots.c
        flags = conn.execute(select(snaps.result_id, snaps.changed).order_by(snaps.id)).all()
    assert flags == [("h0", True), ("h1", True), ("h1b", False)]
    # the next session is measured from the last *changed* snapshot, with a rank change
    events = store.apply_results(src(s2))
    kinds = [e.type for e in events]
    assert kinds == ["rank_change", "session", "fetch_stored"]
    assert data(events[0]) == {
        "platform": "pc",
        "role": "support",
        "season": 22,
        "from_division": "silver",
        "from_tier": 4,
        "to_division": "gold",
        "to_tier": 5,
    }
    assert (
        data(events[1])["games"] == 2 and data(events[1])["losses"] == 2 and data(events[1])["heroes"] == ["baptiste"]
    )
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
    new_season = replace(base, result_id="s1", fetched_at=2.0, stats=stats, summary=summary)
    store.apply_results(src(base))
    events = store.apply_results(src(new_season))
    sessions = [e for e in events if e.type == "session"]
    assert len(sessions) == 1 and data(sessions[0])["is_reset"] is True
    assert [data(e)["to_division"] for e in events if e.type == "rank_change"] == [None]
    with store.engine.connect() as conn:
        for table in ("sessions", "session_parts"):
            t = schema.metadata.tables[table]
            for row in conn.execute(select(t)).mappings():
                numbers = [row[c] for c in ("games", "wins", "losses", "time_played", *TOTALS, "winrate", "kda")]
                assert all(v >= 0 for v in numbers), (table, dict(row))
        is_reset = conn.execute(select(schema.sessions.c.is_reset)).scalar_one()
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
        assert table_dump(other) == table_dump(store)
    finally:
        other.close()
    assert [plain(e) for e in batch_events] == [plain(e) for e in single_events]
    assert [e.type for e in batch_events].count("session") == 2


def test_unknown_hero_keys_survive_and_unknown_fields_stay_in_the_raw_result(store: Store) -> None:
    base = ok_result("JohnV1-1190", "u0", 1.0)
    stats = copy.deepcopy(base.stats)
    hero = copy.deepcopy(stats["quickplay"]["heroes"]["ana"])
    hero["mvp_cards"] = 4
    hero["total"]["objective_time"] = 99
    stats["quickplay"]["heroes"]["zz-newhero"] = hero
    grown = replace(base, stats=stats)
    store.apply_results(src(grown))
    report = store.player_report("JohnV1-1190")
    assert report is not None
    known = {k: v for k, v in hero.items() if k != "mvp_cards"}
    known["total"] = {k: v for k, v in hero["total"].items() if k != "objective_time"}
    assert report["gamemodes"]["quickplay"]["heroes"]["zz-newhero"] == known
    with store.engine.connect() as conn:
        payload = conn.execute(select(schema.raw_results.c.payload)).scalar_one()
    kept = json.loads(codec.decompress(payload, 1 << 24))
    assert kept["stats"]["quickplay"]["heroes"]["zz-newhero"] == hero  # for a version that knows them: replay


def test_a_result_that_cannot_be_normalised_raises_and_writes_nothing(store: Store) -> None:
    good = ok_result("TeKrop-2217", "g1", 1.0)
    store.apply_results(src(good))
    before = table_dump(store)
    bad = replace(good, result_id="bad", summary=None)  # "ok" without a summary
    later = advanced(good, "g2", 2.0, {"ana": (1, 0, 600)})
    with pytest.raises(ProcessingError, match=r"result bad of TeKrop-2217: .*without a summary"):
        store.apply_results(src(later, bad))
    assert table_dump(store) == before
    events = store.apply_results(src(later))  # the cache was not left holding the rolled-back batch
    assert [e.type for e in events] == ["session", "fetch_stored"]


def test_results_read_again_announce_the_same_events_derived_from_the_store(store: Store, tmp_path: Path) -> None:
    """A processor that died after its store commit and before Kafka took the events reads the results again:
    every event comes back, with the same id and the same data (the consumers dedupe by id)."""
    base, s1, same, s2, missing = history()
    summary = copy.deepcopy(s2.summary)
    summary["competitive"] = None
    summary["last_updated_at"] = None
    private = replace(s2, result_id="h5", fetched_at=9900.0, outcome="private", summary=summary, stats={})
    public = advanced(s2, "h6", 9950.0, {"ana": (1, 0, 300)})
    results = [
        base,
        s1,
        same,
        s2,
        missing,
        private,
        public,
        result(
            result_id="nf", player_id="Unknown-1234", fetched_at=1.0, outcome="not_found", error="no", retry_after=600.0
        ),
    ]
    first = [e for item in src(*results) for e in store.apply_results([item])]
    assert {e.type for e in first} == {"fetch_stored", "session", "rank_change", "privacy_change", "not_found"}
    assert store.apply_results(src(*results)) == first  # one batch, all stored already
    again = [e for item in src(*results) for e in store.apply_results([item])]
    assert again == first
    cold = Store.open(store.engine.url.render_as_string(hide_password=False))  # no cache: only the store knows
    try:
        assert cold.apply_results(src(*results)) == first
    finally:
        cold.close()
    assert [codec.encode(e) for e in again] == [codec.encode(e) for e in first]  # the very same bytes


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


def test_history(store: Store) -> None:
    store.apply_results(src(*history()))
    columns, rows = store.history("TeKrop-2217")
    assert len(rows) == 6  # 3 changed snapshots x 2 gamemodes
    table = [dict(zip(columns, row, strict=True)) for row in rows]
    comp = [row for row in table if row["gamemode"] == "competitive"]
    assert [row["games"] for row in comp] == [19, 23, 25]
    assert [row["rank_pc_support"] for row in comp] == ["silver 4", "silver 4", "gold 5"]
    assert {"fetched_at", "last_updated_at", "wins", "losses", "winrate", "kda", "time_played_hours"} <= set(columns)
    assert store.history("Nobody-1234")[1] == []


def test_open_creates_schema_once_and_reopens(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/a/b/store.db"
    first = Store.open(url)
    first.apply_results(src(ok_result("JohnV1-1190", "x", 1.0)))
    first.close()
    again = Store.open(url)
    try:
        with again.engine.connect() as conn:
            names = conn.execute(select(schema.schema_migrations.c.name)).scalars().all()
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
        sessions = [data(e) for e in events if e.type == "session"]
        assert [(d["games"], d["heroes"]) for d in sessions] == [(2, ["lucio"])]
        for batch in ((base, s1), (s2,), (s3,)):  # same batches: same source offsets
            alone.apply_results(src(*batch))
        assert table_dump(first) == table_dump(alone)
    finally:
        for s in (first, second, alone):
            s.close()


def test_raw_results_keep_the_kafka_value_as_it_came(store: Store) -> None:
    first = ok_result("JohnV1-1190", "raw1", 1.0)
    second = ok_result("KIRIKO-12460", "raw2", 2.0)
    third = ok_result("TeKrop-2217", "raw3", 3.0)
    kafka_value = encoded(second)  # how results travel: plain JSON (the producer compresses batches)
    old_value = zstandard.ZstdCompressor().compress(encoded(third))  # how they travelled before
    store.apply_results(
        [
            SourcedResult(stored(first), "topic-a", 3, 41),
            SourcedResult(stored(second), "topic-a", 4, 7, kafka_value),
            SourcedResult(codec.decode_stored(old_value), "topic-a", 5, 9, old_value),
        ]
    )
    raw = schema.raw_results
    with store.engine.connect() as conn:
        rows = conn.execute(select(raw).order_by(raw.c.result_id)).mappings().all()
    assert [(r["source_topic"], r["source_partition"], r["source_offset"]) for r in rows] == [
        ("topic-a", 3, 41),
        ("topic-a", 4, 7),
        ("topic-a", 5, 9),
    ]
    assert not kafka_value.startswith(codec.ZSTD_MAGIC)
    assert rows[2]["payload"] == old_value  # an old zstd frame is kept as it came, not compressed twice
    payloads = [codec.decompress(r["payload"], 1 << 24) for r in rows]
    assert payloads[1] == kafka_value and payloads[2] == encoded(third)
    assert [codec.decode_result(p) for p in payloads] == [checked(first), checked(second), checked(third)]
