"""Read queries of the CLI and the writer: request status, the player report, the watchlist, the history.

Plain data out (dataclasses, dicts, tuples): nothing here imports pandas. The dashboard's own queries are in
:mod:`owstream.store.views`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, and_, func, select

from owstream.domain.freshness import LastFetches
from owstream.domain.vocabulary import OVERALL_KEY, SCOPE_HERO, SCOPE_OVERALL, TOTAL_FIELDS
from owstream.store import schema


@dataclass(frozen=True)
class RequestStatus:
    outcome: str
    player_id: str
    error: str | None
    retry_after: float | None
    at: float


@dataclass(frozen=True)
class WatchEntry:
    player_id: str
    added_at: float
    last_fetched_at: float | None
    notify_url: str | None = None  # a secret: show it through owstream.domain.alerts.mask_url
    notify_format: str | None = None
    last_updated_at: int | None = None  # when Blizzard last updated the profile (the player last played)


def request_status(conn: Connection, request_id: str) -> RequestStatus | None:
    f = schema.fetch_outcomes.c
    row = conn.execute(
        select(f.outcome, f.player_id, f.error, f.retry_after, f.at)
        .where(f.request_id == request_id)
        .order_by(f.at.desc(), f.result_id.desc())
        .limit(1)
    ).first()
    return RequestStatus(row.outcome, row.player_id, row.error, row.retry_after, row.at) if row else None


def last_fetches(conn: Connection, player_id: str) -> LastFetches:
    """When the player was last fetched ok/private, and the newest not_found with OverFast's retry time
    (from ``fetch_outcomes``, index ``ix_fetch_outcomes_player``)."""
    f = schema.fetch_outcomes.c
    fetched = conn.execute(
        select(func.max(f.at)).where(f.player_id == player_id, f.outcome.in_(("ok", "private")))
    ).scalar()
    missing = conn.execute(
        select(f.at, f.retry_after, f.suggestion)
        .where(f.player_id == player_id, f.outcome == "not_found")
        .order_by(f.at.desc())
        .limit(1)
    ).first()
    if missing is None:
        return LastFetches(fetched_at=fetched)
    return LastFetches(
        fetched_at=fetched,
        not_found_at=missing.at,
        not_found_retry_after=missing.retry_after,
        suggestion=missing.suggestion,
    )


def watchlist(conn: Connection) -> list[WatchEntry]:
    w, r, f, p = schema.watchlist.c, schema.raw_results.c, schema.fetch_outcomes.c, schema.players.c
    expired = select(f.result_id).where(f.result_id == r.result_id, f.outcome == "expired").exists()
    # the newest fetch: an expired request was not fetched (the scheduler asks again)
    last = select(func.max(r.fetched_at)).where(r.player_id == w.player_id, ~expired).scalar_subquery()
    query = (
        select(w.player_id, w.added_at, last, w.notify_url, w.notify_format, p.last_updated_at)
        .outerjoin(schema.players, p.player_id == w.player_id)
        .order_by(w.added_at, w.player_id)
    )
    return [WatchEntry(*row) for row in conn.execute(query).all()]


def number(value: Any) -> Any:
    """Whole floats back to int: the store keeps totals as floats, OverFast sends ints."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


_BLOCK_INTS = ("games_played", "games_won", "games_lost", "time_played")


def stat_block(row: Any) -> dict[str, Any]:
    """A stats row in OverFast's own shape."""
    block: dict[str, Any] = {name: row[name] for name in _BLOCK_INTS}
    block["winrate"], block["kda"] = row["winrate"], row["kda"]
    block["total"] = {name: number(row[name]) for name in TOTAL_FIELDS}
    block["average"] = {name: row[f"avg_{name}"] for name in TOTAL_FIELDS}
    return block


def latest_changed_snapshot(conn: Connection, player_id: str) -> Any:
    """(id, fetched_at, last_updated_at) of the player's newest snapshot whose stats changed, or None."""
    s = schema.snapshots.c
    return conn.execute(
        select(s.id, s.fetched_at, s.last_updated_at)
        .where(s.player_id == player_id, s.changed.is_(True))
        .order_by(s.id.desc())
        .limit(1)
    ).first()


def ranks_of(conn: Connection, snapshot_id: int) -> list[dict[str, Any]]:
    """The ranks of one snapshot: platform, role, season, division, tier, rank_icon."""
    r = schema.ranks.c
    rows = conn.execute(
        select(r.platform, r.role, r.season, r.division, r.tier, r.rank_icon)
        .where(r.snapshot_id == snapshot_id)
        .order_by(r.platform, r.role)
    ).mappings()
    return [dict(row) for row in rows]


def newest_stats_snapshots(conn: Connection, player_id: str) -> list[tuple[str, str, int]]:
    """(platform, gamemode, id of the newest snapshot holding its stats) for one player."""
    s, st = schema.snapshots.c, schema.stats.c
    rows = conn.execute(
        select(st.platform, st.gamemode, func.max(st.snapshot_id))
        .join(schema.snapshots, s.id == st.snapshot_id)
        .where(s.player_id == player_id, st.scope == SCOPE_OVERALL)
        .group_by(st.platform, st.gamemode)
    ).all()
    return sorted((str(platform), str(mode), int(snapshot_id)) for platform, mode, snapshot_id in rows)


def current_stats(
    player_ids: Sequence[str], gamemode: str | None = None, at: int | None = None, platform: str | None = None
) -> Select[Any]:
    """Each player's current stats: per (platform, gamemode, scope, key) the newest ``stats`` row, removed blocks
    left out.

    Columns: ``player_id`` then every ``stats`` column. Stats rows are written only when a block changed
    (see :data:`owstream.store.schema.stats`), so "current" is the newest row of each block, not the rows
    of the newest snapshot. ``at``: the stats as of that snapshot id (rows at or before it) instead;
    ``platform``: that platform's rows only (pc, console, or both: OverFast's total of old snapshots).
    """
    s, st = schema.snapshots.c, schema.stats.c
    newest = (
        select(s.player_id, st.platform, st.gamemode, st.scope, st.key, func.max(st.snapshot_id).label("snapshot_id"))
        .join(schema.snapshots, s.id == st.snapshot_id)
        .where(s.player_id.in_(list(player_ids)))
        .group_by(s.player_id, st.platform, st.gamemode, st.scope, st.key)
    )
    if gamemode is not None:
        newest = newest.where(st.gamemode == gamemode)
    if platform is not None:
        newest = newest.where(st.platform == platform)
    if at is not None:
        newest = newest.where(st.snapshot_id <= at)
    n = newest.subquery()
    same_block = and_(
        st.snapshot_id == n.c.snapshot_id, st.platform == n.c.platform, st.gamemode == n.c.gamemode,
        st.scope == n.c.scope,
    )  # fmt: skip
    return (
        select(n.c.player_id, *(c for c in schema.stats.c if c.name != "removed"))
        .join(schema.stats, and_(same_block, st.key == n.c.key))
        .where(st.removed.is_(False))
    )


SESSION_NUMBERS = ("games", "wins", "losses", "time_played", "winrate", "kda")


def latest_session(
    conn: Connection,
    player_id: str,
    gamemode: str,
    within: tuple[int, int] | None = None,
    platform: str | None = None,
) -> dict[str, Any] | None:
    """The player's newest session of ``gamemode`` (on ``platform``: pc, console or both; None: any);
    ``within=(after, upto)``: the newest ending in that range of snapshot ids (``after`` excluded)."""
    se = schema.sessions.c
    query = select(schema.sessions).where(se.player_id == player_id, se.gamemode == gamemode)
    if platform is not None:
        query = query.where(se.platform == platform)
    if within is not None:
        query = query.where(se.to_snapshot_id > within[0], se.to_snapshot_id <= within[1])
    row = conn.execute(query.order_by(se.to_snapshot_id.desc()).limit(1)).mappings().first()
    if row is None:
        return None
    out = {name: number(row[name]) for name in (*SESSION_NUMBERS, *TOTAL_FIELDS)}
    out.update(
        gamemode=gamemode,
        platform=row["platform"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        fetched_at=row["fetched_at"],
        is_reset=bool(row["is_reset"]),
        heroes=_session_heroes(conn, row["to_snapshot_id"], gamemode, row["platform"]),
    )
    return out


def _session_heroes(conn: Connection, snapshot_id: int, gamemode: str, platform: str) -> list[dict[str, Any]]:
    sp = schema.session_parts.c
    rows = conn.execute(
        select(schema.session_parts)
        .where(
            sp.to_snapshot_id == snapshot_id, sp.gamemode == gamemode, sp.platform == platform, sp.scope == SCOPE_HERO
        )
        .order_by(sp.time_played.desc(), sp.key)
    ).mappings()
    return [{"hero": r["key"], **{n: number(r[n]) for n in (*SESSION_NUMBERS, *TOTAL_FIELDS)}} for r in rows]


HISTORY_COLUMNS = (
    "fetched_at",
    "last_updated_at",
    "platform",
    "gamemode",
    "games",
    "wins",
    "losses",
    "winrate",
    "kda",
    "time_played_hours",
    *TOTAL_FIELDS,
)


def history(conn: Connection, player_id: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """(columns, rows): one row per changed snapshot per platform and gamemode whose stats moved, the overall
    numbers of that snapshot and, as ``rank_<platform>_<role>`` columns, its ranks (``gold 3``). ``platform``: pc,
    console, or both (OverFast's total of pc and console, what snapshots before per-platform fetches hold)."""
    s, st, r = schema.snapshots.c, schema.stats.c, schema.ranks.c
    query = (
        select(
            s.id,
            s.fetched_at,
            s.last_updated_at,
            st.platform,
            st.gamemode,
            st.games_played,
            st.games_won,
            st.games_lost,
            st.winrate,
            st.kda,
            (st.time_played / 3600.0),
            *(st[name] for name in TOTAL_FIELDS),
        )
        .join(schema.stats, st.snapshot_id == s.id)
        .where(s.player_id == player_id, s.changed.is_(True), st.scope == SCOPE_OVERALL, st.key == OVERALL_KEY)
        .order_by(s.id, st.platform, st.gamemode)
    )
    rows = conn.execute(query).all()
    ranks: dict[int, dict[str, str]] = {}
    changed = select(s.id).where(s.player_id == player_id, s.changed.is_(True))
    for snapshot_id, platform, role, division, tier in conn.execute(
        select(r.snapshot_id, r.platform, r.role, r.division, r.tier).where(r.snapshot_id.in_(changed))
    ):
        ranks.setdefault(snapshot_id, {})[f"rank_{platform}_{role}"] = f"{division} {tier}"
    rank_columns = sorted({name for per in ranks.values() for name in per})
    out = [(*row[1:], *(ranks.get(row[0], {}).get(name) for name in rank_columns)) for row in rows]
    return [*HISTORY_COLUMNS, *rank_columns], out
