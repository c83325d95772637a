"""The real OverFast client against the replay server (recorded real responses) and the simulator:
every outcome row of tests/fixtures/overfast/README.md."""

from __future__ import annotations

import json
import random
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from owstream.errors import ClientBug, MalformedResponse, PlayerNotFound, UpstreamBusy, UpstreamUnavailable
from owstream.overfast import OverFastClient, RateLimiter
from owstream.overfast.ratelimit import BURST
from owstream.simulator import Simulator, SimulatorServer
from support.replay_server import RESPONSES, RESPONSES2, ReplayServer, Reply, read_headers, recorded

PLAYERS = ("TeKrop-2217", "KIRIKO-12460", "JohnV1-1190")
RATE_LIMITED = {"error": "API rate limit reached, please wait for 1 second before retrying"}


class CountingLimiter(RateLimiter):
    """A real limiter (generous rate) that also counts how often it was asked."""

    def __init__(self) -> None:
        super().__init__(10_000, burst=10_000)
        self.acquired = 0

    def acquire(self) -> None:
        self.acquired += 1
        super().acquire()


def raw(path: Path) -> bytes:
    """A recorded body's bytes: the client hands them on exactly as OverFast sent them."""
    return path.read_bytes()


def load(path: Path) -> Any:
    return json.loads(path.read_bytes())


@pytest.fixture
def replay() -> Iterator[ReplayServer]:
    with ReplayServer() as server:
        yield server


@pytest.fixture
def sleeps() -> list[float]:
    return []


def make_client(url: str, sleeps: list[float], **options: Any) -> OverFastClient:
    settings: dict[str, Any] = {
        "rate_limit": 10_000,
        "timeout": 5.0,
        "max_attempts": 4,
        "max_backoff": 60.0,
        "limiter": CountingLimiter(),
        "sleep": sleeps.append,
        "rng": random.Random(7),
    }
    settings.update(options)
    return OverFastClient(url, **settings)


@pytest.mark.parametrize("player_id", PLAYERS)
def test_ok_bodies_are_the_recorded_files(replay: ReplayServer, sleeps: list[float], player_id: str) -> None:
    with make_client(replay.url, sleeps) as client:
        summary = client.summary(player_id)
        competitive = client.stats_summary(player_id, "competitive")
        quickplay = client.stats_summary(player_id, "quickplay")
    assert summary.status == 200
    assert summary.body == raw(RESPONSES / f"players_{player_id}_summary.json")
    assert competitive.body == raw(RESPONSES / f"players_{player_id}_stats_summary_competitive.json")
    assert quickplay.body == raw(RESPONSES2 / f"players_{player_id}_stats_summary_quickplay_all.json")
    headers = read_headers(RESPONSES / "headers" / f"players_{player_id}_summary.txt")
    expected = {name: headers[name] for name in ("x-cache-ttl", "cache-control", "age") if name in headers}
    assert summary.cache_headers == expected
    assert summary.cache_headers["x-cache-ttl"] == "600"
    assert sleeps == []


def test_snapshot_fetches_each_gamemode_apart(replay: ReplayServer, sleeps: list[float]) -> None:
    with make_client(replay.url, sleeps) as client:
        snapshot = client.fetch_snapshot("TeKrop-2217")
    assert not snapshot.private
    assert snapshot.player_id == "TeKrop-2217"
    assert snapshot.summary == raw(RESPONSES / "players_TeKrop-2217_summary.json")
    assert set(snapshot.stats) == {"quickplay", "competitive"}
    assert snapshot.stats["competitive"] == raw(RESPONSES / "players_TeKrop-2217_stats_summary_competitive.json")
    assert json.loads(snapshot.stats["quickplay"])["general"]["games_played"] == 12811
    assert replay.count("/players/TeKrop-2217/stats/summary?gamemode=quickplay") == 1
    assert replay.count("/players/TeKrop-2217/stats/summary?gamemode=competitive") == 1
    assert replay.count("/players/TeKrop-2217/stats/summary") == 0  # never the merged body
    assert snapshot.cache_headers["cache-control"] == "public, max-age=600"


def test_private_profile_from_the_summary(replay: ReplayServer, sleeps: list[float]) -> None:
    with make_client(replay.url, sleeps) as client:
        snapshot = client.fetch_snapshot("Player-137712")
    assert snapshot.private
    assert snapshot.stats == {}
    assert snapshot.summary == raw(RESPONSES / "private_Player-137712_summary.json")
    assert replay.count("/players/Player-137712/stats/summary?gamemode=quickplay") == 0  # summary first


def test_private_profile_from_empty_stats(replay: ReplayServer, sleeps: list[float]) -> None:
    summary = load(RESPONSES / "players_KIRIKO-12460_summary.json")
    replay.script("/players/Quiet-1234/summary", [Reply.json(200, summary)])
    for gamemode in ("quickplay", "competitive"):
        replay.script(f"/players/Quiet-1234/stats/summary?gamemode={gamemode}", [Reply.json(200, {})])
    with make_client(replay.url, sleeps) as client:
        snapshot = client.fetch_snapshot("Quiet-1234")
    assert snapshot.private
    assert snapshot.stats == {}


def test_unknown_player_nested_body(replay: ReplayServer, sleeps: list[float]) -> None:
    with make_client(replay.url, sleeps) as client:
        with pytest.raises(PlayerNotFound) as first:
            client.summary("Unknown-1234")
        with pytest.raises(PlayerNotFound) as second:
            client.fetch_snapshot("Unknown-1234")
    assert (first.value.status, first.value.retry_after) == (404, 600)
    assert second.value.retry_after == 1800
    assert replay.count("/players/Unknown-1234/summary") == 2  # never retried
    assert sleeps == []


def test_unknown_player_flat_body(replay: ReplayServer, sleeps: list[float]) -> None:
    flat = {"error": "Player not found", "retry_after": 5400, "next_check_at": 1795763007, "check_count": 3}
    replay.script("/players/Nobody-999/summary", [Reply.json(404, flat)])
    with make_client(replay.url, sleeps) as client, pytest.raises(PlayerNotFound) as caught:
        client.summary("Nobody-999")
    assert caught.value.retry_after == 5400


def test_429_sleeps_retry_after_then_succeeds(replay: ReplayServer, sleeps: list[float]) -> None:
    path = "/players/JohnV1-1190/summary"
    replay.script(path, [Reply.json(429, RATE_LIMITED, {"Retry-After": "1"})] * 2)
    limiter = CountingLimiter()
    with make_client(replay.url, sleeps, limiter=limiter) as client:
        answer = client.summary("JohnV1-1190")
    assert answer.body == raw(RESPONSES / "players_JohnV1-1190_summary.json")
    assert sleeps == [1.0, 1.0]
    assert replay.count(path) == 3
    assert limiter.acquired == 3  # retries go through the rate limiter too


def test_429_until_attempts_run_out_is_upstream_busy(replay: ReplayServer, sleeps: list[float]) -> None:
    path = "/players/JohnV1-1190/summary"
    replay.script(path, [Reply.json(429, RATE_LIMITED, {"Retry-After": "1"})] * 4)
    with make_client(replay.url, sleeps) as client, pytest.raises(UpstreamBusy) as caught:
        client.summary("JohnV1-1190")
    assert (caught.value.status, caught.value.retry_after) == (429, 1.0)
    assert sleeps == [1.0, 1.0, 1.0]
    assert replay.count(path) == 4


def test_a_wait_cut_short_by_a_stop_ends_the_attempts(replay: ReplayServer, sleeps: list[float]) -> None:
    path = "/players/JohnV1-1190/summary"
    replay.script(path, [Reply.json(429, RATE_LIMITED, {"Retry-After": "1"})] * 4)
    stopping = threading.Event()
    stopping.set()  # the service stops: its Event.wait answers True at once
    with make_client(replay.url, sleeps, sleep=stopping.wait) as client, pytest.raises(UpstreamBusy) as caught:
        client.summary("JohnV1-1190")
    assert caught.value.status == 429
    assert replay.count(path) == 1  # no attempt after the stop, Retry-After or not


def test_503_sleeps_the_recorded_retry_after(replay: ReplayServer, sleeps: list[float]) -> None:
    path = "/players/KIRIKO-12460/summary"
    busy = recorded("error_503_blizzard_rate_limited.json")
    assert busy.status == 503 and busy.headers["retry-after"] == "59"
    replay.script(path, [busy])
    with make_client(replay.url, sleeps) as client:
        answer = client.summary("KIRIKO-12460")
    assert answer.body == raw(RESPONSES / "players_KIRIKO-12460_summary.json")
    assert sleeps == [59.0]


def test_503_longer_than_max_backoff_is_reported_not_slept(replay: ReplayServer, sleeps: list[float]) -> None:
    with make_client(replay.url, sleeps, max_backoff=30.0) as client, pytest.raises(UpstreamBusy) as caught:
        client.summary("RateLimited-1234")  # recorded: 503, Retry-After 59
    assert (caught.value.status, caught.value.retry_after) == (503, 59.0)
    assert sleeps == []
    assert replay.count("/players/RateLimited-1234/summary") == 1


def test_504_is_retried_with_jittered_backoff_then_unavailable(replay: ReplayServer, sleeps: list[float]) -> None:
    limiter = CountingLimiter()
    client = make_client(replay.url, sleeps, limiter=limiter, backoff_base=0.5, max_backoff=0.8)
    with client, pytest.raises(UpstreamUnavailable) as caught:
        client.summary("BlizzDown-1234")  # recorded: 504
    assert caught.value.status == 504
    assert replay.count("/players/BlizzDown-1234/summary") == 4
    assert limiter.acquired == 4
    assert len(sleeps) == 3
    for attempt, wait in enumerate(sleeps, start=1):
        assert 0.0 <= wait <= min(0.8, 0.5 * 2 ** (attempt - 1))
    assert len(set(sleeps)) == 3  # jittered, not a fixed schedule


def test_504_then_ok(replay: ReplayServer, sleeps: list[float]) -> None:
    path = "/players/TeKrop-2217/summary"
    replay.script(path, [recorded("error_504_blizzard_down.json")])
    with make_client(replay.url, sleeps) as client:
        assert client.summary("TeKrop-2217").checked.username == "TeKrop"
    assert len(sleeps) == 1


def test_500_is_upstream_unavailable(replay: ReplayServer, sleeps: list[float]) -> None:
    path = "/players/TeKrop-2217/summary"
    replay.script(path, [Reply.json(500, {"error": "An internal server error occurred"})] * 2)
    with (
        make_client(replay.url, sleeps, max_attempts=2) as client,
        pytest.raises(UpstreamUnavailable) as caught,
    ):
        client.summary("TeKrop-2217")
    assert caught.value.status == 500
    assert "internal server error" in str(caught.value)


def test_422_is_a_client_bug_without_retry(replay: ReplayServer, sleeps: list[float]) -> None:
    with make_client(replay.url, sleeps) as client, pytest.raises(ClientBug) as caught:
        client.stats_summary("TeKrop-2217", "ranked")  # recorded 422
    assert caught.value.status == 422
    assert replay.count("/players/TeKrop-2217/stats/summary?gamemode=ranked") == 1
    assert sleeps == []


@pytest.mark.parametrize(
    "reply",
    [
        Reply(200, b"<html><body>502 Bad Gateway</body></html>", {"content-type": "text/html"}),
        Reply(200, b'{"username": "TeKrop", "endorse', {"content-type": "application/json"}),
        Reply.json(200, ["not", "an", "object"]),
        Reply.json(200, {"username": 17, "title": None, "endorsement": None, "competitive": None}),
    ],
    ids=["html", "truncated", "array", "wrong-types"],
)
def test_malformed_bodies(replay: ReplayServer, sleeps: list[float], reply: Reply) -> None:
    replay.script("/players/TeKrop-2217/summary", [reply])
    with make_client(replay.url, sleeps) as client, pytest.raises(MalformedResponse) as caught:
        client.summary("TeKrop-2217")
    assert caught.value.status == 200
    assert replay.count("/players/TeKrop-2217/summary") == 1


def test_malformed_stats_body(replay: ReplayServer, sleeps: list[float]) -> None:
    bad = {"general": {"games_played": "many"}}
    replay.script("/players/TeKrop-2217/stats/summary?gamemode=quickplay", [Reply.json(200, bad)])
    with make_client(replay.url, sleeps) as client, pytest.raises(MalformedResponse):
        client.fetch_snapshot("TeKrop-2217")


def test_unknown_hero_keys_and_new_fields_are_tolerated(replay: ReplayServer, sleeps: list[float]) -> None:
    body = load(RESPONSES / "players_JohnV1-1190_stats_summary_competitive.json")
    body["heroes"]["brand-new-hero"] = body["heroes"]["moira"]
    body["general"]["new_field"] = {"x": 1}
    replay.script("/players/JohnV1-1190/stats/summary?gamemode=competitive", [Reply.json(200, body)])
    with make_client(replay.url, sleeps) as client:
        answer = client.stats_summary("JohnV1-1190", "competitive")
    assert json.loads(answer.body) == body  # handed on with the fields this version does not know
    assert "brand-new-hero" in answer.checked.heroes


def test_connection_refused_is_translated(sleeps: list[float]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = make_client(f"http://127.0.0.1:{port}", sleeps, max_attempts=2)
    with client, pytest.raises(UpstreamUnavailable) as caught:
        client.summary("TeKrop-2217")
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert len(sleeps) == 1  # a server being restarted: worth another attempt
    assert f"nothing accepts connections at 127.0.0.1:{port} (connection refused" in str(caught.value)


def test_a_host_name_that_does_not_resolve_is_said_at_once_without_retries(sleeps: list[float]) -> None:
    # a name the resolver refuses without asking any DNS server (a label may not begin with "-")
    client = make_client("http://-owstream-no-such-host-", sleeps, max_attempts=4)
    with client, pytest.raises(UpstreamUnavailable) as caught:
        client.summary("TeKrop-2217")
    assert "the host name -owstream-no-such-host- does not resolve" in str(caught.value)
    assert "busy" not in str(caught.value)
    assert sleeps == []  # the name will not exist a few seconds later either


def test_timeout_via_the_simulator_delay_fault(sleeps: list[float]) -> None:
    simulator = Simulator(seed=3)
    player_id = simulator.player_ids()[0]
    with SimulatorServer(simulator) as server:
        simulator.handle("POST", "/_sim/faults", b'{"delay": 5, "count": 2}')
        with make_client(server.url, sleeps, timeout=0.3, max_attempts=2) as client:
            with pytest.raises(UpstreamUnavailable) as caught:
                client.summary(player_id)
            assert isinstance(caught.value.__cause__, httpx.TimeoutException)
            assert len(sleeps) == 1
            assert client.summary(player_id).checked.username == player_id.rsplit("-", 1)[0]


def test_simulator_faults_through_the_client(sleeps: list[float]) -> None:
    simulator = Simulator(seed=4)
    player_id = simulator.player_ids()[0]
    with SimulatorServer(simulator) as server, make_client(server.url, sleeps) as client:
        simulator.handle("POST", "/_sim/faults", b'{"garbage": 1}')
        with pytest.raises(MalformedResponse):
            client.summary(player_id)
        simulator.handle("POST", "/_sim/faults", b'{"status": 503, "count": 1, "retry_after": 2}')
        simulator.handle("POST", "/_sim/faults", b'{"status": 429, "count": 1}')
        simulator.handle("POST", "/_sim/faults", b'{"status": 504, "count": 1}')
        snapshot = client.fetch_snapshot(player_id, concurrent=True)
        assert not snapshot.private
        # the three calls of a snapshot run concurrently: each met one fault, in any order
        assert len(sleeps) == 3 and 2.0 in sleeps and 1.0 in sleeps  # Retry-After of the 503, of the 429
        with pytest.raises(PlayerNotFound) as caught:
            client.summary("Unknown-1234")
        assert caught.value.retry_after == 600


def test_a_trickled_answer_is_cut_off_at_the_deadline(sleeps: list[float]) -> None:
    simulator = Simulator(seed=4)
    player_id = simulator.player_ids()[0]
    with SimulatorServer(simulator) as server, make_client(server.url, sleeps, timeout=0.5, max_attempts=2) as client:
        simulator.handle("POST", "/_sim/faults", b'{"trickle": 2, "interval": 0.02}')
        with pytest.raises(UpstreamUnavailable) as caught:
            client.summary(player_id)
        assert isinstance(caught.value.__cause__, httpx.TimeoutException)
        assert len(sleeps) == 1  # retried once, trickled again
        assert client.summary(player_id).checked.username == player_id.rsplit("-", 1)[0]


def test_huge_and_deeply_nested_bodies_are_refused_without_a_retry(sleeps: list[float]) -> None:
    simulator = Simulator(seed=4)
    player_id = simulator.player_ids()[0]
    with SimulatorServer(simulator) as server, make_client(server.url, sleeps) as client:
        simulator.handle("POST", "/_sim/faults", b'{"huge": 1, "size": 3000000}')
        with pytest.raises(MalformedResponse, match=r"more than 1,048,576 bytes"):
            client.summary(player_id)
        simulator.handle("POST", "/_sim/faults", b'{"deep": 1, "depth": 200000}')
        with pytest.raises(MalformedResponse, match=r"nested too deeply|not JSON|expected `object`, got `array`"):
            client.summary(player_id)
        assert sleeps == []
        assert client.summary(player_id).checked.username == player_id.rsplit("-", 1)[0]


def test_from_settings_reads_the_settings() -> None:
    from owstream.config import Settings

    settings = Settings(overfast_url="http://127.0.0.1:9", rate_limit=7.0, overfast_max_attempts=2)
    with OverFastClient.from_settings(settings) as client:
        assert client.base_url == "http://127.0.0.1:9"
        assert client.max_attempts == 2
        assert client._limiter is RateLimiter.shared(7.0, burst=BURST)


def test_a_known_player_is_asked_in_one_round_trip(replay: ReplayServer, sleeps: list[float]) -> None:
    with make_client(replay.url, sleeps) as client:
        first = client.fetch_snapshot("TeKrop-2217")  # one OverFast may not know: the summary first
        replay.gather(3, timeout=2.0)
        again = client.fetch_snapshot("TeKrop-2217", concurrent=True)
        at_once = replay.most_at_once
        replay.gather(3, timeout=0.5)
        private = client.fetch_snapshot("Player-137712")
        one_by_one = replay.most_at_once
    assert at_once == 3  # the summary and both gamemodes' stats were in flight together: one round trip
    assert one_by_one == 1  # not concurrent: the summary alone, and no stats for a private profile
    assert again == first and private.private and private.stats == {}
    assert replay.count("/players/TeKrop-2217/stats/summary?gamemode=competitive") == 2


def test_requests_leave_from_the_source_address_set() -> None:
    """OWSTREAM_OVERFAST_SOURCE_ADDRESS binds the client's connections: a real server on 127.0.0.1 sees them come
    from 127.0.0.2 (any 127.x address is this machine's), and from 127.0.0.1 without the setting."""
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from owstream.config import Settings

    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.client_address[0])
            body = json.dumps(load(RESPONSES / "players_TeKrop-2217_summary.json")).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        for address, expected in (("127.0.0.2", "127.0.0.2"), ("", "127.0.0.1")):
            settings = Settings(overfast_url=url, overfast_source_address=address, rate_limit=1000.0)
            with OverFastClient.from_settings(settings, limiter=CountingLimiter()) as client:
                assert client.summary("TeKrop-2217").checked.username == "TeKrop"
            assert seen[-1] == expected
    finally:
        server.shutdown()
        server.server_close()


def test_the_hero_catalogue_is_the_recorded_answer_checked(replay: ReplayServer, sleeps: list[float]) -> None:
    with make_client(replay.url, sleeps) as client:
        answer = client.heroes()
    assert answer.body == raw(RESPONSES / "heroes.json")
    recorded_heroes = load(RESPONSES / "heroes.json")
    assert [(h.key, h.name, h.role, h.portrait) for h in answer.checked] == [
        (h["key"], h["name"], h["role"], h["portrait"]) for h in recorded_heroes
    ]
    assert next(h.name for h in answer.checked if h.key == "soldier-76") == "Soldier: 76"
