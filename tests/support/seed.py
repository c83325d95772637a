"""Data the browser tests put in the store the way the pipeline does: later snapshots of the recorded players
published to fetch-results (the processor stores them), a synthetic player with a chosen number of heroes,
the hero catalogue and two meta answers an hour apart."""

from __future__ import annotations

import copy
import time
from typing import Any

import msgspec
from sqlalchemy import func, select

from owstream.bus import Producer, TopicNames
from owstream.config import Settings
from owstream.messages import codec
from owstream.store import Store, schema
from support.pipeline import wait_for
from support.results import Result, encoded, replace


def later(result: Result, result_id: str, hero_games: dict[str, tuple[int, int]], hours: float = 2.0) -> Result:
    """``result`` ``hours`` later with competitive games added to some heroes (and their role, and overall), on
    the platform the player played most (a result fetched per platform) or in its summed stats (an old one)."""
    summary = copy.deepcopy(result.summary)
    assert summary is not None
    summary["last_updated_at"] += int(3600 * hours)
    stats, per_platform = copy.deepcopy(result.stats), copy.deepcopy(result.platform_stats)
    body = competitive_of(stats, per_platform)
    for hero, (won, lost) in hero_games.items():
        role = next(iter(body["roles"]))
        for block in (body["heroes"][hero], body["roles"][role], body["general"]):
            block["games_played"] += won + lost
            block["games_won"] += won
            block["games_lost"] += lost
            block["time_played"] += 600 * (won + lost)
            block["winrate"] = round(100 * block["games_won"] / block["games_played"], 2)
    return replace(result, result_id=result_id, request_ids=[], fetched_at=time.time(), summary=summary,
                   stats=stats, platform_stats=per_platform)  # fmt: skip


def main_platform(per_platform: dict[str, Any]) -> str:
    """The platform played most (the pages' default) of a result fetched per platform."""
    played = {
        platform: sum(body["general"]["time_played"] for body in modes.values() if body)
        for platform, modes in per_platform.items()
    }
    return max(played, key=lambda platform: played[platform])


def competitive_of(stats: dict[str, Any], per_platform: dict[str, Any]) -> dict[str, Any]:
    """The competitive stats body a test edits: the main platform's, or the summed one of an old result."""
    if per_platform:
        found: dict[str, Any] = per_platform[main_platform(per_platform)]["competitive"]
        return found
    summed: dict[str, Any] = stats["competitive"]
    return summed


def stored_result(store: Store, player_id: str) -> Result:
    """The newest fetch result stored for ``player_id`` (raw_results keeps it zstd-compressed), as JSON."""
    rr = schema.raw_results.c
    with store.engine.connect() as conn:
        payload = conn.execute(
            select(rr.payload).where(rr.player_id == player_id).order_by(rr.fetched_at.desc()).limit(1)
        ).scalar_one()
    found: Result = msgspec.json.decode(codec.decompress(payload, 1 << 24), type=Result)
    return found


def publish(settings: Settings, store: Store, results: list[Result]) -> None:
    """Results onto fetch-results, waited for until the processor stored them all."""
    producer = Producer(settings)
    for item in results:
        producer.send(TopicNames(settings.topic_prefix).fetch_results, encoded(item), key=item.player_id)
    producer.flush(15)
    producer.close()
    rr = schema.raw_results.c
    ids = [item.result_id for item in results]

    def stored() -> bool:
        with store.engine.connect() as conn:
            return bool(conn.execute(select(func.count()).where(rr.result_id.in_(ids))).scalar_one() == len(ids))

    wait_for(stored, timeout=60)


def add_sessions(settings: Settings, store: Store, players: dict[str, tuple[int, int]]) -> None:
    """A later snapshot of each player: (won, lost) games of its first competitive hero, 1-1 of its last."""
    later_ones = []
    for pid, (won, lost) in players.items():
        first = stored_result(store, pid)
        heroes = list(competitive_of(first.stats, first.platform_stats)["heroes"])
        later_ones.append(later(first, f"synthetic-{pid}", {heroes[0]: (won, lost), heroes[-1]: (1, 1)}))
    publish(settings, store, later_ones)


def with_heroes(store: Store, source: str, player_id: str, count: int) -> Result:
    """A new player: ``source``'s stored result under ``player_id`` with only its ``count`` most played heroes
    in each gamemode."""
    found = stored_result(store, source)
    stats: dict[str, Any] = copy.deepcopy(found.stats)
    per_platform: dict[str, Any] = copy.deepcopy(found.platform_stats)
    for body in [*stats.values(), *(b for modes in per_platform.values() for b in modes.values())]:
        if body:  # {}: no stats on that platform
            kept = sorted(body["heroes"].items(), key=lambda kv: -kv[1]["time_played"])[:count]
            body["heroes"] = dict(kept)
    summary = copy.deepcopy(found.summary)
    assert summary is not None
    summary["username"] = player_id.split("-", maxsplit=1)[0]
    return replace(found, result_id=f"synthetic-{player_id}", request_ids=[], player_id=player_id,
                   fetched_at=time.time(), summary=summary, stats=stats, platform_stats=per_platform)  # fmt: skip


def meta_answers(settings: Settings, store: Store, simulator: Any) -> int:
    """The meta service against ``simulator`` (a served Simulator) twice, an hour apart, stored by the
    processor; the hero catalogue with it. Returns how many combinations it asks."""
    from owstream.overfast.client import OverFastClient
    from owstream.services.meta import MetaService
    from owstream.simulator import SimulatorServer

    now = [time.time() - 3600]
    with SimulatorServer(simulator) as sim:
        meta_settings = settings.replace(overfast_url=sim.url)
        producer = Producer(meta_settings)
        with OverFastClient.from_settings(meta_settings) as client:
            service = MetaService(meta_settings, store, client=client, clock=lambda: now[0])
            service.step(producer, client)
            simulator.advance()  # the meta drifts; an hour later the service asks again
            now[0] += 3600
            service.step(producer, client)
        producer.close()
    asked = len(service.combinations)
    assert service.published == 2 * asked
    wait_for(lambda: len(store.hero_stats_fetched()) == asked and min(store.hero_stats_fetched().values()) == now[0])
    return asked


def recorded_catalogue(settings: Settings, store: Store) -> None:
    """OverFast's recorded /heroes (the replay server of ``settings``) stored as the meta service stores it."""
    from owstream.overfast.client import OverFastClient
    from owstream.services.meta import MetaService

    with OverFastClient.from_settings(settings) as client:
        assert MetaService(settings, store, client=client).refresh_heroes(client) > 0
