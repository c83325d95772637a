"""``owstream export``: a player's snapshot history as CSV or Parquet (pandas and pyarrow, loaded only here)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from owstream.config import Settings
from owstream.domain.battletag import PlayerRef
from owstream.errors import OwstreamError
from owstream.store import Store


def history_frame(settings: Settings, player_id: str) -> pd.DataFrame:
    """One row per changed snapshot per gamemode (see :func:`owstream.store.queries.history`)."""
    with Store.open(settings.resolved_store_url) as store:
        columns, rows = store.history(player_id)
    return pd.DataFrame(rows, columns=columns)


def export_history(settings: Settings, tag: PlayerRef, fmt: str, out: Path) -> int:
    frame = history_frame(settings, tag.player_id)
    if frame.empty:
        raise OwstreamError(f"no history stored for {tag}: fetch it first with `owstream fetch {tag.player_id}`")
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        frame.to_parquet(out, index=False)
    else:
        frame.to_csv(out, index=False)
    return len(frame)
