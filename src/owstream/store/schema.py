"""The store's tables (SQLAlchemy Core). Portable: SQLite by default, PostgreSQL by URL.

Only ``snapshots.id`` is an autoincrement key; every other table is keyed by natural columns, so a store
rebuilt by ``owstream replay`` holds the same rows (``table_dump`` maps snapshot ids to result ids).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    false,
)

metadata = MetaData()

_ID = String(64)  # player ids, result ids, request ids

schema_migrations = Table(
    "schema_migrations",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("applied_at", Float, nullable=False),
)

# One row: who this store is (migration 0008). A running store checks it is still there and still the same
# (a file removed, replaced or emptied under it): :mod:`owstream.store.identity`. Replay leaves it.
store_identity = Table(
    "store_identity",
    metadata,
    Column("store_id", String(32), primary_key=True),
    Column("created_at", Float, nullable=False),
)

players = Table(
    "players",
    metadata,
    Column("player_id", _ID, primary_key=True),
    Column("name", String(64)),
    Column("avatar", Text),
    Column("namecard", Text),
    Column("title", String(128)),
    Column("endorsement_level", Integer),
    Column("first_seen", Float, nullable=False),
    Column("last_seen", Float, nullable=False),
    Column("private", Boolean, nullable=False),
    Column("last_outcome", String(16), nullable=False),
    Column("last_updated_at", BigInteger),
    # migration 0010: when a fetch last asked each platform's stats (an empty answer included): the fetcher looks
    # at a platform the player has no stats on at most once a day (owstream.domain.fetchplan)
    Column("pc_asked_at", Float),
    Column("console_asked_at", Float),
    Column("summary_digest", String(64)),  # migration 0010: sha256 of the newest summary's bytes (summary_only)
)

snapshots = Table(
    "snapshots",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("player_id", _ID, ForeignKey("players.player_id"), nullable=False),
    Column("result_id", _ID, nullable=False, unique=True),
    Column("fetched_at", Float, nullable=False),
    Column("last_updated_at", BigInteger),
    Column("changed", Boolean, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("source_topic", String(255), nullable=False),
    Column("source_partition", Integer, nullable=False),
    Column("source_offset", BigInteger, nullable=False),
    # migration 0005: the snapshot's own competitive season (the highest OverFast reports across its platforms;
    # null if none). Which season a snapshot belongs to is decided when reading (owstream.domain.seasons).
    Column("season", Integer),
    # migration 0010: each platform's own season (competitive.pc.season, competitive.console.season; null if
    # none), for the seasons of that platform's stats
    Column("season_pc", Integer),
    Column("season_console", Integer),
    Index("ix_snapshots_player_changed", "player_id", "changed", "id"),
    Index("ix_snapshots_player_fetched", "player_id", "fetched_at"),
)

ranks = Table(
    "ranks",
    metadata,
    Column("snapshot_id", Integer, ForeignKey("snapshots.id", ondelete="CASCADE"), primary_key=True),
    Column("platform", String(16), primary_key=True),
    Column("role", String(16), primary_key=True),
    Column("season", Integer),
    Column("division", String(32), nullable=False),
    Column("tier", Integer),
    Column("rank_icon", Text),
)

_STAT_NUMBERS = (
    ("winrate", Float),
    ("kda", Float),
    ("eliminations", Float),
    ("assists", Float),
    ("deaths", Float),
    ("damage", Float),
    ("healing", Float),
    ("avg_eliminations", Float),
    ("avg_assists", Float),
    ("avg_deaths", Float),
    ("avg_damage", Float),
    ("avg_healing", Float),
)

# A changed snapshot stores the overall row of each gamemode, and only the role and hero rows that differ
# from the player's previous changed snapshot (migration 0003): a player's stats at snapshot S are, per
# (gamemode, scope, key), the newest row at or before S, unless that row is ``removed``. A session touching
# two heroes stores ~6 rows instead of ~42: what lets one processor keep up with thousands of snapshots a second.
# Migration 0010: per platform. ``platform`` is pc or console (OverFast's ``platform=`` filter), or ``both`` for
# rows fetched without it (pc + console added by OverFast: every row written before 0010). Sessions and seasons
# are per platform too; a platform's rows are never mixed with another's.
_PLATFORM = String(16)

stats = Table(
    "stats",
    metadata,
    Column("snapshot_id", Integer, ForeignKey("snapshots.id", ondelete="CASCADE"), nullable=False),
    Column("gamemode", String(32), nullable=False),
    Column("scope", String(8), nullable=False),  # overall | role | hero
    Column("key", String(64), nullable=False),  # "all" | role | hero key
    Column("games_played", Integer, nullable=False),
    Column("games_won", Integer, nullable=False),
    Column("games_lost", Integer, nullable=False),
    Column("time_played", Integer, nullable=False),
    *(Column(name, kind) for name, kind in _STAT_NUMBERS),
    Column("platform", _PLATFORM, nullable=False, server_default="both"),  # migration 0010
    # migration 0003: the block vanished from OverFast's answer (a season reset); its numbers are zeros
    Column("removed", Boolean, nullable=False, server_default=false()),
    PrimaryKeyConstraint("snapshot_id", "platform", "gamemode", "scope", "key", name="stats_pkey"),
    sqlite_with_rowid=False,  # rows live in the primary-key b-tree: one insert per row, not two
)

_DELTA_COLUMNS = (
    ("games", Integer),
    ("wins", Integer),
    ("losses", Integer),
    ("time_played", Integer),
    ("eliminations", Float),
    ("assists", Float),
    ("deaths", Float),
    ("damage", Float),
    ("healing", Float),
    ("winrate", Float),
    ("kda", Float),
)

sessions = Table(
    "sessions",
    metadata,
    Column("to_snapshot_id", Integer, ForeignKey("snapshots.id", ondelete="CASCADE"), nullable=False),
    Column("gamemode", String(32), nullable=False),
    Column("player_id", _ID, ForeignKey("players.player_id"), nullable=False),
    Column("from_snapshot_id", Integer, ForeignKey("snapshots.id", ondelete="CASCADE")),
    Column("started_at", BigInteger),  # last_updated_at of the previous snapshot
    Column("ended_at", BigInteger),  # last_updated_at of the new snapshot
    Column("fetched_at", Float, nullable=False),
    *(Column(name, kind, nullable=False) for name, kind in _DELTA_COLUMNS),
    Column("heroes", Text, nullable=False),  # comma-separated, most time first
    Column("is_reset", Boolean, nullable=False),
    Column("platform", _PLATFORM, nullable=False, server_default="both"),  # migration 0010
    PrimaryKeyConstraint("to_snapshot_id", "platform", "gamemode", name="sessions_pkey"),
    Index("ix_sessions_player_fetched", "player_id", "fetched_at"),
    Index("ix_sessions_fetched", "fetched_at"),
)

session_parts = Table(
    "session_parts",
    metadata,
    Column("to_snapshot_id", Integer, nullable=False),
    Column("gamemode", String(32), nullable=False),
    Column("scope", String(8), nullable=False),  # role | hero
    Column("key", String(64), nullable=False),
    *(Column(name, kind, nullable=False) for name, kind in _DELTA_COLUMNS),
    Column("platform", _PLATFORM, nullable=False, server_default="both"),  # migration 0010
    PrimaryKeyConstraint("to_snapshot_id", "platform", "gamemode", "scope", "key", name="session_parts_pkey"),
    sqlite_with_rowid=False,
)

rank_changes = Table(
    "rank_changes",
    metadata,
    Column("snapshot_id", Integer, ForeignKey("snapshots.id", ondelete="CASCADE"), primary_key=True),
    Column("platform", String(16), primary_key=True),
    Column("role", String(16), primary_key=True),
    Column("player_id", _ID, ForeignKey("players.player_id"), nullable=False),
    Column("season", Integer),
    Column("from_division", String(32)),
    Column("from_tier", Integer),
    Column("to_division", String(32)),
    Column("to_tier", Integer),
    Column("fetched_at", Float, nullable=False),
    Index("ix_rank_changes_player", "player_id", "fetched_at"),
)

fetch_outcomes = Table(
    "fetch_outcomes",
    metadata,
    Column("request_id", _ID, primary_key=True),
    Column("result_id", _ID, primary_key=True),
    Column("player_id", _ID, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("error", Text),
    Column("retry_after", Float),
    Column("status", Integer),
    Column("at", Float, nullable=False),
    Column("suggestion", String(64)),  # migration 0009: the BattleTag offered for one not found as typed
    Index("ix_fetch_outcomes_at", "at"),  # migration 0002: the Pipeline page's recent outcomes
    Index("ix_fetch_outcomes_player", "player_id", "at"),  # migration 0007: the fetcher's "asked lately?"
)

watchlist = Table(
    "watchlist",
    metadata,
    Column("player_id", _ID, primary_key=True),
    Column("added_at", Float, nullable=False),
    # migration 0007: where this player's alerts go. The URL is a secret (shown only masked); alerts are
    # sent for events of fetches made from ``notify_since`` on; ``notify_format`` null: from the URL.
    Column("notify_url", Text),
    Column("notify_format", String(16)),
    Column("notify_since", Float),
)

# migration 0007: the player ids a history is known by. A player's history is keyed by the first id the store
# knew it under; the fetcher learns a BattleTag's Blizzard id from OverFast's search once (after the first
# ok fetch), so a new BattleTag with the same Blizzard id (a name change) is stored in the same history, and
# the player is then asked for by Blizzard id. Not derived: replay keeps it (results carry the history id).
player_aliases = Table(
    "player_aliases",
    metadata,
    Column("alias", _ID, primary_key=True),  # a player id as requested: a BattleTag or a Blizzard id
    Column("player_id", _ID, nullable=False),  # the history it belongs to
    Column("blizzard_id", _ID),  # null: OverFast's search did not list the player
    Column("learned_at", Float, nullable=False),
    # migration 0009: how the identity was checked (owstream.domain.identity). Only a ``proven`` row's Blizzard
    # id is used to ask OverFast or to join histories; any other verdict is checked again at ``next_check_at``.
    Column("verdict", String(16), nullable=False, server_default="legacy"),  # proven, private, mismatch, ...
    Column("why", Text),  # the verdict in words
    Column("checked_at", Float),
    Column("next_check_at", Float),  # null: not searched again (proven, or private until it is public)
    Column("checks", Integer, nullable=False, server_default="0"),  # searches since the last proof
    Index("ix_player_aliases_blizzard", "blizzard_id"),
)

# migration 0007: the notifier's record of each alert, by event id: what it sent, what waits, what it gave up.
# Not derived data: ``owstream replay`` keeps it, so a replayed event is not alerted twice.
deliveries = Table(
    "deliveries",
    metadata,
    Column("event_id", String(256), primary_key=True),
    Column("player_id", _ID, nullable=False),
    Column("event_type", String(32), nullable=False),
    Column("event", Text, nullable=False),  # the player-events message (JSON): formatted when sent
    Column("status", String(16), nullable=False),  # pending | sent | given_up | dropped
    Column("attempts", Integer, nullable=False),
    Column("last_status", Integer),  # the webhook's last HTTP status, if it answered
    Column("last_error", Text),  # why the last attempt failed (never the URL)
    Column("created_at", Float, nullable=False),
    Column("next_attempt_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Index("ix_deliveries_due", "status", "next_attempt_at"),
)

raw_results = Table(
    "raw_results",
    metadata,
    Column("result_id", _ID, primary_key=True),
    Column("player_id", _ID, nullable=False),
    Column("fetched_at", Float, nullable=False),
    Column("payload", LargeBinary, nullable=False),  # the Kafka value: FetchResult JSON, zstd-compressed
    Column("source_topic", String(255), nullable=False),
    Column("source_partition", Integer, nullable=False),
    Column("source_offset", BigInteger, nullable=False),
    Index("ix_raw_results_player", "player_id", "fetched_at"),
    Index("ix_raw_results_fetched", "fetched_at"),  # migration 0002: results per minute on the Pipeline page
)

# Migration 0006: OverFast's /heroes/stats answers (the meta service's topic), one row per answer, and its rows
# per hero. Not derived from fetch-results: `owstream replay` leaves them alone.
hero_stats = Table(
    "hero_stats",
    metadata,
    Column("answer_id", _ID, primary_key=True),
    Column("gamemode", String(16), nullable=False),
    Column("platform", String(16), nullable=False),
    Column("region", String(16), nullable=False),
    Column("division", String(16), nullable=False),  # "all": every division
    Column("role", String(16), nullable=False),  # "all": every role
    Column("fetched_at", Float, nullable=False),
    Column("status", Integer, nullable=False),
    Column("cache_headers", Text, nullable=False),  # JSON object
    Column("heroes", LargeBinary, nullable=False),  # OverFast's JSON array as it came, zstd-compressed
    Column("source_topic", String(255), nullable=False),
    Column("source_partition", Integer, nullable=False),
    Column("source_offset", BigInteger, nullable=False),
    Index("ix_hero_stats_combination", "gamemode", "platform", "region", "division", "role", "fetched_at"),
    Index("ix_hero_stats_role", "role", "fetched_at"),  # the role-filtered answers, which give the heroes' roles
)

hero_stat_rows = Table(
    "hero_stat_rows",
    metadata,
    Column("answer_id", _ID, ForeignKey("hero_stats.answer_id", ondelete="CASCADE"), primary_key=True),
    Column("hero", String(64), primary_key=True),
    Column("pickrate", Float, nullable=False),  # percent
    Column("winrate", Float, nullable=False),  # percent
    sqlite_with_rowid=False,
)

# Migration 0012: OverFast's hero catalogue (``GET /heroes``): each hero's display name, role and portrait,
# written by the meta service at its interval. Reference data, not derived from fetch-results: replay keeps it.
heroes = Table(
    "heroes",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("role", String(16)),
    Column("portrait", Text),
    Column("fetched_at", Float, nullable=False),
)

ix_fetch_outcomes_at = next(i for i in fetch_outcomes.indexes if i.name == "ix_fetch_outcomes_at")
ix_raw_results_fetched = next(i for i in raw_results.indexes if i.name == "ix_raw_results_fetched")
ix_fetch_outcomes_player = next(i for i in fetch_outcomes.indexes if i.name == "ix_fetch_outcomes_player")

# Everything rebuilt from fetch-results, children first (the order reset_derived deletes in).
DERIVED_TABLES: tuple[Table, ...] = (
    session_parts,
    sessions,
    rank_changes,
    ranks,
    stats,
    fetch_outcomes,
    raw_results,
    snapshots,
    players,
)
