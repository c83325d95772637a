"""The simulator's synthetic data: heroes, players, game totals and the JSON bodies OverFast would
return for them. Derived values are recomputed from totals the way OverFast does it (winrate in
percent, KDA, averages per 10 minutes of play, all rounded to 2 decimals)."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field, fields
from typing import Any

from owstream.domain.vocabulary import DIVISIONS, ROLES
from owstream.simulator import media

__all__ = [
    "HEROES",
    "Hero",
    "SimPlayer",
    "Totals",
    "gamemodes_body",
    "heroes_body",
    "new_player",
    "player_body",
    "player_from_state",
    "player_state",
    "roles_body",
    "stats_summary_body",
    "summary_body",
]

# Pictures (avatars, icons, portraits) point at the simulator's own /_sim/media/ (simulator.media), served
# from ``base``: the URL of the simulator, so that the offline demo shows them.
BASE_TIME = 1_767_225_600  # 2026-01-01T00:00:00Z: initial profiles were last updated before this


@dataclass(frozen=True)
class Hero:
    key: str
    name: str
    role: str
    subrole: str


def _heroes() -> tuple[Hero, ...]:
    table = {
        ("tank", "bruiser"): "dva:D.Va,mauga:Mauga,roadhog:Roadhog,junker-queen:Junker Queen",
        ("tank", "initiator"): "doomfist:Doomfist,winston:Winston,wrecking-ball:Wrecking Ball",
        ("tank", "stalwart"): "reinhardt:Reinhardt,sigma:Sigma,orisa:Orisa,ramattra:Ramattra,zarya:Zarya",
        ("damage", "flanker"): "genji:Genji,tracer:Tracer,reaper:Reaper,venture:Venture",
        ("damage", "recon"): "sombra:Sombra,pharah:Pharah,echo:Echo,freja:Freja",
        ("damage", "sharpshooter"): "ashe:Ashe,cassidy:Cassidy,hanzo:Hanzo,widowmaker:Widowmaker",
        ("damage", "specialist"): "soldier-76:Soldier: 76,sojourn:Sojourn,torbjorn:Torbjörn,mei:Mei",
        ("support", "medic"): "ana:Ana,mercy:Mercy,moira:Moira",
        ("support", "survivor"): "kiriko:Kiriko,lucio:Lúcio,juno:Juno",
        ("support", "tactician"): "baptiste:Baptiste,zenyatta:Zenyatta,brigitte:Brigitte,illari:Illari",
    }
    heroes = [
        Hero(item.partition(":")[0], item.partition(":")[2], role, subrole)
        for (role, subrole), spec in table.items()
        for item in spec.split(",")
    ]
    return tuple(sorted(heroes, key=lambda hero: hero.key))


HEROES: tuple[Hero, ...] = _heroes()
HERO_BY_KEY: dict[str, Hero] = {hero.key: hero for hero in HEROES}

# Per 10 minutes of play: eliminations, assists, deaths, damage, healing.
_RATES = {
    "tank": (18.0, 3.0, 7.0, 8400.0, 400.0),
    "damage": (21.0, 0.5, 8.0, 11000.0, 300.0),
    "support": (12.0, 8.0, 7.0, 5000.0, 7000.0),
}


@dataclass
class Totals:
    """Counted values of one hero (or role, or everything) on one platform and gamemode."""

    games_played: int = 0
    games_won: int = 0
    games_lost: int = 0
    time_played: int = 0
    eliminations: int = 0
    assists: int = 0
    deaths: int = 0
    damage: int = 0
    healing: int = 0

    def add(self, other: Totals) -> None:
        for item in fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))

    @property
    def seen(self) -> bool:
        return self.games_played > 0 or self.time_played > 0

    def block(self) -> dict[str, Any]:
        """The StatsSummary JSON, derived values recomputed from the totals like OverFast."""
        total = {
            "eliminations": self.eliminations,
            "assists": self.assists,
            "deaths": self.deaths,
            "damage": self.damage,
            "healing": self.healing,
        }
        tens = self.time_played / 600
        kills = self.eliminations + self.assists
        return {
            "games_played": self.games_played,
            "games_won": self.games_won,
            "games_lost": self.games_lost,
            "time_played": self.time_played,
            "winrate": round(self.games_won / self.games_played * 100, 2) if self.games_played else 0.0,
            "kda": round(kills / self.deaths, 2) if self.deaths else float(kills),
            "total": total,
            "average": {key: round(value / tens, 2) if tens else 0.0 for key, value in total.items()},
        }


def play(rng: random.Random, hero: Hero, games: int, wins: int) -> Totals:
    """Totals of ``games`` games (``wins`` of them won) on one hero."""
    time_played = sum(rng.randint(420, 960) for _ in range(games)) if games else rng.randint(5, 120)
    tens = time_played / 600
    values = [round(rate * tens * rng.uniform(0.7, 1.3)) for rate in _RATES[hero.role]]
    return Totals(games, wins, games - wins, time_played, *values)


@dataclass
class SimPlayer:
    player_id: str
    username: str
    private: bool
    platforms: tuple[str, ...]
    pool: tuple[str, ...]  # hero keys this player picks from, mains first
    skill: float  # probability of winning a game
    plays_competitive: bool
    ranked: bool  # False: played competitive but has no rank (like KIRIKO-12460)
    avatar: str  # the name of its picture (simulator.media)
    namecard: str | None
    title: str | None
    endorsement: int
    season: int
    last_updated_at: int | None
    ranks: dict[str, dict[str, tuple[str, int] | None]] = field(default_factory=dict)
    stats: dict[tuple[str, str], dict[str, Totals]] = field(default_factory=dict)
    refreshes: int = 0  # how many times its stats moved on (kept across restarts with the state file)

    @property
    def blizzard_id(self) -> str:
        """Blizzard's id of the account (``hex|hex``, stable: from the player id), which OverFast accepts too."""
        digest = hashlib.sha256(self.player_id.encode()).hexdigest()
        return f"{digest[:22]}|{digest[22:54]}"


def player_state(player: SimPlayer) -> dict[str, Any]:
    """``player`` as plain JSON (the simulator's state file): what :func:`player_from_state` reads back."""
    state = {item.name: getattr(player, item.name) for item in fields(player)}
    state["platforms"], state["pool"] = list(player.platforms), list(player.pool)
    state["ranks"] = {
        platform: {role: list(rank) if rank else None for role, rank in ranks.items()}
        for platform, ranks in player.ranks.items()
    }
    state["stats"] = [
        {"platform": platform, "gamemode": mode, "heroes": {key: _totals_state(t) for key, t in heroes.items()}}
        for (platform, mode), heroes in player.stats.items()
    ]
    return state


def player_from_state(state: dict[str, Any]) -> SimPlayer:
    """The player :func:`player_state` wrote (KeyError, TypeError or ValueError when it is not one)."""
    values = dict(state)
    values["platforms"], values["pool"] = tuple(state["platforms"]), tuple(state["pool"])
    values["ranks"] = {
        str(platform): {str(role): (str(rank[0]), int(rank[1])) if rank else None for role, rank in ranks.items()}
        for platform, ranks in state["ranks"].items()
    }
    values["stats"] = {
        (str(block["platform"]), str(block["gamemode"])): {
            str(key): Totals(**{name: int(value) for name, value in totals.items()})
            for key, totals in block["heroes"].items()
        }
        for block in state["stats"]
    }
    return SimPlayer(**values)


def _totals_state(totals: Totals) -> dict[str, int]:
    return {item.name: getattr(totals, item.name) for item in fields(totals)}


def _hash(rng: random.Random) -> str:
    return hashlib.sha256(str(rng.random()).encode()).hexdigest()


def new_player(rng: random.Random, player_id: str, *, private: bool = False) -> SimPlayer:
    """A player with a deterministic history drawn from ``rng``."""
    username = player_id.rsplit("-", 1)[0]
    platforms = ("pc", "console") if rng.random() < 0.25 else (rng.choice(("pc", "pc", "console")),)
    keys = [hero.key for hero in HEROES]
    player = SimPlayer(
        player_id=player_id,
        username=username,
        private=private,
        platforms=platforms,
        pool=tuple(rng.sample(keys, rng.randint(4, 12))),
        skill=rng.uniform(0.42, 0.58),
        plays_competitive=rng.random() < 0.85,
        ranked=rng.random() < 0.85,
        avatar=_hash(rng)[:24],
        namecard=_hash(rng)[:24] if rng.random() < 0.7 else None,
        title=rng.choice(("Harbinger", "Bytefixer", "Peacekeeper", "Ace", None)),
        endorsement=rng.randint(1, 5),
        season=rng.randint(14, 22),
        last_updated_at=None if private else BASE_TIME - rng.randint(3600, 90 * 86400),
    )
    for platform in platforms:
        for gamemode in ("quickplay", "competitive"):
            if gamemode == "competitive" and not player.plays_competitive:
                continue
            heroes = player.stats.setdefault((platform, gamemode), {})
            for rank, key in enumerate(player.pool):
                games = rng.randint(0, 400 // (rank + 1))
                wins = sum(rng.random() < player.skill for _ in range(games))
                heroes[key] = play(rng, HERO_BY_KEY[key], games, wins)
        if player.plays_competitive:
            player.ranks[platform] = _initial_ranks(rng, player, platform)
    return player


def _initial_ranks(rng: random.Random, player: SimPlayer, platform: str) -> dict[str, tuple[str, int] | None]:
    played = {
        HERO_BY_KEY[key].role for key, totals in player.stats[(platform, "competitive")].items() if totals.games_played
    }
    ranks: dict[str, tuple[str, int] | None] = {}
    for role in (*ROLES, "open"):
        has_rank = player.ranked and (role in played or (role == "open" and rng.random() < 0.2))
        ranks[role] = (rng.choice(DIVISIONS[:7]), rng.randint(1, 5)) if has_rank else None
    return ranks


def move_rank(rank: tuple[str, int], up: bool) -> tuple[str, int]:
    """One tier up (tier 1 is the best of a division) or down, crossing divisions."""
    division, tier = rank
    index = DIVISIONS.index(division)
    if up:
        if tier > 1:
            return division, tier - 1
        return (DIVISIONS[index + 1], 5) if index + 1 < len(DIVISIONS) else rank
    if tier < 5:
        return division, tier + 1
    return (DIVISIONS[index - 1], 1) if index > 0 else rank


# --- bodies -------------------------------------------------------------------------------------------
def _rank_body(role: str, rank: tuple[str, int] | None, base: str) -> dict[str, Any] | None:
    if rank is None:
        return None
    division, tier = rank
    return {
        "division": division,
        "tier": tier,
        "role_icon": media.url(base, "role", role),
        "rank_icon": media.url(base, "rank", division),
        "tier_icon": media.url(base, "tier", str(tier)),
    }


def summary_body(player: SimPlayer, base: str = media.DEFAULT_BASE) -> dict[str, Any]:
    competitive: dict[str, Any] | None = None
    if not player.private and player.ranks:
        competitive = {"pc": None, "console": None}
        for platform, ranks in player.ranks.items():
            competitive[platform] = {"season": player.season} | {
                role: _rank_body(role, rank, base) for role, rank in ranks.items()
            }
    level = player.endorsement
    return {
        "username": player.username,
        "avatar": media.url(base, "avatar", player.avatar),
        "namecard": None if player.private or not player.namecard else media.url(base, "namecard", player.namecard),
        "title": None if player.private else player.title,
        "endorsement": {"level": level, "frame": media.url(base, "endorsement", str(level))},
        "competitive": competitive,
        "last_updated_at": player.last_updated_at,
    }


def search_hit(player: SimPlayer, player_id: str, base: str = media.DEFAULT_BASE) -> dict[str, Any]:
    """One result of ``GET /players?name=`` as OverFast gives it (``player_id``: the search input for a single
    hit, else the Blizzard id; never the number after the #, which Blizzard's search no longer shows)."""
    return {
        "player_id": player_id,
        "name": player.username,
        "avatar": media.url(base, "avatar", player.avatar),
        "namecard": media.url(base, "namecard", player.namecard) if player.namecard else None,
        "title": player.title,
        "career_url": f"{base}/players/{player_id}",
        "blizzard_id": player.blizzard_id.replace("|", "%7C"),
        "last_updated_at": player.last_updated_at,
        "is_public": True,
    }


def hero_totals(player: SimPlayer, gamemode: str | None, platform: str | None) -> dict[str, Totals]:
    """Per hero, summed over the matching platforms and gamemodes; heroes never seen left out."""
    heroes: dict[str, Totals] = {}
    for (plat, mode), per_hero in player.stats.items():
        if (platform and plat != platform) or (gamemode and mode != gamemode):
            continue
        for key, totals in per_hero.items():
            heroes.setdefault(key, Totals()).add(totals)
    return {key: heroes[key] for key in sorted(heroes) if heroes[key].seen}


def stats_summary_body(player: SimPlayer, gamemode: str | None, platform: str | None) -> dict[str, Any]:
    heroes = {} if player.private else hero_totals(player, gamemode, platform)
    if not heroes:
        return {}
    roles: dict[str, Totals] = {}
    for key, totals in heroes.items():
        roles.setdefault(HERO_BY_KEY[key].role, Totals()).add(totals)
    general = Totals()
    for totals in roles.values():
        general.add(totals)
    return {
        "general": general.block(),
        "roles": {role: roles[role].block() for role in ROLES if role in roles},
        "heroes": {key: totals.block() for key, totals in heroes.items()},
    }


def _comparison(label: str, heroes: dict[str, Totals], attr: str) -> dict[str, Any]:
    values = sorted(((getattr(t, attr), key) for key, t in heroes.items()), reverse=True)
    return {"label": label, "values": [{"hero": key, "value": value} for value, key in values]}


def _career(totals: Totals) -> list[dict[str, Any]]:
    game = [("games_played", "Games Played"), ("games_won", "Games Won"), ("games_lost", "Games Lost")]
    game.append(("time_played", "Time Played"))
    combat = [("eliminations", "Eliminations"), ("deaths", "Deaths"), ("damage", "Damage Done")]
    return [
        {
            "category": category,
            "label": category.capitalize(),
            "stats": [{"key": key, "label": label, "value": getattr(totals, key)} for key, label in items],
        }
        for category, items in (("game", game), ("combat", combat))
    ]


def _gamemode_stats(player: SimPlayer, platform: str, gamemode: str) -> dict[str, Any] | None:
    heroes = hero_totals(player, gamemode, platform)
    if not heroes:
        return None
    comparisons: dict[str, Any] = dict.fromkeys(_COMPARISON_KEYS)
    comparisons["time_played"] = _comparison("Time Played", heroes, "time_played")
    comparisons["games_won"] = _comparison("Games Won", heroes, "games_won")
    everything = Totals()
    for totals in heroes.values():
        everything.add(totals)
    career = {"all-heroes": _career(everything)} | {key: _career(t) for key, t in heroes.items()}
    return {"heroes_comparisons": comparisons, "career_stats": career}


_COMPARISON_KEYS = (
    "time_played",
    "games_won",
    "win_percentage",
    "weapon_accuracy_best_in_game",
    "eliminations_per_life",
    "kill_streak_best",
    "multikill_best",
    "eliminations_avg_per_10_min",
    "deaths_avg_per_10_min",
    "final_blows_avg_per_10_min",
    "solo_kills_avg_per_10_min",
    "objective_kills_avg_per_10_min",
    "objective_time_avg_per_10_min",
    "hero_damage_done_avg_per_10_min",
    "healing_done_avg_per_10_min",
)


def player_body(player: SimPlayer, base: str = media.DEFAULT_BASE) -> dict[str, Any]:
    """``GET /players/{id}``: the summary and (minimal) career stats per platform and gamemode."""
    stats: dict[str, Any] | None = None
    if not player.private:
        stats = {"pc": None, "console": None}
        for platform in player.platforms:
            stats[platform] = {mode: _gamemode_stats(player, platform, mode) for mode in ("quickplay", "competitive")}
    return {"summary": summary_body(player, base), "stats": stats}


def heroes_body(base: str = media.DEFAULT_BASE) -> list[dict[str, Any]]:
    return [
        {
            "key": hero.key,
            "name": hero.name,
            "portrait": media.url(base, "hero", hero.key),
            "role": hero.role,
            "subrole": hero.subrole,
            "gamemodes": ["quickplay", "stadium"],
        }
        for hero in HEROES
    ]


def roles_body(base: str = media.DEFAULT_BASE) -> list[dict[str, Any]]:
    return [
        {
            "key": role,
            "name": role.capitalize(),
            "icon": media.url(base, "role", role),
            "description": f"Simulated {role} heroes.",
        }
        for role in ROLES
    ]


def gamemodes_body(base: str = media.DEFAULT_BASE) -> list[dict[str, Any]]:
    return [
        {
            "key": key,
            "name": key.capitalize(),
            "icon": media.url(base, "gamemode", key),
            "description": f"Simulated {key} gamemode.",
            "screenshot": media.url(base, "gamemode", f"{key}-screenshot"),
        }
        for key in ("control", "escort", "flashpoint", "hybrid", "push")
    ]
