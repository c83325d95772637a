"""Players who play as people do, for the population benchmark (issue 23, ``bench/bench_population.py``).

A player's games are a function of the seed, the player and the day, whatever asks and whenever it asks: the
simulator applies them when a request comes (:meth:`Population.catch_up`), so two runs of one seed see the same
games at the same simulated times, however differently they poll.

* **Habits**: each player has one, in proportion (the players ranked by a hash of the seed and their id):
  ``regular`` (8 % of them) plays on 70 % of days, ``casual`` (30 %) on 12 %, ``lapsed`` (22 %) on 3 %, and
  ``dormant`` (40 %) last played 2 to 10 weeks before the start and comes back on 1 % of days. About a tenth of
  the players play on a given day (:func:`daily_share`), most are idle most days, some for weeks.
* **Evenings**: a player's sessions begin around an evening hour of its region (Americas, Europe, Asia: 19-22 h
  local), give or take 45 minutes; a regular sometimes plays in the afternoon too.
* **Sessions of a few games**: 1 to 6 games (3.3 on average), each 8 to 20 minutes after 1 to 4 minutes of
  queue, in one gamemode (competitive for a share of a ranked player's sessions) and on one platform (the
  second one for a fifth of a two-platform player's sessions).
* **Blizzard's update**: when a game ends, the profile's ``last_updated_at`` becomes its end and its stats take
  the game (a hero among the player's mains, won with the player's skill, totals at the hero's rates); a
  competitive game moves a rank one tier 30 % of the time.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from owstream.simulator import data as simdata
from owstream.simulator.data import SimPlayer

DAY = 86400
LOOK_BACK = 365  # days searched for a player's last game before the start
GAMES = (1, 2, 2, 3, 3, 3, 4, 4, 5, 6)  # a session's games, drawn from these: "a few"
REGIONS = ((-6, 0.35), (1, 0.45), (8, 0.20))  # (UTC offset in hours, share of the players)
RANK_MOVES = 0.3  # chance that a competitive game moves a rank one tier


@dataclass(frozen=True, slots=True)
class Habit:
    name: str
    share: float  # of the players
    play_days: float  # chance of playing on a given day
    idle_days: tuple[int, int] | None = None  # (dormant) last played this many days before the start


HABITS = (
    Habit("regular", 0.08, 0.70),
    Habit("casual", 0.30, 0.12),
    Habit("lapsed", 0.22, 0.03),
    Habit("dormant", 0.40, 0.01, idle_days=(14, 70)),
)


def daily_share(habits: Sequence[Habit] = HABITS) -> float:
    """The expected share of the players who play on a given day."""
    return sum(habit.share * habit.play_days for habit in habits)


@dataclass(frozen=True, slots=True)
class Game:
    player_id: str
    ended_at: int  # Blizzard's update: the profile's new last_updated_at
    seconds: int
    platform: str
    gamemode: str
    session: int  # the time its session began: the games of one session share it


@dataclass(frozen=True, slots=True)
class Traits:
    habit: Habit
    evening: float  # seconds after 00:00 UTC its evening sessions begin
    competitive: float  # share of its sessions in competitive
    platforms: tuple[str, ...]
    last_day: int | None  # (dormant) the day it last played before the start


def _rng(*parts: object) -> random.Random:
    return random.Random(":".join(map(str, parts)))  # noqa: S311 - synthetic data; str seeds hash the same everywhere


def _rank(seed: int, player_id: str) -> str:
    return hashlib.sha256(f"{seed}:{player_id}".encode()).hexdigest()


class PlayModel:
    """The games of ``players`` from ``start`` on (and each one's last game before it). Pure: no clock, no I/O."""

    def __init__(self, seed: int, start: float, players: Sequence[SimPlayer], habits: Sequence[Habit] = HABITS):
        self.seed = seed
        self.start = start
        self.start_day = int(start // DAY)
        ranked = sorted(players, key=lambda player: _rank(seed, player.player_id))
        self._traits = {
            player.player_id: self._traits_of(player, _habit(habits, (index + 0.5) / len(ranked)))
            for index, player in enumerate(ranked)
        }
        self._days: dict[tuple[str, int], list[Game]] = {}

    def _traits_of(self, player: SimPlayer, habit: Habit) -> Traits:
        rng = _rng(self.seed, player.player_id, "traits")
        offset = rng.choices([hours for hours, _ in REGIONS], [share for _, share in REGIONS])[0]
        evening = ((rng.uniform(19, 22) - offset) % 24) * 3600
        competitive = rng.uniform(0.3, 0.8) if player.plays_competitive and player.ranked else 0.0
        last_day = self.start_day - rng.randint(*habit.idle_days) if habit.idle_days else None
        return Traits(habit, evening, competitive, player.platforms, last_day)

    def player_ids(self) -> list[str]:
        return list(self._traits)

    def habit(self, player_id: str) -> str:
        return self._traits[player_id].habit.name

    def day(self, player_id: str, day: int) -> list[Game]:
        """The games ``player_id`` plays on ``day`` (days since the epoch, UTC), in order."""
        key = (player_id, day)
        if key not in self._days:
            if len(self._days) > 100_000:
                self._days.clear()
            self._days[key] = self._play(self._traits[player_id], player_id, day)
        return self._days[key]

    def _play(self, traits: Traits, player_id: str, day: int) -> list[Game]:
        rng = _rng(self.seed, player_id, day)
        plays = rng.random() < traits.habit.play_days
        if traits.last_day is not None and day < self.start_day:  # dormant: idle since its last day
            plays = day == traits.last_day
        if not plays:
            return []
        begins = [day * DAY + traits.evening + rng.gauss(0, 2700)]
        if traits.habit.name == "regular" and rng.random() < 0.25:
            begins.append(begins[0] - rng.uniform(3, 6) * 3600)  # an afternoon session too
        games: list[Game] = []
        for began in sorted(begins):
            games.extend(_session(rng, traits, player_id, int(began)))
        return games

    def games(self, player_id: str, since: float, until: float) -> list[Game]:
        """The games ``player_id`` ends in (``since``, ``until``]."""
        if player_id not in self._traits or until <= since:
            return []
        first, last = int(since // DAY) - 1, int(until // DAY)  # a session begun late may end the next day
        return [g for d in range(first, last + 1) for g in self.day(player_id, d) if since < g.ended_at <= until]

    def last_played(self, player_id: str) -> int | None:
        """When ``player_id`` last ended a game before the start (None: not within a year)."""
        last_day = self._traits[player_id].last_day  # dormant: idle since that day, or back since the start
        first = last_day - 1 if last_day is not None else self.start_day - LOOK_BACK
        for day in range(self.start_day + 1, first, -1):
            ended = [game.ended_at for game in self.day(player_id, day) if game.ended_at < self.start]
            if ended:
                return max(ended)
        return None

    def sessions(self, player_id: str, since: float, until: float) -> list[list[Game]]:
        """The games of (``since``, ``until``] by session."""
        out: dict[int, list[Game]] = {}
        for game in self.games(player_id, since, until):
            out.setdefault(game.session, []).append(game)
        return list(out.values())


def _habit(habits: Sequence[Habit], position: float) -> Habit:
    total = 0.0
    for habit in habits:
        total += habit.share
        if position < total:
            return habit
    return habits[-1]


def _session(rng: random.Random, traits: Traits, player_id: str, began: int) -> Iterable[Game]:
    mode = "competitive" if rng.random() < traits.competitive else "quickplay"
    platform = traits.platforms[0]
    if len(traits.platforms) > 1 and rng.random() < 0.2:
        platform = traits.platforms[1]
    at = began
    for _ in range(rng.choice(GAMES)):
        seconds = rng.randint(480, 1200)
        at += rng.randint(60, 240) + seconds
        yield Game(player_id, at, seconds, platform, mode, began)


def apply_game(player: SimPlayer, game: Game, seed: int) -> dict[str, Any]:
    """Blizzard's update after ``game``: its stats added to the player's, maybe a rank moved, ``last_updated_at``
    its end. Returns the simulator's history entry of it."""
    rng = _rng(seed, player.player_id, game.ended_at)
    key = rng.choice(player.pool[:4])
    won = rng.random() < player.skill
    totals = simdata.one_game(rng, simdata.HERO_BY_KEY[key], won, game.seconds)
    player.stats.setdefault((game.platform, game.gamemode), {}).setdefault(key, simdata.Totals()).add(totals)
    ranks = player.ranks.get(game.platform)
    if game.gamemode == "competitive" and ranks and rng.random() < RANK_MOVES:
        ranked = [role for role, rank in ranks.items() if rank is not None]
        if ranked:
            role = rng.choice(ranked)
            current = ranks[role]
            assert current is not None
            ranks[role] = simdata.move_rank(current, won)
    player.last_updated_at = max(player.last_updated_at or 0, game.ended_at)
    player.refreshes += 1
    return {"refresh": player.refreshes, "gamemode": game.gamemode, "platform": game.platform, "games": 1,
            "wins": int(won), "losses": int(not won), "at": game.ended_at}  # fmt: skip


class Population:
    """A simulator's players playing by :class:`PlayModel` from ``start``: each one's games are applied when
    it is next asked for (:meth:`catch_up`)."""

    def __init__(self, seed: int, start: float, players: Sequence[SimPlayer]) -> None:
        public = [player for player in players if not player.private]
        self.model = PlayModel(seed, start, public)
        self._played_until = {player.player_id: start for player in public}
        for player in public:
            player.last_updated_at = self.model.last_played(player.player_id)

    def catch_up(self, player: SimPlayer, now: float) -> list[dict[str, Any]]:
        """Apply ``player``'s games ended since it was last caught up, until ``now``; their history entries."""
        since = self._played_until.get(player.player_id)
        if since is None or now <= since:
            return []
        self._played_until[player.player_id] = now
        return [apply_game(player, game, self.model.seed) for game in self.model.games(player.player_id, since, now)]
