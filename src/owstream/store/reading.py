"""The read model of the pages: :class:`Reads`, mixed into :class:`owstream.store.Store`, so the store is the
only entry a reader needs (the dashboard never touches an engine, a connection or an alias table).

Every method resolves the player ids it is given to their stored history (a BattleTag that changed, a
Blizzard id) and returns the plain records of :mod:`owstream.store.views` and :mod:`owstream.store.lookups`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from owstream.domain.heroes import Hero
from owstream.domain.refresh import RefreshPolicy
from owstream.store import lookups, views
from owstream.store.lookups import Member, Resolved
from owstream.store.report import platforms_of
from owstream.store.views import (
    ActivityRows,
    AlertRows,
    HistoryRows,
    MetaRows,
    PlayerChoice,
    PlayerRows,
    SquadRows,
    WatchRow,
)

__all__ = ["Member", "Reads", "Resolved"]


class Reads:
    _engine: Engine

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A connection for reads; SQLAlchemy's errors translated (StoreUnavailable, StoreError...)."""
        from owstream.store import translated

        try:
            with self._engine.connect() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise translated(exc) from exc

    def _history(self, player_id: str) -> str:
        with self._read() as conn:
            return lookups.history_id(conn, player_id)

    # --- players -----------------------------------------------------------------------------------

    def resolve(self, text: str) -> Resolved:
        """What a typed player reference names: the id OverFast takes, and the stored history, if any."""
        with self._read() as conn:
            return lookups.resolve(conn, text)

    def members(self, player_ids: Sequence[str]) -> list[Member]:
        """What the store knows of each player (stored, private, the newest fetch outcome), in order."""
        with self._read() as conn:
            return lookups.members(conn, player_ids)

    def players(self) -> list[PlayerChoice]:
        return views.players(self._engine)

    def platforms(self, player_id: str) -> list[str]:
        """The player's platforms with stats, the one played most (its default) first, ``both`` (OverFast's total
        of snapshots stored before per-platform fetches) last; [] without stats."""
        with self._read() as conn:
            return platforms_of(conn, lookups.history_id(conn, player_id))

    def player_view(
        self, player_id: str, gamemode: str, season: str = "lifetime", platform: str | None = None
    ) -> PlayerRows | None:
        """``season``: ``lifetime``, ``current``, ``last`` or a season number; ``platform``: pc, console or both
        (None: the one the player played most); see :func:`views.player`."""
        return views.player(self._engine, self._history(player_id), gamemode, season, platform)

    def history_view(
        self,
        player_id: str,
        gamemode: str,
        season: str = "lifetime",
        platform: str | None = None,
        max_sessions: int = 200,
    ) -> HistoryRows:
        return views.history(self._engine, self._history(player_id), gamemode, max_sessions, season, platform)

    def squad_view(
        self,
        player_ids: Sequence[str],
        gamemode: str,
        window_hours: float | None,
        season: str = "lifetime",
        platform: str | None = None,
    ) -> SquadRows:
        """``platform`` None: each player on their own default platform (``SquadRows.platforms`` says which)."""
        ids = list(dict.fromkeys(self._history(pid) for pid in player_ids))
        return views.squad(self._engine, ids, gamemode, window_hours, season, platform)

    def snapshot_rows(self, player_id: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """(columns, rows) of a player's snapshot history (the download)."""
        from owstream.store import queries

        with self._read() as conn:
            return queries.history(conn, lookups.history_id(conn, player_id))

    # --- the store as a whole ----------------------------------------------------------------------

    def watch_view(self, policy: RefreshPolicy | None = None) -> list[WatchRow]:
        """The watchlist with each player's next refresh under ``policy`` (the scheduler's: ``policy_of(settings)``)."""
        return views.watchlist(self._engine, policy)

    def activity_view(self, now: float, minutes: int = 60) -> ActivityRows:
        return views.activity(self._engine, now, minutes)

    def alert_view(self) -> AlertRows:
        return views.alerts(self._engine)

    def current_season(self) -> int | None:
        """The newest competitive season any stored snapshot reports: the season of the whole app."""
        with self._read() as conn:
            return lookups.current_season(conn)

    def heroes(self) -> dict[str, Hero]:
        """The hero catalogue (display names, roles, portraits) by key."""
        with self._read() as conn:
            return lookups.heroes(conn)

    # --- the meta ----------------------------------------------------------------------------------

    def meta_view(
        self, gamemode: str, platform: str, region: str, *, division: str | None, since: float | None
    ) -> MetaRows:
        return views.meta_trend(self._engine, gamemode, platform, region, division=division, since=since)

    def meta_by_division(self, platform: str, region: str) -> list[dict[str, Any]]:
        return views.meta_by_division(self._engine, platform, region)

    def hero_roles(self) -> dict[str, str]:
        """Each hero's role: the catalogue's, completed by the meta's role-filtered answers."""
        roles = views.hero_roles(self._engine)
        roles.update({key: hero.role for key, hero in self.heroes().items() if hero.role})
        return roles
