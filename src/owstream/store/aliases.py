"""Player aliases: which history a requested player id (a BattleTag or a Blizzard id) belongs to, the Blizzard id
the fetcher proved for it, and how and when that identity was checked (:data:`owstream.store.schema.player_aliases`,
the rules in :mod:`owstream.domain.identity`).

Only a ``proven`` row's Blizzard id counts: it is what the fetcher asks OverFast by and what joins two BattleTags
into one history (a rename). Any other verdict is a note with why, checked again at ``next_check_at``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, Engine, select

from owstream.store import schema
from owstream.store.engine import WRITE, upsert

_COLUMNS = (
    "alias", "player_id", "blizzard_id", "verdict", "why", "checked_at", "next_check_at", "checks", "learned_at",
)  # fmt: skip


@dataclass(frozen=True)
class Alias:
    alias: str  # the id as requested
    player_id: str  # the history
    blizzard_id: str | None  # proven (verdict "proven"), or a note of what was found
    verdict: str = "legacy"  # see owstream.domain.identity.VERDICTS
    why: str | None = None
    checked_at: float | None = None
    next_check_at: float | None = None  # None: not searched again
    checks: int = 0  # searches since the last proof
    learned_at: float = 0.0  # when the row was first written

    @property
    def proven(self) -> bool:
        return self.verdict == "proven" and self.blizzard_id is not None

    def due(self, now: float) -> bool:
        """Whether the identity is to be searched again now."""
        return not self.proven and self.next_check_at is not None and self.next_check_at <= now


def lookup(conn: Connection, alias: str) -> Alias | None:
    a = schema.player_aliases.c
    row = conn.execute(select(*(a[name] for name in _COLUMNS)).where(a.alias == alias)).first()
    return Alias(*row) if row else None


def owner_of(conn: Connection, blizzard_id: str) -> str | None:
    """The history of the first id proven to have this Blizzard id."""
    a = schema.player_aliases.c
    query = (
        select(a.player_id)
        .where(a.blizzard_id == blizzard_id, a.verdict == "proven")
        .order_by(a.learned_at, a.alias)
        .limit(1)
    )
    return conn.execute(query).scalar()


class Aliases:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def lookup(self, alias: str) -> Alias | None:
        with self._engine.connect() as conn:
            return lookup(conn, alias)

    def owner_of(self, blizzard_id: str) -> str | None:
        with self._engine.connect() as conn:
            return owner_of(conn, blizzard_id)

    def history_of(self, player_id: str) -> str:
        """The history ``player_id`` belongs to (itself when no alias says otherwise)."""
        found = self.lookup(player_id)
        return found.player_id if found else player_id

    def add(self, alias: str, player_id: str, blizzard_id: str | None, at: float) -> None:
        """Record a proven alias; one already recorded stays as it was."""
        row = Alias(alias, player_id, blizzard_id, "proven", None, at, None, 0, at)
        stmt: Any = upsert(self._engine.dialect.name, schema.player_aliases)
        with self._engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
            conn.execute(stmt.values(**asdict(row)).on_conflict_do_nothing(index_elements=["alias"]))

    def record(self, row: Alias) -> None:
        """Write ``row`` over whatever was recorded for its alias (``learned_at`` of the first record kept)."""
        values = asdict(row)
        stmt: Any = upsert(self._engine.dialect.name, schema.player_aliases).values(**values)
        changed = {name: stmt.excluded[name] for name in _COLUMNS if name not in ("alias", "learned_at")}
        with self._engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
            conn.execute(stmt.on_conflict_do_update(index_elements=["alias"], set_=changed))
