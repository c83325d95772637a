"""The writer's per-player memory: the previous changed snapshot's stats (per gamemode) and ranks.

Sessions are differences against this state, so the writer keeps it in an LRU cache instead of re-reading
it for every snapshot; a player missing from the cache is loaded from the store.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select

from owstream.domain.normalize import Key, ModeKey, ProfileRow, RankRow, StatRow
from owstream.messages.bodies import RawJson
from owstream.store import schema
from owstream.store.queries import current_stats, latest_changed_snapshot, newest_stats_snapshots


@dataclass(slots=True)
class SnapRef:
    """A snapshot id, known once the snapshot row is inserted."""

    id: int | None = None

    def get(self) -> int:
        assert self.id is not None, "snapshot id used before the snapshot was inserted"
        return self.id


@dataclass(slots=True)
class Baseline:
    """One gamemode's baseline: the latest changed snapshot that held its stats, and the current rows."""

    ref: SnapRef
    last_updated_at: int | None
    rows: dict[Key, StatRow]
    blocks: dict[Key, RawJson] | None = None  # the blocks (JSON) the rows were built from, if still known


@dataclass(slots=True)
class PlayerState:
    player_id: str
    exists: bool = False  # has a players row
    first_seen: float | None = None
    last_seen: float | None = None
    private: bool | None = None
    last_outcome: str | None = None
    profile: ProfileRow | None = None
    has_changed: bool = False  # a changed snapshot exists
    last_updated_at: int | None = None  # of the latest changed snapshot
    ranks: list[RankRow] = field(default_factory=list)  # of the latest changed snapshot
    baselines: dict[ModeKey, Baseline] = field(default_factory=dict)  # (platform, gamemode) -> its baseline
    asked_at: dict[str, float] = field(default_factory=dict)  # platform -> when a fetch last asked its stats
    summary_digest: str | None = None  # sha256 of the newest summary's bytes (the fetcher's, in the result)
    dirty: bool = False  # players row must be written
    last_snapshot: SnapRef | None = None  # the newest snapshot of any kind: detects writes by others

    def players_row(self) -> dict[str, object]:
        p = self.profile
        return {
            "player_id": self.player_id,
            "name": p.name if p else None,
            "avatar": p.avatar if p else None,
            "namecard": p.namecard if p else None,
            "title": p.title if p else None,
            "endorsement_level": p.endorsement_level if p else None,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "private": bool(self.private),
            "last_outcome": self.last_outcome,
            "last_updated_at": self.last_updated_at,
            "pc_asked_at": self.asked_at.get("pc"),
            "console_asked_at": self.asked_at.get("console"),
            "summary_digest": self.summary_digest,
        }


class StateCache:
    """LRU of PlayerState; cleared when a transaction fails or derived data is reset."""

    def __init__(self, capacity: int = 4096) -> None:  # ~50 KB per player with both gamemodes
        self._capacity = capacity
        self._states: OrderedDict[str, PlayerState] = OrderedDict()

    def clear(self) -> None:
        self._states.clear()

    def validate(self, conn: Connection, player_ids: Iterable[str]) -> None:
        """Forget players whose newest snapshot in the store is not the one this cache knows.

        Another processor may have written them (a partition moved after a consumer-group rebalance).
        """
        cached = sorted({p for p in player_ids if p in self._states})
        s = schema.snapshots.c
        newest: dict[str, int] = {}
        for start in range(0, len(cached), 500):
            chunk = cached[start : start + 500]
            query = select(s.player_id, func.max(s.id)).where(s.player_id.in_(chunk)).group_by(s.player_id)
            newest.update((pid, sid) for pid, sid in conn.execute(query))
        for player_id in cached:
            known = self._states[player_id].last_snapshot
            if newest.get(player_id) != (known.id if known else None):
                del self._states[player_id]

    def preload(self, conn: Connection, player_ids: Iterable[str]) -> None:
        """Load the players missing from the cache: one query says which are new (their state is empty)."""
        missing = list(dict.fromkeys(p for p in player_ids if p not in self._states))
        p = schema.players.c
        known: set[str] = set()
        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            known.update(conn.execute(select(p.player_id).where(p.player_id.in_(chunk))).scalars())
        for player_id in missing:
            self._put(player_id, load_state(conn, player_id) if player_id in known else PlayerState(player_id))

    def _put(self, player_id: str, state: PlayerState) -> None:
        self._states[player_id] = state
        if len(self._states) > self._capacity:
            self._states.popitem(last=False)

    def get(self, conn: Connection, player_id: str) -> PlayerState:
        state = self._states.get(player_id)
        if state is None:
            state = load_state(conn, player_id)
            self._put(player_id, state)
        else:
            self._states.move_to_end(player_id)
        return state


def load_state(conn: Connection, player_id: str) -> PlayerState:
    """Rebuild one player's state from the store."""
    p = schema.players.c
    row = conn.execute(select(schema.players).where(p.player_id == player_id)).mappings().first()
    state = PlayerState(player_id)
    if row is None:
        return state
    state.exists = True
    state.first_seen, state.last_seen = row["first_seen"], row["last_seen"]
    state.private, state.last_outcome = bool(row["private"]), row["last_outcome"]
    state.asked_at = {p: row[f"{p}_asked_at"] for p in ("pc", "console") if row[f"{p}_asked_at"] is not None}
    state.summary_digest = row["summary_digest"]
    state.profile = ProfileRow(
        player_id, row["name"], row["avatar"], row["namecard"], row["title"], row["endorsement_level"]
    )
    s = schema.snapshots.c
    newest = conn.execute(select(func.max(s.id)).where(s.player_id == player_id)).scalar()
    state.last_snapshot = SnapRef(newest) if newest is not None else None
    latest = latest_changed_snapshot(conn, player_id)
    if latest is None:
        return state
    state.has_changed, state.last_updated_at = True, latest.last_updated_at
    r = schema.ranks.c
    state.ranks = [
        RankRow(x.platform, x.role, x.season, x.division, x.tier, x.rank_icon)
        for x in conn.execute(select(schema.ranks).where(r.snapshot_id == latest.id).order_by(r.platform, r.role))
    ]
    state.baselines = _load_baselines(conn, player_id)
    return state


def _load_baselines(conn: Connection, player_id: str) -> dict[ModeKey, Baseline]:
    """Per (platform, gamemode): the newest changed snapshot with its stats, and the player's current rows of it."""
    s = schema.snapshots.c
    current: dict[ModeKey, dict[Key, StatRow]] = {}
    for x in conn.execute(current_stats([player_id])).mappings():
        current.setdefault((x["platform"], x["gamemode"]), {})[(x["scope"], x["key"])] = stat_row_from_db(x)
    baselines: dict[ModeKey, Baseline] = {}
    for platform, gamemode, snapshot_id in newest_stats_snapshots(conn, player_id):
        updated = conn.execute(select(s.last_updated_at).where(s.id == snapshot_id)).scalar_one()
        key = (platform, gamemode)
        baselines[key] = Baseline(SnapRef(snapshot_id), updated, current.get(key, {}))
    return baselines


_STAT_FIELDS = list(StatRow._fields)


def stat_row_from_db(row: Any) -> StatRow:
    """A StatRow from a ``stats`` row mapping (by column name)."""
    return StatRow(**{name: row[name] for name in _STAT_FIELDS})
