"""History page: a player's numbers over time (from snapshots) and their play sessions."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from owstream.dashboard import charts, data
from owstream.dashboard.layout import (
    GAMEMODES,
    gamemode_switch,
    hours,
    pick_player,
    plain,
    player_link,
    season_switch,
    to_datetime,
    when,
)

SESSIONS_OPENABLE = 20


def render() -> None:
    st.title("History")
    player_id = pick_player("history_player")
    if player_id is None:
        return
    left, right = st.columns([2, 3])
    with left:
        mode = gamemode_switch(list(GAMEMODES), key="history_gamemode")
    season = st.session_state.get("history_season", "lifetime")
    view = data.history(player_id, mode, season)
    with right:
        season = season_switch(view.seasons, key="history_season")
    st.caption(f"{player_link(player_id)} · {GAMEMODES[mode]} only · one point per snapshot whose stats changed")
    if season != "lifetime" and view.season is None:
        st.info("No such season stored for this player.")
        return
    info = view.season
    if info is not None:
        until = f" {info.until}." if info.until else ""
        st.caption(plain(f"{info.label}: its snapshots and sessions only, {info.since}; {info.boundary}.{until}"))
        if mode in info.resets:
            st.warning(plain(f"{GAMEMODES[mode]}: {info.resets[mode]}."))
    if view.timeline.empty:
        st.info(f"No {GAMEMODES[mode].lower()} snapshots for this player yet.")
        return
    sessions_said = "session" if view.session_count == 1 else "sessions"
    where = info.label if info is not None else "Lifetime"
    st.caption(plain(f"{where}: {view.session_games:,} games in {view.session_count} {sessions_said}"))
    lines(view)
    sessions(view)


def lines(view: data.HistoryView) -> None:
    t = view.timeline.assign(when=_played_until(view.timeline), hours=view.timeline["time_played"] / 3600)
    if len(t) == 1:
        st.info("Only one snapshot so far: the lines start with the next fetch that finds new games.")
    top = st.columns(3)
    top[0].altair_chart(charts.timeline(t, "games_played", "Games played (total)", ",.0f"), width="stretch")
    top[1].altair_chart(charts.timeline(t, "winrate", "Winrate (%)"), width="stretch")
    top[2].altair_chart(charts.timeline(t, "kda", "KDA"), width="stretch")
    if not view.ranks.empty:
        ranks = view.ranks.dropna(subset=["score"])
        ranks = ranks.assign(
            when=_played_until(ranks),
            label=ranks["division"].str.title() + " " + ranks["tier"].astype("Int64").astype(str),
            role=ranks["role"] + " (" + ranks["platform"] + ")",
        )
        st.altair_chart(charts.rank_lines(ranks), width="stretch")


def _played_until(frame: pd.DataFrame) -> pd.Series:
    """When Blizzard last updated the profile (the end of the games a snapshot counts), else fetch time."""
    return to_datetime(frame["last_updated_at"].fillna(frame["fetched_at"]).astype(float))


def _wl(row: pd.Series) -> str:
    return f"{row['wins']}-{row['losses']}"


def sessions(view: data.HistoryView) -> None:
    st.subheader("Play sessions", anchor=False)
    s = view.sessions
    if s.empty:
        st.info("No play session yet: a session is the difference between two snapshots, so it needs two fetches.")
        return
    table = pd.DataFrame(
        {
            "When (UTC)": [f"{when(a)} → {when(b)}" for a, b in zip(s["started_at"], s["ended_at"], strict=True)],
            "Games": s["games"],
            "W-L": s.apply(_wl, axis=1),
            "Winrate (%)": s["winrate"].round(1),
            "Time played (h)": (s["time_played"] / 3600).round(2),
            "Heroes (most time first)": s["heroes"].str.replace(",", ", "),
            "Rank change": s["rank_change"],
            "Reset": s["is_reset"].astype(bool),
        }
    )
    st.dataframe(table, hide_index=True, width="stretch")
    st.caption(f"Per-hero detail of the {min(len(s), SESSIONS_OPENABLE)} newest sessions:")
    parts = view.session_heroes
    for row in s.head(SESSIONS_OPENABLE).itertuples():
        title = f"{when(row.ended_at)}: {row.games} games, {row.wins}-{row.losses}, {hours(row.time_played)}"
        with st.expander(title):
            heroes = parts[parts["to_snapshot_id"] == row.to_snapshot_id]
            if row.is_reset:
                st.warning("Counters went down (season reset or Blizzard correction): not real games.")
            st.table(
                pd.DataFrame(
                    {
                        "Hero": heroes["hero"],
                        "Games": heroes["games"],
                        "W-L": heroes.apply(_wl, axis=1) if not heroes.empty else [],
                        "Time played (min)": (heroes["time_played"] / 60).round(1),
                        "Winrate (%)": heroes["winrate"].round(1),
                        "KDA": heroes["kda"].round(2),
                    }
                ).set_index("Hero")
            )
