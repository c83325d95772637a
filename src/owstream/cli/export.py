"""``owstream export``: a player's history as the tables people analyse, CSV or Parquet (pandas and pyarrow,
loaded only here).

Every table (:mod:`owstream.store.exports`: snapshots, ranks, overall, roles, heroes, sessions) goes to one
file of a folder (default ``<player>-history/``); ``--table`` writes one table to one file (default
``<player>-<table>.<csv|parquet>``). Times are UTC: ISO 8601 text in CSV (``2026-12-07T00:17:12Z``), UTC
timestamps in Parquet. Units are in the column names: ``time_played_hours``, ``<total>_per_10min``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from owstream.config import Settings
from owstream.domain.battletag import PlayerRef
from owstream.domain.heroes import hero_name
from owstream.errors import NotStored, OwstreamError
from owstream.store import Store
from owstream.store.exports import TABLES, Table

SUFFIX = {"csv": ".csv", "parquet": ".parquet"}
ISO_UTC = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class Written:
    path: Path  # the folder (every table) or the file (one table)
    files: dict[str, tuple[Path, int]]  # table -> (its file, its rows)
    private: bool  # the stored profile is private: snapshots without stats


def default_out(tag: PlayerRef, fmt: str, table: str | None) -> Path:
    """``<player>-history`` (a folder of every table), or ``<player>-<table>.<csv|parquet>``."""
    return Path(f"{tag.player_id}-history" if table is None else f"{tag.player_id}-{table}{SUFFIX[fmt]}")


def export_player(settings: Settings, tag: PlayerRef, fmt: str, out: Path | None, table: str | None = None) -> Written:
    """Write the player's tables (or one of them); refused before reading anything when ``out`` cannot be."""
    target = out if out is not None else default_out(tag, fmt, table)
    _check_target(target, fmt, table)
    with Store.open(settings.resolved_store_url) as store:
        tables = store.export_tables(store.aliases.history_of(tag.player_id))
    snapshots = tables["snapshots"]
    if not snapshots.rows:
        raise NotStored(f"nothing stored for {tag} yet: fetch it with `owstream fetch {tag.player_id}`")
    outcomes = snapshots.columns.index("outcome")
    private = snapshots.rows[-1][outcomes] == "private"
    chosen = [table] if table is not None else list(TABLES)
    if table is None:
        target.mkdir(exist_ok=True)
    files = {}
    for name in chosen:
        path = target if table is not None else target / f"{name}{SUFFIX[fmt]}"
        frame = frame_of(tables[name], name)
        if fmt == "parquet":
            frame.to_parquet(path, index=False)
        else:
            frame.to_csv(path, index=False, date_format=ISO_UTC)
        files[name] = (path, len(frame))
    return Written(target, files, private)


def _check_target(target: Path, fmt: str, table: str | None) -> None:
    """A clear refusal for what cannot be written: a folder that is not there, a name that says another
    format, a file where a folder of tables goes."""
    parent = target.absolute().parent
    if not parent.is_dir():
        raise OwstreamError(f"--out {target}: the folder {parent} does not exist (create it first)")
    suffix = target.suffix.lower()
    if table is not None:
        if suffix in SUFFIX.values() and suffix != SUFFIX[fmt]:
            raise OwstreamError(f"--out {target} names a {suffix[1:]} file, but --format is {fmt}")
        if target.is_dir():
            raise OwstreamError(f"--out {target} is a folder: --table {table} writes one file")
        return
    if suffix in SUFFIX.values():
        raise OwstreamError(
            f"--out {target} names a file, but export writes a folder of tables ({', '.join(TABLES)}): give a "
            f"folder, or --table snapshots (or another) to write one table to {target.name}"
        )
    if target.exists() and not target.is_dir():
        raise OwstreamError(f"--out {target} is a file: export writes a folder of tables, give a folder name")


def frame_of(table: Table, name: str) -> pd.DataFrame:
    """One table as analysts want it: UTC timestamps, hours, per-10-minute averages and hero names named."""
    frame = pd.DataFrame(table.rows, columns=table.columns)
    for column in frame.columns:
        if column.endswith("_at"):
            frame[column] = pd.to_datetime(frame[column], unit="s", utc=True)
    if "time_played" in frame.columns:
        frame["time_played"] = frame["time_played"] / 3600.0
    frame = frame.rename(columns=lambda c: _unit_name(str(c)))
    if name == "heroes" and "hero" in frame.columns:
        frame.insert(frame.columns.get_loc("hero") + 1, "hero_name", frame["hero"].map(hero_name))
    return frame


def _unit_name(column: str) -> str:
    if column == "time_played":
        return "time_played_hours"
    if column.startswith("avg_"):
        return f"{column.removeprefix('avg_')}_per_10min"
    return column
