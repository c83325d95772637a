"""Fetch results for tests, built from the recorded OverFast responses under tests/fixtures/overfast.

A test result holds plain dicts as bodies (``FetchResult[dict, dict]``), so a test can edit them; ``src``
turns results into what the processor hands the store (checked, with the Kafka value they travel as).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import msgspec

from owstream.messages import codec
from owstream.messages.models import CheckedResult, FetchResult, PlayerEvent, StoreResult
from owstream.store import SourcedResult
from owstream.store.queries import number

OVERFAST = Path(__file__).resolve().parents[1] / "fixtures" / "overfast"
PLAYERS = ("TeKrop-2217", "KIRIKO-12460", "JohnV1-1190")
MODES = ("quickplay", "competitive")
TOTALS = ("eliminations", "assists", "deaths", "damage", "healing")

Result = FetchResult[dict[str, Any], dict[str, Any]]


def recorded(name: str) -> Any:
    for directory in ("responses2", "responses"):
        path = OVERFAST / directory / name
        if path.exists():
            return json.loads(path.read_text())
    raise FileNotFoundError(name)


def result(**fields: Any) -> Result:
    """A result of any outcome; ``result_id`` and ``request_ids`` default from each other."""
    fields.setdefault("result_id", "r")
    fields.setdefault("request_ids", [f"req-{fields['result_id']}"])
    return Result(**fields)


def ok_result(player: str, result_id: str, at: float, **changes: Any) -> Result:
    """A recorded player's summary and both gamemodes' stats summaries, as the fetcher would send them."""
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
    return Result(**fields)


def platform_result(
    player: str, result_id: str, at: float, platforms: tuple[str, ...] = ("pc", "console"), **changes: Any
) -> Result:
    """A recorded player's summary and each platform's stats summary per gamemode (``platform=`` filter), as the
    fetcher sends them since it asks per platform (``{}`` where the player has no stats on a platform)."""
    per_platform = {
        platform: {m: recorded(f"players_{player}_stats_summary_{m}_{platform}.json") for m in MODES}
        for platform in platforms
    }
    return ok_result(player, result_id, at, stats={}, platform_stats=per_platform, **changes)


def replace(item: Result, **changes: Any) -> Result:
    return msgspec.structs.replace(item, **changes)


def advanced(item: Result, result_id: str, at: float, plays: dict[str, tuple[int, int, int]]) -> Result:
    """``item`` one hour later with competitive games added: hero -> (won, lost, seconds), all support."""
    summary = copy.deepcopy(item.summary)
    assert summary is not None
    summary["last_updated_at"] += 3600
    stats = copy.deepcopy(item.stats)
    body = stats["competitive"]
    for hero, (won, lost, seconds) in plays.items():
        for block in (body["heroes"][hero], body["roles"]["support"], body["general"]):
            add(block, won, lost, seconds)
    return replace(
        item, result_id=result_id, request_ids=[f"req-{result_id}"], fetched_at=at, summary=summary, stats=stats
    )


def add(block: dict[str, Any], won: int, lost: int, seconds: int) -> None:
    block["games_played"] += won + lost
    block["games_won"] += won
    block["games_lost"] += lost
    block["time_played"] += seconds
    for i, name in enumerate(TOTALS):
        block["total"][name] += (won + lost) * (i + 1)


def encoded(item: Result | CheckedResult) -> bytes:
    """The Kafka value of a result."""
    return codec.encode(item)


def checked(item: Result) -> CheckedResult:
    """A result as a reader of the topic decodes it (every body checked)."""
    return codec.decode_result(encoded(item))


def stored(item: Result) -> StoreResult:
    """A result as the processor decodes it from Kafka (the stats blocks as bytes, checked when used)."""
    return codec.decode_stored(encoded(item))


def src(*items: Result, topic: str = "owstream.fetch-results") -> list[SourcedResult]:
    return [SourcedResult(stored(r), topic, 0, i, raw=encoded(r)) for i, r in enumerate(items)]


def data(event: PlayerEvent) -> dict[str, Any]:
    """An event's ``data`` as plain JSON values."""
    values: dict[str, Any] = codec.to_builtins(event.data)
    return values


def plain(event: PlayerEvent) -> dict[str, Any]:
    """An event as plain JSON values (what its message holds)."""
    values: dict[str, Any] = codec.to_builtins(event)
    return values


def stored_block(block: dict[str, Any]) -> dict[str, Any]:
    """A recorded stats block as ``show --json`` gives it back: whole floats as ints, unknown fields dropped."""
    keep = ("games_played", "games_won", "games_lost", "time_played", "winrate", "kda")
    out = {name: block[name] for name in keep}
    out["total"] = {name: number(float(block["total"][name])) for name in TOTALS}
    out["average"] = {name: block["average"][name] for name in TOTALS}
    return out
