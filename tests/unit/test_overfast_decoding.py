"""The OverFast client reads compressed answers within bounds: every encoding it asks for gives the recorded
bytes back, and a decompression bomb served by a real loopback server is an ``upstream_error`` with why,
never the memory it claims. Memory is measured in a separate process (its peak RSS), as a fetcher's would be."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import textwrap
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
import zstandard

from owstream.errors import MalformedResponse
from owstream.overfast import OverFastClient, RateLimiter
from owstream.services.fetcher import Fetcher
from support.bombs import deflate_zeros, gzip_zeros, zstd_rle
from support.replay_server import RESPONSES, ReplayServer, Reply

PLAYER = "TeKrop-2217"
SUMMARY = f"/players/{PLAYER}/summary"
RECORDED = (RESPONSES / f"players_{PLAYER}_summary.json").read_bytes()
CAP = "1,048,576"


@pytest.fixture
def replay() -> Iterator[ReplayServer]:
    with ReplayServer() as server:
        yield server


def client(url: str, **options: Any) -> OverFastClient:
    settings: dict[str, Any] = {
        "rate_limit": 10_000, "timeout": 5.0, "max_attempts": 2, "max_backoff": 1.0,
        "limiter": RateLimiter(10_000, burst=10_000), "sleep": lambda _s: None,
    }  # fmt: skip
    return OverFastClient(url, **(settings | options))


def encoded(body: bytes, encoding: str) -> Reply:
    return Reply(200, body, {"content-type": "application/json", "content-encoding": encoding})


ENCODERS = {
    "gzip": gzip.compress,
    "x-gzip": gzip.compress,
    "deflate": zlib.compress,
    "raw-deflate": lambda b: zlib.compress(b, wbits=-15),  # sent as "deflate" without the zlib header
    "zstd": lambda b: zstandard.ZstdCompressor().compress(b),
    "gzip, zstd": lambda b: zstandard.ZstdCompressor().compress(gzip.compress(b)),
    "gzip-members": lambda b: gzip.compress(b[:100]) + gzip.compress(b[100:]),  # two gzip members
}


@pytest.mark.parametrize("name", sorted(ENCODERS))
def test_every_encoding_asked_for_gives_the_recorded_bytes(replay: ReplayServer, name: str) -> None:
    header = {"raw-deflate": "deflate", "gzip-members": "gzip"}.get(name, name)
    replay.script(SUMMARY, [encoded(ENCODERS[name](RECORDED), header)])
    with client(replay.url) as overfast:
        answer = overfast.summary(PLAYER)
    assert answer.body == RECORDED and answer.checked.username == "TeKrop"


BOMBS = {
    "zstd": lambda: zstd_rle(1 << 30),  # 32 KiB on the wire, 1 GiB inflated
    "gzip": lambda: gzip_zeros(128 << 20),  # 127 KiB, 128 MiB
    "deflate": lambda: deflate_zeros(128 << 20),
}


@pytest.mark.parametrize("encoding", sorted(BOMBS))
def test_a_bomb_is_an_upstream_error_saying_why_without_a_retry(replay: ReplayServer, encoding: str) -> None:
    replay.script(SUMMARY, [encoded(BOMBS[encoding](), encoding)])
    with client(replay.url) as overfast:
        with pytest.raises(
            MalformedResponse, match=rf"more than {CAP} bytes once decoded \(Content-Encoding: {encoding}\)"
        ):
            overfast.summary(PLAYER)
        assert replay.count(SUMMARY) == 1  # not asked again: the same bomb would come back
        replay.script(SUMMARY, [encoded(BOMBS[encoding](), encoding)])
        result = Fetcher.fetch_result(overfast, PLAYER, ["r1"])
    assert result.outcome == "upstream_error" and result.status == 200
    assert result.error is not None and f"more than {CAP} bytes once decoded" in result.error


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        (
            encoded(b"\x1b\x00\x00\x00", "br"),
            r"a Content-Encoding owstream does not read \(br; it asks for gzip, deflate, zstd\)",
        ),
        (encoded(gzip.compress(RECORDED), "gzip, gzip, gzip"), r"3 Content-Encodings stacked"),
        (encoded(b"not gzip at all", "gzip"), r"a gzip body that does not decompress"),
        (encoded(zstd_rle(1 << 20, window_log=27), "zstd"), r"a zstd body that does not decompress"),  # 128 MiB window
        (Reply(200, b"x" * 2_000_000, {"content-type": "application/json"}), rf"more than {CAP} bytes$"),
    ],
    ids=["brotli", "stacked", "corrupt-gzip", "zstd-window", "plain-huge"],
)
def test_what_cannot_be_read_within_bounds_is_refused_with_why(replay: ReplayServer, reply: Reply, why: str) -> None:
    replay.script(SUMMARY, [reply])
    with client(replay.url) as overfast, pytest.raises(MalformedResponse, match=why):
        overfast.summary(PLAYER)


def test_the_client_asks_only_for_the_encodings_it_reads(replay: ReplayServer) -> None:
    with client(replay.url) as overfast:
        assert overfast._http.headers["accept-encoding"] == "gzip, deflate, zstd"


_CHILD = textwrap.dedent(
    """
    import json, resource, sys
    from owstream.overfast import OverFastClient, RateLimiter
    from owstream.services.fetcher import Fetcher

    url, player = sys.argv[1], sys.argv[2]
    client = OverFastClient(url, rate_limit=1e4, timeout=10.0, max_attempts=1, max_backoff=1.0,
                            limiter=RateLimiter(1e4, burst=1e4))
    client.summary("TeKrop-2217")  # warm: the pool, the decoders, the models
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = Fetcher.fetch_result(client, player, ["r1"])
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"outcome": result.outcome, "error": result.error, "before_kib": before, "after_kib": after}))
    """
)


@pytest.mark.parametrize("encoding", sorted(BOMBS))
def test_a_bomb_leaves_the_fetching_process_memory_bounded(replay: ReplayServer, encoding: str) -> None:
    bomb = BOMBS[encoding]()
    replay.script("/players/Bomb-1234/summary", [encoded(bomb, encoding)])
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, replay.url, "Bomb-1234"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    seen = json.loads(child.stdout)
    grew_mib = (seen["after_kib"] - seen["before_kib"]) / 1024
    assert grew_mib < 24, f"the {len(bomb):,}-byte {encoding} bomb grew the process's peak by {grew_mib:.0f} MiB"
    assert seen["outcome"] == "upstream_error"
    assert f"more than {CAP} bytes once decoded (Content-Encoding: {encoding})" in seen["error"]
