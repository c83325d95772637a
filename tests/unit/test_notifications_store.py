"""The store's side of alerts and of the fetcher's "ask OverFast?": webhooks per tracked player, deliveries
by event id (once each, claimed by one notifier, dropped when the webhook goes), the last fetches of a
player, and migration 0007 on a store from before it. SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, inspect, text

from owstream.domain.freshness import LastFetches, known_answer
from owstream.store import Store
from owstream.store.migrations import migrate
from support.results import ok_result, result, src


def delivery(event_id: str, player_id: str = "TeKrop-2217", at: float = 100.0) -> dict[str, object]:
    return {"event_id": event_id, "player_id": player_id, "event_type": "rank_change", "event": "{}", "created_at": at}


def test_webhooks_only_for_tracked_players(store: Store) -> None:
    notes = store.notifications
    assert not notes.set_target("TeKrop-2217", "https://discord.com/api/webhooks/1/t", None, 10.0)  # not tracked
    store.watch_add("TeKrop-2217", 1.0)
    store.watch_add("KIRIKO-12460", 1.0)
    assert notes.set_target("TeKrop-2217", "https://discord.com/api/webhooks/1/t", "slack", 10.0)
    (target,) = notes.targets(["TeKrop-2217", "KIRIKO-12460", "Nobody-1234"]).values()
    assert (target.player_id, target.url, target.format, target.since) == (
        "TeKrop-2217", "https://discord.com/api/webhooks/1/t", "slack", 10.0,
    )  # fmt: skip
    entry = next(e for e in store.watchlist() if e.player_id == "TeKrop-2217")
    assert entry.notify_url == "https://discord.com/api/webhooks/1/t" and entry.notify_format == "slack"
    assert notes.set_target("TeKrop-2217", None, None, 20.0)
    assert notes.targets(["TeKrop-2217"]) == {}


def test_a_delivery_is_recorded_once_claimed_once_and_finished(store: Store) -> None:
    notes = store.notifications
    assert notes.add([delivery("e1"), delivery("e2", at=101.0)]) == {"e1": "pending", "e2": "pending"}
    assert notes.add([delivery("e1", at=500.0)]) == {"e1": "pending"}  # the same event again: nothing new
    due = notes.due(now=100.5)
    assert [d.event_id for d in due] == ["e1"] and due[0].created_at == 100.0
    first = due[0]
    assert notes.claim(first, until=200.0)
    assert not notes.claim(first, until=300.0)  # another notifier came second
    assert [d.event_id for d in notes.due(now=150.0)] == ["e2"]
    notes.record(
        "e1", status="pending", attempts=1, now=150.0, next_attempt_at=160.0, http_status=503, error="HTTP 503"
    )
    again = next(d for d in notes.due(now=160.0) if d.event_id == "e1")
    assert (again.event_id, again.attempts, again.last_status, again.last_error) == ("e1", 1, 503, "HTTP 503")
    notes.record("e1", status="sent", attempts=2, now=161.0, http_status=204)
    assert notes.statuses(["e1", "e2", "nope"]) == {"e1": "sent", "e2": "pending"}
    assert notes.counts() == {"sent": 1, "pending": 1}
    assert [d.event_id for d in notes.unfinished_and_failed()] == ["e2"]
    assert notes.next_due_at() == 101.0


def test_untracking_or_clearing_the_webhook_drops_what_waits(store: Store) -> None:
    notes = store.notifications
    for pid in ("TeKrop-2217", "KIRIKO-12460"):
        store.watch_add(pid, 1.0)
        notes.set_target(pid, "https://example.com/hook/x", None, 1.0)
    notes.add([delivery("a", "TeKrop-2217"), delivery("b", "KIRIKO-12460")])
    assert store.watch_remove("TeKrop-2217")
    assert notes.set_target("KIRIKO-12460", None, None, 5.0)
    assert notes.statuses(["a", "b"]) == {"a": "dropped", "b": "dropped"}
    assert notes.due(now=1e9) == []


def test_the_last_fetches_of_a_player(store: Store) -> None:
    assert store.last_fetches("TeKrop-2217") == LastFetches()
    missing = result(result_id="n1", player_id="Unknown-1234", fetched_at=1000.0, outcome="not_found",
                     status=404, error="Player not found", retry_after=600)  # fmt: skip
    store.apply_results(src(missing, ok_result("TeKrop-2217", "t1", 2000.0)))
    assert store.last_fetches("TeKrop-2217") == LastFetches(fetched_at=2000.0)
    unknown = store.last_fetches("Unknown-1234")
    assert unknown == LastFetches(None, 1000.0, 600.0)
    answer = known_answer(unknown, 1300.0, cache_seconds=600, forced=False)
    assert answer is not None and answer.outcome == "not_found" and answer.retry_after == 300.0
    assert known_answer(unknown, 1300.0, cache_seconds=600, forced=True) is None
    assert known_answer(unknown, 1601.0, cache_seconds=600, forced=False) is None  # OverFast looks again
    skipped = result(result_id="s1", player_id="TeKrop-2217", fetched_at=2100.0, outcome="skipped")
    store.apply_results(src(skipped))
    assert store.last_fetches("TeKrop-2217").fetched_at == 2000.0  # a skipped fetch is not a fetch


def test_freshness_rules() -> None:
    fresh = LastFetches(fetched_at=1000.0)
    assert known_answer(fresh, 1599.0, cache_seconds=600, forced=False).outcome == "skipped"  # type: ignore[union-attr]
    assert known_answer(fresh, 1600.0, cache_seconds=600, forced=False) is None
    found_since = LastFetches(fetched_at=1100.0, not_found_at=1000.0, not_found_retry_after=5400.0)
    assert known_answer(found_since, 1800.0, cache_seconds=600, forced=False) is None  # found: the wait is over
    memory = LastFetches(fetched_at=3000.0)
    assert LastFetches(1000.0, 2000.0, 600.0).merged(memory) == LastFetches(3000.0, 2000.0, 600.0)


def test_a_store_from_before_0007_gets_webhooks_and_deliveries(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    with Store.open(url) as store:
        store.watch_add("TeKrop-2217", 1.0)
    engine = create_engine(url)
    with engine.begin() as conn:  # a store written before 0007
        conn.execute(text("DROP TABLE deliveries"))
        conn.execute(text("DROP TABLE player_aliases"))
        conn.execute(text("DROP INDEX ix_fetch_outcomes_player"))
        for column in ("notify_url", "notify_format", "notify_since"):
            conn.execute(text(f"ALTER TABLE watchlist DROP COLUMN {column}"))
        conn.execute(text("DELETE FROM schema_migrations WHERE name = '0007_notifications'"))
    assert migrate(engine) == ["0007_notifications"]
    assert migrate(engine) == []
    columns = {c["name"] for c in inspect(engine).get_columns("watchlist")}
    assert {"notify_url", "notify_format", "notify_since"} <= columns
    assert {"deliveries", "player_aliases"} <= set(inspect(engine).get_table_names())
    assert "ix_fetch_outcomes_player" in {ix["name"] for ix in inspect(engine).get_indexes("fetch_outcomes")}
    engine.dispose()
    with Store.open(url) as store:
        assert store.notifications.set_target("TeKrop-2217", "https://example.com/h/x", None, 2.0)
        assert store.notifications.add([delivery("e")]) == {"e": "pending"}
