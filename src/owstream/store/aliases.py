"""Player aliases: which history a requested player id (a BattleTag or a Blizzard id) belongs to, and the
Blizzard id the fetcher learned for it (:data:`owstream.store.schema.player_aliases`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, select

from owstream.store import schema
from owstream.store.engine import WRITE, upsert


@dataclass(frozen=True)
class Alias:
    alias: str
    player_id: str  # the history
    blizzard_id: str | None


def lookup(conn: Connection, alias: str) -> Alias | None:
    a = schema.player_aliases.c
    row = conn.execute(select(a.alias, a.player_id, a.blizzard_id).where(a.alias == alias)).first()
    return Alias(*row) if row else None


def owner_of(conn: Connection, blizzard_id: str) -> str | None:
    """The history of the first id recorded with this Blizzard id."""
    a = schema.player_aliases.c
    query = select(a.player_id).where(a.blizzard_id == blizzard_id).order_by(a.learned_at, a.alias).limit(1)
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
        """Record an alias; one already recorded stays as it was."""
        row = {"alias": alias, "player_id": player_id, "blizzard_id": blizzard_id, "learned_at": at}
        stmt: Any = upsert(self._engine.dialect.name, schema.player_aliases)
        with self._engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
            conn.execute(stmt.values(**row).on_conflict_do_nothing(index_elements=["alias"]))
