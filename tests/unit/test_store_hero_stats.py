"""The meta's history in the store (SQLite and PostgreSQL): OverFast's /heroes/stats answers kept as they
came, idempotent by answer id, newest per combination, and migration 0006 on an older store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect, select, text

from owstream.messages import codec
from owstream.store import SourcedAnswer, Store, schema
from owstream.store.migrations import MIGRATIONS, migrate
from support.databases import count
from support.replay_server import RESPONSES

RECORDED = RESPONSES / "heroes_stats_console_competitive_europe_master.json"


def answer(body: bytes, at: float, answer_id: str, offset: int = 0, **combination: Any) -> SourcedAnswer:
    fields = {"gamemode": "competitive", "platform": "console", "region": "europe", "division": "master"}
    fields |= combination
    message = codec.wire_hero_stats(body, answer_id=answer_id, fetched_at=at, cache_headers={"x-cache-ttl": "3600"},
                                    **fields)  # fmt: skip
    wire, rows = codec.decode_hero_stats(codec.encode(message))
    return SourcedAnswer(wire, rows, "t.hero-stats", 0, offset)


def test_an_answer_is_kept_as_it_came_and_stored_once(store: Store) -> None:
    body = RECORDED.read_bytes()
    first = answer(body, 100.0, "a1")
    assert store.apply_hero_stats([first]) == 1
    assert store.apply_hero_stats([first, first]) == 0  # redelivered: nothing changes
    assert count(store, "hero_stats") == 1
    stored = store.hero_stats("competitive", "console", "europe", "master")
    assert stored is not None
    assert stored.heroes == body  # OverFast's bytes
    assert (stored.division, stored.role, stored.fetched_at, stored.status) == ("master", None, 100.0, 200)
    assert stored.cache_headers == {"x-cache-ttl": "3600"}
    assert stored.key == "competitive.console.europe.master.all"
    h = schema.hero_stat_rows.c
    with store.engine.connect() as conn:
        rows = conn.execute(select(h.hero, h.pickrate, h.winrate).where(h.answer_id == "a1")).all()
    assert sorted(tuple(r) for r in rows) == sorted((r["hero"], r["pickrate"], r["winrate"]) for r in json.loads(body))


def test_newest_answer_per_combination(store: Store) -> None:
    rows = b'[{"hero":"ana","pickrate":10.0,"winrate":50.0}]'
    store.apply_hero_stats(
        [
            answer(rows, 100.0, "old", 0),
            answer(rows.replace(b"50.0", b"51.5"), 200.0, "new", 1),
            answer(rows, 300.0, "gold", 2, division="gold"),
            answer(rows, 400.0, "all", 3, division=None),
            answer(rows, 500.0, "qp", 4, gamemode="quickplay", division=None),
            answer(rows, 600.0, "tanks", 5, division=None, role="tank"),
        ]
    )
    newest = store.hero_stats("competitive", "console", "europe", "master")
    assert newest is not None and newest.answer_id == "new" and b"51.5" in newest.heroes
    every = store.hero_stats("competitive", "console", "europe")
    assert every is not None and every.answer_id == "all" and every.division is None
    tanks = store.hero_stats("competitive", "console", "europe", role="tank")
    assert tanks is not None and tanks.answer_id == "tanks"
    assert store.hero_stats("competitive", "pc", "europe") is None
    assert store.hero_stats_fetched() == {
        "competitive.console.europe.master.all": 200.0,
        "competitive.console.europe.gold.all": 300.0,
        "competitive.console.europe.all.all": 400.0,
        "quickplay.console.europe.all.all": 500.0,
        "competitive.console.europe.all.tank": 600.0,
    }


def test_a_hero_listed_twice_keeps_the_array_and_its_first_row(store: Store) -> None:
    body = b'[{"hero":"ana","pickrate":10.0,"winrate":50.0},{"hero":"ana","pickrate":11.0,"winrate":40.0}]'
    assert store.apply_hero_stats([answer(body, 1.0, "twice")]) == 1
    with store.engine.connect() as conn:
        rows = conn.execute(select(schema.hero_stat_rows.c.pickrate)).scalars().all()
    assert rows == [10.0]
    stored = store.hero_stats("competitive", "console", "europe", "master")
    assert stored is not None and stored.heroes == body


def test_replay_leaves_the_meta_alone(store: Store) -> None:
    store.apply_hero_stats([answer(RECORDED.read_bytes(), 1.0, "kept")])
    store.reset_derived()  # what `owstream replay` empties: fetch-results' tables only
    assert count(store, "hero_stats") == 1


def test_a_store_from_before_0006_gets_the_meta_tables(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'before-0006.db'}"
    Store.open(url).close()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE hero_stat_rows"))
        conn.execute(text("DROP TABLE hero_stats"))
        conn.execute(text("DELETE FROM schema_migrations WHERE name = '0006_hero_stats'"))
    assert "hero_stats" not in inspect(engine).get_table_names()
    assert migrate(engine) == ["0006_hero_stats"]
    assert {"hero_stats", "hero_stat_rows"} <= set(inspect(engine).get_table_names())
    assert "ix_hero_stats_combination" in {ix["name"] for ix in inspect(engine).get_indexes("hero_stats")}
    engine.dispose()
    assert "0006_hero_stats" in [name for name, _ in MIGRATIONS]
    with Store.open(url) as store:
        assert store.apply_hero_stats([answer(RECORDED.read_bytes(), 1.0, "after")]) == 1
