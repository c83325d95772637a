"""Small reads every page needs: which stored history a typed player reference names, what the store knows
of each member of a squad (stored, private, unknown to OverFast, never fetched), the hero catalogue, and the
one current season of the whole store. Plain data out."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from owstream.domain.battletag import parse_player
from owstream.domain.heroes import Hero
from owstream.errors import InvalidBattleTag
from owstream.store import schema
from owstream.store.aliases import lookup, owner_of
from owstream.store.engine import upsert


@dataclass(frozen=True, slots=True)
class Resolved:
    """A player reference as typed (``Name#1234``, ``Name-1234``, ``Name%231234``, ``hex|hex``) and what it names."""

    text: str
    player_id: str | None  # the id OverFast takes (``Name-1234``, ``hex|hex``); None: not a player reference
    history: str | None  # the stored history it belongs to; None: nothing stored under it
    problem: str | None = None  # why ``text`` is not a player reference

    @property
    def stored(self) -> bool:
        return self.history is not None


def history_id(conn: Connection, player_id: str) -> str:
    """The history ``player_id`` belongs to: its alias's, else the Blizzard id's first owner, else itself."""
    found = lookup(conn, player_id)
    if found is not None:
        return found.player_id
    if "|" in player_id:
        owner = owner_of(conn, player_id)
        if owner is not None:
            return owner
    return player_id


def resolve(conn: Connection, text: str) -> Resolved:
    try:
        ref = parse_player(text)
    except InvalidBattleTag as exc:
        return Resolved(text, None, None, str(exc))
    history = history_id(conn, ref.player_id)
    p = schema.players.c
    stored = conn.execute(select(p.player_id).where(p.player_id == history)).scalar()
    return Resolved(text, ref.player_id, stored)


@dataclass(frozen=True, slots=True)
class Member:
    """What the store knows of one player a page was asked for."""

    player_id: str  # as asked (resolved to its history when stored)
    stored: bool  # a snapshot exists
    name: str | None = None
    private: bool = False
    last_outcome: str | None = None  # the newest fetch outcome: ok, private, not_found, upstream_error, skipped
    last_outcome_at: float | None = None
    retry_after: float | None = None  # with not_found: when OverFast checks Blizzard again (seconds after)
    error: str | None = None


def _as_id(text: str) -> str:
    """``Name#1234`` as ``Name-1234``; text that is no player reference as it is."""
    try:
        return parse_player(text).player_id
    except InvalidBattleTag:
        return text


def members(conn: Connection, player_ids: Sequence[str]) -> list[Member]:
    """One :class:`Member` per player reference (as typed), in order, each resolved to its history."""
    p, f = schema.players.c, schema.fetch_outcomes.c
    ids = {pid: _as_id(pid) for pid in player_ids}
    histories = {pid: history_id(conn, ids[pid]) for pid in player_ids}
    wanted = sorted(set(histories.values()))
    rows = {
        row.player_id: row
        for row in conn.execute(select(p.player_id, p.name, p.private, p.last_outcome).where(p.player_id.in_(wanted)))
    }
    newest = (
        select(f.player_id, func.max(f.at).label("at")).where(f.player_id.in_(wanted)).group_by(f.player_id).subquery()
    )
    outcomes: dict[str, Any] = {
        row.player_id: row
        for row in conn.execute(
            select(f.player_id, f.outcome, f.at, f.retry_after, f.error).join(
                newest, (newest.c.player_id == f.player_id) & (newest.c.at == f.at)
            )
        )
    }
    out = []
    for asked in player_ids:
        history = histories[asked]
        row, outcome = rows.get(history), outcomes.get(history)
        out.append(
            Member(
                player_id=history if row is not None else ids[asked],
                stored=row is not None,
                name=row.name if row is not None else None,
                private=bool(row.private) if row is not None else False,
                last_outcome=outcome.outcome if outcome is not None else None,
                last_outcome_at=outcome.at if outcome is not None else None,
                retry_after=outcome.retry_after if outcome is not None else None,
                error=outcome.error if outcome is not None else None,
            )
        )
    return out


def heroes(conn: Connection) -> dict[str, Hero]:
    """The hero catalogue by key ({} before the meta service's first ``/heroes`` answer)."""
    h = schema.heroes.c
    rows = conn.execute(select(h.key, h.name, h.role, h.portrait).order_by(h.key))
    return {row.key: Hero(row.key, row.name, row.role, row.portrait) for row in rows}


def write_heroes(conn: Connection, found: Iterable[Hero], at: float) -> int:
    """Insert or update each hero of an answer (heroes missing from it stay: old sessions still name them)."""
    rows = [
        {"key": hero.key, "name": hero.name, "role": hero.role, "portrait": hero.portrait, "fetched_at": at}
        for hero in found
    ]
    if not rows:
        return 0
    stmt: Any = upsert(conn.dialect.name, schema.heroes).values(rows)
    excluded = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=["key"],
        set_={name: excluded[name] for name in ("name", "role", "portrait", "fetched_at")},
    )
    conn.execute(stmt)
    return len(rows)


def current_season(conn: Connection) -> int | None:
    """The newest competitive season any stored snapshot reports (None: none reports one yet)."""
    s = schema.snapshots.c
    found = conn.execute(select(func.max(s.season)).where(s.season > 0)).scalar()
    return int(found) if found is not None else None
