"""What the population benchmark (bench_population.py) reads off a finished phase: the bytes on ``fetch-results``
(the messages, and the broker's log files on disk), what the play model says was played, how long each session
and each update took to be seen, and whether every stored number equals what the simulator answered."""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from owstream.bus import TopicNames
from owstream.bus.readers import read_all
from owstream.config import Settings
from owstream.services.processor import apply_isolating, parse_result
from owstream.simulator import Simulator
from owstream.simulator import data as simdata
from owstream.simulator.population import DAY
from owstream.store import Store


@dataclass(frozen=True)
class Seen:
    """A session event: a stored snapshot's games of one platform and gamemode."""

    player_id: str
    at: float  # when owstream fetched it (simulated)
    ended_at: int | None  # Blizzard's update of that snapshot (last_updated_at)
    games: int
    is_reset: bool


@dataclass
class Bytes:
    """Messages on fetch-results in the measured window, by kind."""

    total: int = 0
    count: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)  # changed / unchanged -> bytes
    counts: Counter[str] = field(default_factory=Counter)
    changed_by_player: Counter[str] = field(default_factory=Counter)

    def mean(self, kind: str) -> float:
        return self.by_kind[kind] / self.counts[kind] if self.counts[kind] else 0.0


def result_bytes(settings: Settings, topic: str, since: float) -> Bytes:
    """Every ``ok`` result fetched after ``since``: its bytes (key, value, headers) and whether it was unchanged:
    a ``summary_only`` result, or (before issue 23) one whose ``last_updated_at`` equals the player's previous
    one and whose ranks did not move."""
    out = Bytes()
    previous: dict[str, tuple[Any, Any]] = {}
    for batch in read_all(settings, topic):
        for record in batch:
            value = json.loads(record.value)
            headers = sum(len(k) + len(v or b"") for k, v in record.headers.items())
            size = len(record.value) + len(record.key or b"") + headers
            summary = value.get("summary")
            facts = (summary.get("last_updated_at"), summary.get("competitive")) if summary else None
            same = value.get("summary_only") or (facts is not None and previous.get(value["player_id"]) == facts)
            if facts is not None:
                previous[value["player_id"]] = facts
            if value["fetched_at"] <= since or value.get("outcome") != "ok":
                continue
            kind = "unchanged" if same else "changed"
            out.total += size
            out.count += 1
            out.by_kind[kind] += size
            out.counts[kind] += 1
            out.changed_by_player[value["player_id"]] += kind == "changed"
    return out


def log_bytes(home: Path, topic: str) -> int:
    """The bytes of ``topic``'s log segments on the local broker's disk (compressed batches, transaction markers)."""
    return sum(path.stat().st_size for path in (home / "kafka" / "data").glob(f"{topic}-*/*.log"))


def minutes(values: list[float]) -> str:
    """p50 / p95 / max of seconds, in minutes."""
    if not values:
        return "none"
    ordered = sorted(values)
    p95 = statistics.quantiles(ordered, n=20, method="inclusive")[18] if len(ordered) > 1 else ordered[0]
    return f"{statistics.median(ordered) / 60:.1f} / {p95 / 60:.1f} / {ordered[-1] / 60:.1f} min (n={len(ordered)})"


@dataclass
class Truth:
    """What was played in the window (the play model) against what owstream saw."""

    games: int = 0  # ended within the window, before the player's last fetch
    games_seen: int = 0  # in the session events of the window
    sessions: int = 0  # play sessions (a few games) begun in the window
    players_played_per_day: float = 0.0
    regular_first_seen: list[float] = field(default_factory=list)  # played in the day before: seconds
    returning_first_seen: list[float] = field(default_factory=list)  # back after a day or more idle
    updates_seen: list[float] = field(default_factory=list)  # every changed snapshot: fetched - last_updated_at


def truth(simulator: Simulator, seen: list[Seen], fetched: dict[str, list[float]], start: float, end: float) -> Truth:
    """Each play session's first game against the first stored snapshot that holds it."""
    model = simulator.population
    assert model is not None
    out = Truth()
    snapshots: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for item in seen:
        if start < item.at and item.ended_at is not None and not item.is_reset:
            out.games_seen += item.games
            snapshots[item.player_id].append((item.at, item.ended_at))
    for pairs in snapshots.values():
        out.updates_seen.extend(at - ended for at, ended in set(pairs))
    days: Counter[int] = Counter()
    for pid in model.model.player_ids():
        last_fetch = max(fetched.get(pid, [start]))
        played = model.model.games(pid, start, end)
        days.update({int(game.ended_at // DAY) for game in played})  # player-days with a game
        out.games += sum(1 for game in played if game.ended_at <= last_fetch)
        for session in model.model.sessions(pid, start, last_fetch):
            first = session[0].ended_at
            out.sessions += 1
            seen_at = min((at for at, ended in snapshots[pid] if ended >= first), default=None)
            if seen_at is None:
                continue
            recent = model.model.games(pid, first - DAY, first - 1)  # the model's games before the start too
            (out.regular_first_seen if recent else out.returning_first_seen).append(seen_at - first)
    span = (end - start) / DAY
    out.players_played_per_day = sum(days.values()) / span
    return out


def numbers_checked(store: Store, simulator: Simulator) -> tuple[int, list[str], list[str]]:
    """Every public player's stored stats (each platform and gamemode: overall, roles, heroes), ranks and
    ``last_updated_at`` against the simulator's answer as of the player's last fetch (its games are applied when
    it is asked for, so its state is the one last answered). (players checked, differences, platforms with stats
    that were never asked: a platform the summary does not name is asked only when the player played and the
    stored platforms did not move, owstream.domain.fetchplan)."""
    checked, wrong, unasked = 0, [], []
    for pid in simulator.player_ids():
        player = simulator.player(pid)
        assert player is not None
        if player.private:
            continue
        report = store.player_report(pid)
        if report is None:
            wrong.append(f"{pid}: not stored")
            continue
        checked += 1
        if report["freshness"]["last_updated_at"] != player.last_updated_at:
            wrong.append(f"{pid}: last_updated_at {report['freshness']['last_updated_at']} != {player.last_updated_at}")
        for platform in player.platforms:
            if platform not in report["platforms"]:
                unasked.append(f"{pid} {platform}")
                continue
            stored = report["platforms"][platform]["gamemodes"]
            for mode in ("quickplay", "competitive"):
                body = simdata.stats_summary_body(player, mode, platform)
                block = stored.get(mode)
                ours = (
                    {}
                    if not block
                    else {"general": block["overall"], "roles": block["roles"], "heroes": block["heroes"]}
                )
                if ours != body:
                    wrong.append(f"{pid} {platform} {mode}: stored stats differ from the answer")
        ranks = {(r["platform"], r["role"]): (r["division"], r["tier"]) for r in report["ranks"]}
        expected = {(p, role): rank for p, roles in player.ranks.items() for role, rank in roles.items() if rank}
        if ranks != expected:
            wrong.append(f"{pid}: ranks {ranks} != {expected}")
    return checked, wrong, unasked


def calls_by_habit(simulator: Simulator, by_player: Counter[tuple[str, str]], days: float) -> dict[str, float]:
    """Upstream calls per player per day of each habit (the private player apart)."""
    model = simulator.population
    assert model is not None
    habit = {pid: model.model.habit(pid) for pid in model.model.player_ids()}
    calls: Counter[str] = Counter()
    for (pid, _endpoint), count in by_player.items():
        calls[habit.get(pid, "private")] += count
    players = Counter(habit.get(pid, "private") for pid in simulator.player_ids())
    return {name: calls[name] / (players[name] * days) for name in players}


def replayed_growth(settings: Settings, since: float) -> dict[str, int]:
    """Each table's growth in bytes, in the store of ``settings`` (empty), from the results of ``fetch-results``
    fetched after ``since``: those fetched until then replayed first (as ``owstream replay`` stores them), measured,
    then the others, measured again."""
    with Store.open(settings.resolved_store_url) as store:
        sizes = []
        for window in ((float("-inf"), since), (since, float("inf"))):
            for batch in read_all(settings, TopicNames(settings.topic_prefix).fetch_results):
                items = [item for item in map(parse_result, batch) if window[0] < item.result.fetched_at <= window[1]]
                apply_isolating(store.apply_results, items)
            sizes.append(store.table_sizes())
    return {name: sizes[1][name].bytes - sizes[0][name].bytes for name in sizes[1]}
