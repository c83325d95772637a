"""Poison messages of every kind, for the fetcher (on ``fetch-requests``) and the processor (on
``fetch-results``). Each is marked with the header ``reliability: poison`` (the services ignore it; the counter
expects exactly one dead letter for each)."""

from __future__ import annotations

import json
import struct
import time
import urllib.parse
import urllib.request
from typing import Any

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
NESTED = b"[" * 200_000  # ~200 KB of nested arrays, never closed
TEN_MB = 10 * 1024 * 1024


def zstd_claiming(size: int) -> bytes:
    """A 17-byte zstd frame whose header claims ``size`` bytes of content (one raw block of 1 byte)."""
    return ZSTD_MAGIC + bytes([0xE0]) + struct.pack("<Q", size) + b"\x09\x00\x00x"


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return json.loads(answer.read())


def real_bodies(sim_url: str, player_id: str) -> tuple[Any, dict[str, Any]]:
    """A simulated player's summary and competitive stats summary, as OverFast gives them."""
    quoted = urllib.parse.quote(player_id, safe="")
    summary = _get(f"{sim_url}/players/{quoted}/summary")
    stats = _get(f"{sim_url}/players/{quoted}/stats/summary?gamemode=competitive")
    return summary, stats


def _result(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"request_ids": ["poison"], "player_id": "Poison-1234", "fetched_at": time.time()}
    return base | fields


def for_processor(sim_url: str, player_id: str) -> list[tuple[str, bytes, list[tuple[str, bytes]]]]:
    """(what, value, headers) of each poison result."""
    summary, stats = real_bodies(sim_url, player_id)
    overflowing = json.loads(json.dumps(stats))
    general = overflowing.get("general") or {}
    general["games_played"] = 10**20
    overflowing["general"] = general
    good_headers = [("content-type", b"application/json"), ("schema", b"fetch-result/1")]
    huge_error = _result(result_id="poison-huge", outcome="upstream_error", error="e" * TEN_MB)
    # its profile moved on (later than any real answer), or the processor, seeing the same last_updated_at as
    # the player's stored snapshot, would keep it as "unchanged" without reading its stats
    moved = {**summary, "last_updated_at": int(summary.get("last_updated_at") or time.time()) + 10**6}
    games = _result(
        result_id="poison-games", player_id=player_id, outcome="ok", summary=moved,
        stats={"competitive": overflowing},
    )  # fmt: skip
    wrong_schema = _result(result_id="poison-schema", outcome="upstream_error", error="a future version")
    return [
        ("zstd frame claiming 64 GiB", zstd_claiming(64 << 30), good_headers),
        ("200 KB of nested [", NESTED, good_headers),
        ("games_played = 10^20", json.dumps(games).encode(), good_headers),
        ("10 MB error text", json.dumps(huge_error).encode(), good_headers),
        ("not UTF-8", b"\xff\xfe\x00\x81 not utf-8 \xc3\x28", good_headers),
        ("wrong schema header", json.dumps(wrong_schema).encode(), [("schema", b"fetch-result/99")]),
        ("not JSON", b"this is not json {", good_headers),
    ]


def for_fetcher() -> list[tuple[str, bytes, list[tuple[str, bytes]]]]:
    """(what, value, headers) of each poison request."""
    good_headers = [("content-type", b"application/json"), ("schema", b"fetch-request/1")]
    return [
        ("invalid player id", json.dumps({"player_id": "not a player id!"}).encode(), good_headers),
        ("not JSON", b"fetch everyone", good_headers),
        ("not UTF-8", b'{"player_id": "\xff\xfe-1234"}', good_headers),
        ("wrong schema header", json.dumps({"player_id": "Poison-1234"}).encode(), [("schema", b"fetch-request/9")]),
        ("200 KB of nested [", NESTED, good_headers),
        ("zstd frame claiming 64 GiB", zstd_claiming(64 << 30), good_headers),
        ("a time of 10^20", json.dumps({"player_id": "Poison-1234", "requested_at": 1e20}).encode(), good_headers),
    ]
