"""The fetch plan: which OverFast calls a fetch makes (owstream.domain.fetchplan), and the real client making them
against the recorded answers (tests/fixtures/overfast/responses2: every platform filter of three players),
counted per endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from owstream.domain.fetchplan import (
    RECHECK_OTHER,
    Policy,
    Stored,
    Summary,
    first_call,
    more_platforms,
    platforms_for,
    stats_wanted,
)
from owstream.overfast import OverFastClient, RateLimiter
from owstream.services.fetchplan import fetch_planned
from support.replay_server import ReplayServer, Reply, load_recordings

SCHEDULED, USER = {"scheduled": True, "policy": Policy()}, {"scheduled": False, "policy": Policy()}
BEFORE = {"scheduled": True, "policy": Policy(summary_first=False)}
TEKROP_UPDATED, KIRIKO_UPDATED = 1678536999, 1734242338


def summary(updated: int | None = 100, platforms: tuple[str, ...] = ("pc",), private: bool = False) -> Summary:
    return Summary(private, updated, frozenset(), frozenset(platforms))


PC_PLAYER = Stored(True, 100, frozenset(), frozenset({"pc"}), {("pc", "quickplay"): (10, 600)})


# --- the rules -----------------------------------------------------------------------------------------------


def test_the_first_call_is_the_summary_unless_a_user_asks_for_a_known_player() -> None:
    assert first_call(Stored(), **USER) == "summary"  # unknown: every request for it raises OverFast's backoff
    assert first_call(PC_PLAYER, **USER) == "all"  # latency first
    assert first_call(PC_PLAYER, **SCHEDULED) == "summary"  # cost first
    assert first_call(PC_PLAYER, **BEFORE) == "all"  # the policy off: as before


def test_a_scheduled_refresh_asks_the_stats_only_when_something_moved() -> None:
    assert not stats_wanted(PC_PLAYER, summary(100), **SCHEDULED)
    assert stats_wanted(PC_PLAYER, summary(160), **SCHEDULED)
    ranked = Summary(False, 100, frozenset({("pc", "support", "gold", 3)}), frozenset({"pc"}))
    assert stats_wanted(PC_PLAYER, ranked, **SCHEDULED)  # a rank moved
    assert stats_wanted(PC_PLAYER, summary(100), **USER)  # a user asked: everything
    assert not stats_wanted(PC_PLAYER, summary(None, private=True), **USER)


def test_the_platforms_asked_are_the_stored_and_the_named_ones() -> None:
    assert platforms_for(Stored(), None) == ("pc",)
    assert platforms_for(Stored(), summary(platforms=("pc", "console"))) == ("pc", "console")
    assert platforms_for(Stored(), summary(platforms=("console",))) == ("console",)
    assert platforms_for(PC_PLAYER, summary(platforms=())) == ("pc",)


def test_the_other_platform_is_asked_when_the_first_has_nothing_or_did_not_move() -> None:
    now = 1_000_000.0
    empty = {("pc", "quickplay"): None, ("pc", "competitive"): None}
    assert more_platforms(Stored(), summary(), {"pc"}, empty, now) == ("console",)  # a console player's first fetch
    same = {("pc", "quickplay"): (10, 600), ("pc", "competitive"): None}
    assert more_platforms(PC_PLAYER, summary(160), {"pc"}, same, now) == ("console",)  # played, but not on pc
    assert more_platforms(PC_PLAYER, summary(100), {"pc"}, same, now) == ()  # nothing moved at all
    more = {("pc", "quickplay"): (11, 1200), ("pc", "competitive"): None}
    assert more_platforms(PC_PLAYER, summary(160), {"pc"}, more, now) == ()  # the games are on pc
    assert more_platforms(PC_PLAYER, summary(160), {"pc", "console"}, more, now) == ()  # none left to ask
    both = summary(160, platforms=("pc", "console"))  # a first competitive season on console
    assert more_platforms(PC_PLAYER, both, {"pc"}, more, now) == ("console",)
    # console asked (and empty) an hour ago: a pc player's Stadium evening does not cost it every refresh
    looked = replace(PC_PLAYER, asked_at={"console": now - 3600})
    assert more_platforms(looked, summary(160), {"pc"}, same, now) == ()
    assert more_platforms(looked, summary(160), {"pc"}, same, now + RECHECK_OTHER) == ("console",)


# --- the calls, against recorded answers --------------------------------------------------------------------


@pytest.fixture
def replay() -> Iterator[ReplayServer]:
    with ReplayServer() as server:
        yield server


@pytest.fixture
def client(replay: ReplayServer) -> Iterator[OverFastClient]:
    with OverFastClient(
        replay.url, rate_limit=1000, timeout=5, max_attempts=1, max_backoff=1, limiter=RateLimiter(1000, burst=1000)
    ) as made:
        yield made


def stats_calls(replay: ReplayServer) -> list[str]:
    return sorted(r for r in replay.requests if "/stats/summary" in r)


def test_a_pc_player_costs_a_summary_and_two_stats(client: OverFastClient, replay: ReplayServer) -> None:
    fetched = fetch_planned(client, "TeKrop-2217", Stored(), **USER)  # the summary names pc only
    assert fetched.calls == 3 and len(replay.requests) == 3
    assert stats_calls(replay) == [
        "/players/TeKrop-2217/stats/summary?gamemode=competitive&platform=pc",
        "/players/TeKrop-2217/stats/summary?gamemode=quickplay&platform=pc",
    ]
    assert set(fetched.platform_stats) == {"pc"} and not fetched.private


def test_a_player_of_both_platforms_gets_each_asked(client: OverFastClient, replay: ReplayServer) -> None:
    fetched = fetch_planned(client, "KIRIKO-12460", Stored(), **USER)  # the summary names pc and console
    assert fetched.calls == 5 and len(replay.requests) == 5
    assert set(fetched.platform_stats) == {"pc", "console"}
    assert b'"games_played":93' in fetched.platform_stats["console"]["quickplay"]


def test_a_console_player_unknown_to_the_store_is_found_on_console(
    client: OverFastClient, replay: ReplayServer
) -> None:
    empty = Reply(200, b"{}", {"content-type": "application/json"})
    for mode in ("quickplay", "competitive"):  # JohnV1 as if he played on console only
        pc = f"/players/JohnV1-1190/stats/summary?gamemode={mode}&platform=pc"
        replay.script(pc.replace("=pc", "=console"), [load_recordings()[pc][0]])
        replay.script(pc, [empty])
    fetched = fetch_planned(client, "JohnV1-1190", Stored(), **USER)
    assert fetched.calls == 5 and len(replay.requests) == 5
    assert b"games_played" in fetched.platform_stats["console"]["quickplay"] and not fetched.private


def test_a_scheduled_refresh_of_an_unchanged_player_is_one_call(client: OverFastClient, replay: ReplayServer) -> None:
    known = Stored(True, TEKROP_UPDATED, frozenset({("pc", "support", "silver", 4)}), frozenset({"pc"}))
    fetched = fetch_planned(client, "TeKrop-2217", known, **SCHEDULED)
    assert (fetched.calls, fetched.summary_only, fetched.platform_stats) == (1, True, {})
    assert replay.requests == ["/players/TeKrop-2217/summary"]
    before = fetch_planned(client, "TeKrop-2217", known, **BEFORE)  # the policy off: everything, as before
    assert before.calls == 3 and not before.summary_only


def test_a_users_fetch_of_a_known_player_asks_everything_at_once(client: OverFastClient, replay: ReplayServer) -> None:
    known = Stored(True, KIRIKO_UPDATED, frozenset(), frozenset({"pc", "console"}))
    fetched = fetch_planned(client, "KIRIKO-12460", known, **USER)
    assert fetched.calls == 5 and len(replay.requests) == 5  # one round trip: the stats did not wait for the summary


def test_a_private_profile_costs_the_summary_alone(client: OverFastClient, replay: ReplayServer) -> None:
    fetched = fetch_planned(client, "Player-137712", Stored(), **USER)
    assert fetched.private and fetched.calls == 1 and replay.requests == ["/players/Player-137712/summary"]


def test_an_unchanged_refresh_sends_the_summarys_digest_instead_of_it(
    client: OverFastClient, replay: ReplayServer
) -> None:
    from owstream.messages import codec
    from owstream.services.fetcher import Fetcher

    body = load_recordings()["/players/TeKrop-2217/summary"][0].body
    known = Stored(True, TEKROP_UPDATED, frozenset({("pc", "support", "silver", 4)}), frozenset({"pc"}))
    same = replace(known, summary_digest=codec.digest(body))
    result = Fetcher.fetch_result(client, "TeKrop-2217", ["r"], stored=same, scheduled=True)
    assert (result.outcome, result.summary, result.summary_only) == ("ok", None, True)
    assert result.summary_digest == codec.digest(body) and result.platform_stats == {}
    other = Fetcher.fetch_result(client, "TeKrop-2217", ["r"], stored=known, scheduled=True)  # a new summary
    assert other.summary is not None and bytes(other.summary) == body and other.summary_only
