"""A player's report (``owstream show --json``, ``fetch --json``): profile, freshness, ranks, and the stats of each
platform apart, with how the player's identity was checked and how the last fetch ended.

Platforms: stats are fetched and stored per platform (pc, console); rows stored before owstream asked per
platform are OverFast's total of both (platform ``both``), labelled so and never added to one platform's. The
report's ``gamemodes`` are those of one platform, ``platform``: the one asked for, by default the one the player
played most (time played, every gamemode); ``platforms`` holds each platform's own (the chosen one first).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from owstream.domain.vocabulary import BOTH, PLATFORMS, SCOPE_HERO, SCOPE_OVERALL, SCOPE_ROLE, platform_name
from owstream.store import schema
from owstream.store.queries import current_stats, latest_changed_snapshot, latest_session, ranks_of, stat_block


def platform_times(conn: Connection, player_ids: list[str]) -> dict[str, dict[str, int]]:
    """Per player, per platform with stats: seconds played (the current overall rows, every gamemode)."""
    current = current_stats(player_ids).subquery()
    rows = conn.execute(
        select(current.c.player_id, current.c.platform, func.sum(current.c.time_played))
        .where(current.c.scope == SCOPE_OVERALL)
        .group_by(current.c.player_id, current.c.platform)
    ).all()
    out: dict[str, dict[str, int]] = {}
    for player_id, platform, seconds in rows:
        out.setdefault(str(player_id), {})[str(platform)] = int(seconds or 0)
    return out


def ordered_platforms(times: dict[str, int]) -> list[str]:
    """The platforms with stats, the one played most first (pc before console on a tie), ``both`` (OverFast's
    total of old snapshots) last: the first is a player's default platform."""
    own = sorted((p for p in times if p in PLATFORMS), key=lambda p: (-times[p], PLATFORMS.index(p)))
    return own + ([BOTH] if BOTH in times else [])


def platforms_of(conn: Connection, player_id: str) -> list[str]:
    """A player's platforms with stats, its default (most played) first; [] without stats."""
    return ordered_platforms(platform_times(conn, [player_id]).get(player_id, {}))


def chosen_platform(conn: Connection, player_id: str, platform: str | None) -> str | None:
    """``platform`` itself, or (None) the player's default platform; None when it has no stats at all."""
    if platform is not None:
        return platform
    found = platforms_of(conn, player_id)
    return found[0] if found else None


def newest_seasons(conn: Connection, player_id: str) -> dict[str, int | None]:
    """Each platform's newest reported competitive season (``competitive.<platform>.season``; None: none)."""
    s = schema.snapshots.c
    out: dict[str, int | None] = {}
    for platform in PLATFORMS:
        column = s[f"season_{platform}"]
        out[platform] = conn.execute(
            select(column).where(s.player_id == player_id, column.is_not(None)).order_by(s.id.desc()).limit(1)
        ).scalar()
    return out


def player_report(
    conn: Connection, player_id: str, gamemode: str | None = None, platform: str | None = None
) -> dict[str, Any] | None:
    """The report of a stored player (None if not stored); ``gamemode``/``platform``: only that one."""
    p = schema.players.c
    player = conn.execute(select(schema.players).where(p.player_id == player_id)).mappings().first()
    if player is None:
        return None
    latest = latest_changed_snapshot(conn, player_id)
    found = platforms_of(conn, player_id)
    chosen = platform if platform is not None else (found[0] if found else None)
    shown = [chosen] if platform is not None else found
    per_platform = {
        name: {"label": platform_name(name), "gamemodes": platform_gamemodes(conn, player_id, name, gamemode)}
        for name in shown
        if name is not None
    }
    return {
        "player": {
            "player_id": player_id,
            "name": player["name"],
            "avatar": player["avatar"],
            "namecard": player["namecard"],
            "title": player["title"],
            "endorsement_level": player["endorsement_level"],
            "private": bool(player["private"]),
            "first_seen": player["first_seen"],
            "last_seen": player["last_seen"],
            "last_outcome": player["last_outcome"],
        },
        "freshness": {
            "fetched_at": player["last_seen"],
            "stats_fetched_at": latest.fetched_at if latest else None,
            "last_updated_at": latest.last_updated_at if latest else None,
        },
        "ranks": ranks_of(conn, latest.id) if latest else [],
        "platform": chosen,  # the platform of "gamemodes": the one asked for, else the one played most
        "platform_label": platform_name(chosen) if chosen else None,
        "gamemodes": per_platform[chosen]["gamemodes"] if chosen in per_platform else {},
        "platforms": per_platform,  # every platform with stats (or the one asked for), each its own numbers
        "hero_names": hero_names(conn, per_platform),
        "seasons": newest_seasons(conn, player_id),  # each platform's newest reported competitive season
        "identity": identity_of(conn, player_id),
        "last_fetch": last_fetch(conn, player_id),
    }


def platform_gamemodes(conn: Connection, player_id: str, platform: str, only: str | None) -> dict[str, Any]:
    """One platform's current stats per gamemode, in OverFast's shape, each with its newest session."""
    st = schema.stats.c
    out: dict[str, Any] = {}
    query = current_stats([player_id], only, platform=platform).order_by(st.gamemode, st.key)
    for row in conn.execute(query).mappings():
        block = out.setdefault(row["gamemode"], {"overall": None, "roles": {}, "heroes": {}})
        if row["scope"] == SCOPE_OVERALL:
            block["overall"] = stat_block(row)
        elif row["scope"] == SCOPE_ROLE:
            block["roles"][row["key"]] = stat_block(row)
        elif row["scope"] == SCOPE_HERO:
            block["heroes"][row["key"]] = stat_block(row)
    for mode, block in out.items():
        block["latest_session"] = latest_session(conn, player_id, mode, platform=platform)
    return out


def identity_of(conn: Connection, player_id: str) -> dict[str, Any] | None:
    """How the history's own id was checked (owstream.domain.identity): ``verdict`` (proven, private, mismatch,
    not_listed, ambiguous, failed, legacy), ``why``, the ``blizzard_id`` when proven, when it was checked and
    will be again, and the other ids proven to be the same account (``also_known_as``); None if never checked."""
    a = schema.player_aliases.c
    row = conn.execute(
        select(a.verdict, a.why, a.blizzard_id, a.checked_at, a.next_check_at).where(a.alias == player_id)
    ).first()
    if row is None:
        return None
    others = conn.execute(
        select(a.alias)
        .where(a.player_id == player_id, a.alias != player_id, a.verdict == "proven", a.alias != a.blizzard_id)
        .order_by(a.learned_at, a.alias)
    ).scalars()
    return {
        "verdict": row.verdict,
        "why": row.why,
        "blizzard_id": row.blizzard_id if row.verdict == "proven" else None,
        "checked_at": row.checked_at,
        "next_check_at": row.next_check_at,
        "also_known_as": list(others),
    }


def last_fetch(conn: Connection, player_id: str) -> dict[str, Any] | None:
    """The player's newest fetch outcome: ``outcome``, ``error`` (why, for a mismatch or an error), ``at`` and the
    BattleTag ``suggestion`` offered, if any."""
    f = schema.fetch_outcomes.c
    row = conn.execute(
        select(f.outcome, f.error, f.at, f.suggestion)
        .where(f.player_id == player_id)
        .order_by(f.at.desc(), f.result_id.desc())
        .limit(1)
    ).first()
    return None if row is None else dict(row._mapping)


def hero_names(conn: Connection, per_platform: dict[str, Any]) -> dict[str, str]:
    """The display names (OverFast's ``/heroes``) of the heroes of a report, by key; heroes the catalogue
    does not know are left out (named from their keys)."""
    keys = {key for per in per_platform.values() for block in per["gamemodes"].values() for key in block["heroes"]}
    if not keys:
        return {}
    h = schema.heroes.c
    return {str(k): str(n) for k, n in conn.execute(select(h.key, h.name).where(h.key.in_(sorted(keys))))}
