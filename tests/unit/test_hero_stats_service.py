"""The processor's hero-stats part (services/hero_stats.py) on a real store (SQLite and PostgreSQL): every
record it cannot take is a dead letter exactly once, whether it does not decode or the store refuses it, and
the answers the store takes are stored beside the refused one."""

from __future__ import annotations

from collections import Counter

from owstream.bus import Record
from owstream.messages import codec, contracts
from owstream.services.hero_stats import store_answers
from owstream.store import Store
from support.databases import count
from support.replay_server import RESPONSES

BODY = (RESPONSES / "heroes_stats_console_competitive_europe_master.json").read_bytes()
REFUSED_REGION = "asia"


def record(offset: int, region: str) -> Record:
    message = codec.wire_hero_stats(
        BODY, answer_id=f"a{offset}", fetched_at=100.0 + offset, gamemode="competitive", platform="console",
        region=region, division="master",
    )  # fmt: skip
    headers = dict(contracts.HERO_STATS.headers)
    return Record("t.hero-stats", 0, offset, "competitive.console", codec.encode(message), headers)


def refuse_a_region(store: Store, region: str) -> None:
    """A trigger that makes the database refuse (a constraint error) every answer of ``region``."""
    with store.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse_region BEFORE INSERT ON hero_stats "
                f"WHEN NEW.region = '{region}' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
            )
        else:
            conn.exec_driver_sql(
                "CREATE FUNCTION refuse_region() RETURNS trigger AS $$ BEGIN "
                f"IF NEW.region = '{region}' THEN RAISE check_violation USING MESSAGE = 'refused by the test'; "
                "END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse_region BEFORE INSERT ON hero_stats FOR EACH ROW EXECUTE FUNCTION refuse_region()"
            )


def test_a_refused_answer_is_dead_lettered_once_and_the_batch_others_are_stored(store: Store) -> None:
    refuse_a_region(store, REFUSED_REGION)
    garbage = Record("t.hero-stats", 0, 1, "x", b"{not json", dict(contracts.HERO_STATS.headers))
    records = [record(0, "europe"), garbage, record(2, REFUSED_REGION), record(3, "americas")]
    letters: list[tuple[Record, str]] = []

    new = store_answers(store, records, lambda r, why: letters.append((r, why)))

    assert Counter(r.offset for r, _ in letters) == {1: 1, 2: 1}  # each bad record once, the good ones never
    why = {r.offset: w for r, w in letters}
    assert "refused by the test" in why[2] and "refused by the test" not in why[1]
    assert new == 2 and count(store, "hero_stats") == 2
    assert store.hero_stats("competitive", "console", "europe", "master") is not None
    assert store.hero_stats("competitive", "console", "americas", "master") is not None
    assert store.hero_stats("competitive", "console", REFUSED_REGION, "master") is None


def test_a_batch_the_store_takes_has_no_dead_letter(store: Store) -> None:
    letters: list[tuple[Record, str]] = []
    new = store_answers(store, [record(0, "europe"), record(1, "asia")], lambda r, w: letters.append((r, w)))
    assert (new, letters, count(store, "hero_stats")) == (2, [], 2)
