"""Adaptive refresh (owstream.domain.refresh): a player who just played is refreshed at the cache interval, one
idle for days less often, at most hourly after a week; the scheduler follows it, and the read model says when
each tracked player is next refreshed and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from owstream.config import Settings
from owstream.domain.refresh import DAY, RefreshPolicy, next_refresh_at, policy_of, refresh_of
from owstream.services.scheduler import Scheduler
from owstream.store import Store, views
from support.results import ok_result, replace, src

NOW = 1_800_000_000.0
POLICY = RefreshPolicy(base=600.0, longest=3600.0)


@pytest.mark.parametrize(
    ("idle", "interval"),
    [(0.0, 600.0), (3600.0, 600.0), (DAY, 600.0), (4 * DAY, 2100.0), (7 * DAY, 3600.0), (90 * DAY, 3600.0)],
)
def test_the_interval_grows_with_idle_time_up_to_an_hour(idle: float, interval: float) -> None:
    assert refresh_of(POLICY, NOW - idle, NOW).interval == pytest.approx(interval)


def test_unknown_or_off_is_the_base_interval() -> None:
    assert refresh_of(POLICY, None, NOW).interval == 600.0
    off = RefreshPolicy(base=600.0, longest=3600.0, adaptive=False)
    assert refresh_of(off, NOW - 90 * DAY, NOW).interval == 600.0
    assert "adaptive refresh off" in refresh_of(off, NOW, NOW).why


def test_the_next_refresh_and_why() -> None:
    assert next_refresh_at(POLICY, None, None, NOW) == (NOW, "never fetched: now")
    at, why = next_refresh_at(POLICY, NOW - 100, NOW - 7200, NOW)
    assert at == NOW - 100 + 600 and why == "played 2.0 h ago: every 10 min"
    at, why = next_refresh_at(POLICY, NOW - 100, NOW - 30 * DAY, NOW)
    assert at == NOW - 100 + 3600 and why == "idle for 30 days: every 60 min"


def test_settings_make_the_policy() -> None:
    settings = Settings(refresh_interval=300, overfast_cache_seconds=600, refresh_max_interval=1800)
    assert policy_of(settings) == RefreshPolicy(base=600.0, longest=1800.0, adaptive=True)


@pytest.fixture
def local_store(tmp_path: Path) -> Store:
    return Store.open(f"sqlite:///{tmp_path / 's.db'}")


def test_the_scheduler_refreshes_the_active_often_and_the_idle_hourly(local_store: Store, tmp_path: Path) -> None:
    active = ok_result("TeKrop-2217", "t1", NOW - 700)
    assert active.summary is not None
    recent = replace(active, summary={**active.summary, "last_updated_at": int(NOW - 7200)})
    idle = ok_result("JohnV1-1190", "j1", NOW - 700)  # last updated in 2022: idle for years
    local_store.apply_results(src(recent, idle))
    for pid in ("TeKrop-2217", "JohnV1-1190", "KIRIKO-12460"):  # KIRIKO never fetched
        local_store.watch_add(pid, NOW - 1000)
    scheduler = Scheduler(Settings(home=tmp_path, refresh_interval=600), local_store)
    assert scheduler.due(NOW) == ["KIRIKO-12460", "TeKrop-2217"]  # JohnV1: fetched 700 s ago, due after 3600 s
    assert scheduler.due(NOW + 2900) == ["JohnV1-1190", "KIRIKO-12460", "TeKrop-2217"]
    rows = {row.player_id: row for row in views.watchlist(local_store.engine, scheduler.policy, NOW)}
    assert rows["TeKrop-2217"].next_refresh_at == NOW - 700 + 600
    assert rows["TeKrop-2217"].refresh_why == "played 2.0 h ago: every 10 min"
    assert rows["JohnV1-1190"].next_refresh_at == NOW - 700 + 3600 and "idle for" in rows["JohnV1-1190"].refresh_why
    assert (rows["KIRIKO-12460"].next_refresh_at, rows["KIRIKO-12460"].refresh_why) == (NOW, "never fetched: now")
    local_store.close()
