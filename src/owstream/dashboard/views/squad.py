"""Squad page: several players side by side, their hero pools, and what they played in the same window."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from owstream.dashboard import charts, data
from owstream.dashboard.layout import GAMEMODES, gamemode_switch, plain, player_label, season_switch, when
from owstream.domain.seasons import season_label

WINDOWS: dict[str, float | None] = {
    "Tonight (12 h before the newest session)": 12.0,
    "Last 24 h of play": 24.0,
    "Last 7 days of play": 24.0 * 7,
    "All sessions": None,
}


def render() -> None:
    st.title("Squad")
    choices = data.players()
    if not choices:
        st.info("No player in the store yet: fetch some on the Player page.")
        return
    labels = {c.player_id: player_label(c) for c in choices}
    tracked = [c.player_id for c in choices if c.tracked] or [c.player_id for c in choices]
    picked = st.multiselect(
        "Players", list(labels), default=tracked[:4], format_func=labels.__getitem__, key="squad_players",
        help="★ = on the watchlist",
    )  # fmt: skip
    left, middle, right = st.columns([2, 3, 3])
    with left:
        mode = gamemode_switch(list(GAMEMODES), key="squad_gamemode")
    window_name = right.selectbox("Time window", list(WINDOWS), key="squad_window")
    season = st.session_state.get("squad_season", "lifetime")
    view = data.squad(tuple(picked), mode, WINDOWS[window_name], season) if picked else None
    with middle:
        season = season_switch(view.seasons if view else [], key="squad_season")
    if view is None:
        st.info("Pick one or more players.")
        return
    if season != "lifetime" and not season_note(view, mode):
        return
    if view.overall.empty:
        st.info(f"None of these players has {GAMEMODES[mode].lower()} stats.")
        return
    side_by_side(view, mode)
    window(view, window_name)


def season_note(view: data.SquadView, mode: str) -> bool:
    """Which season the numbers are of and how each player's is counted; False when no player has it."""
    if view.season is None:
        st.info("No such season stored for these players.")
        return False
    label = season_label(view.season)
    lines = [f"{pid}: {info.since}" for pid, info in view.since.items()]
    lines += [f"{pid}: no snapshot in {label}" for pid in view.missing]
    st.caption(
        plain(f"{label}, each player's newest snapshot of it minus the last one before it began: ")
        + "; ".join(plain(line) for line in lines)
    )
    resets = [f"{pid}: {info.resets[mode]}" for pid, info in view.since.items() if mode in info.resets]
    if resets:
        st.warning(plain("; ".join(resets)))
    return True


def side_by_side(view: data.SquadView, mode: str) -> None:
    o = view.overall.assign(player=view.overall["player_id"])
    shown = season_label(view.season) if view.season is not None else "lifetime"
    st.subheader(f"Side by side ({GAMEMODES[mode].lower()}, {plain(shown)})", anchor=False)
    table = pd.DataFrame(
        {
            "Player": o["player"],
            "Games": o["games_played"].map("{:,}".format),
            "W-L": o["games_won"].map("{:,}".format) + "-" + o["games_lost"].map("{:,}".format),
            "Winrate (%)": o["winrate"].map(lambda w: "no games" if w is None or pd.isna(w) else f"{w:.2f}"),
            "KDA": o["kda"].map(lambda k: "-" if k is None or pd.isna(k) else f"{k:.2f}"),
            "Time played (h)": o["hours"].map("{:,.1f}".format),
            "Eliminations per 10 min": o["avg_eliminations"].map("{:.2f}".format),
            "Deaths per 10 min": o["avg_deaths"].map("{:.2f}".format),
            "Damage per 10 min": o["avg_damage"].map("{:,.0f}".format),
            "Healing per 10 min": o["avg_healing"].map("{:,.0f}".format),
        }
    )
    st.table(table.set_index("Player"))
    cols = st.columns(3)
    cols[0].altair_chart(charts.squad_bars(o, "winrate", "Winrate (%)"), width="stretch")
    cols[1].altair_chart(charts.squad_bars(o, "kda", "KDA"), width="stretch")
    cols[2].altair_chart(charts.squad_bars(o, "avg_damage", "Damage per 10 min"), width="stretch")
    if not view.heroes.empty:
        pools = view.heroes.assign(player=view.heroes["player_id"])
        pools = pools.sort_values("hours", ascending=False).groupby("player").head(8)
        st.altair_chart(charts.hero_pools(pools), width="stretch")
        st.caption("Each player's 8 most played heroes; the same hero has the same colour for everyone.")


def window(view: data.SquadView, window_name: str) -> None:
    st.subheader("Sessions in the window", anchor=False)
    s = view.sessions
    if s.empty or view.window_end is None:
        st.info("No play sessions for these players: sessions need two fetches with new games in between.")
        return
    st.caption(
        f"{window_name}: sessions detected up to {when(view.window_end)} (a session is detected when a fetch finds "
        "new games; Blizzard's own update time is in the last column)"
    )
    totals = s.groupby("player_id")[["games", "wins", "losses", "time_played"]].sum().reset_index()
    totals["winrate"] = (100 * totals["wins"] / totals["games"].where(totals["games"] > 0)).round(1)
    totals = totals.sort_values(["wins", "winrate"], ascending=False).reset_index(drop=True)
    most = totals[totals["wins"] == totals["wins"].iloc[0]]
    names = " and ".join(plain(p) for p in most["player_id"])
    if len(most) == 1:
        st.success(f"Most wins: {names} ({most['wins'].iloc[0]} won, {most['losses'].iloc[0]} lost)")
    else:
        st.success(f"Tied on wins: {names} ({most['wins'].iloc[0]} won each)")
    st.table(
        pd.DataFrame(
            {
                "Player": totals["player_id"],
                "Games": totals["games"],
                "W-L": totals["wins"].astype(str) + "-" + totals["losses"].astype(str),
                "Winrate (%)": totals["winrate"].map(lambda w: "-" if pd.isna(w) else f"{w:.1f}"),
                "Time played (h)": (totals["time_played"] / 3600).map("{:.2f}".format),
            }
        ).set_index("Player")
    )
    st.dataframe(
        pd.DataFrame(
            {
                "Player": s["player_id"],
                "Detected (UTC)": s["fetched_at"].map(when),
                "Games": s["games"],
                "W-L": s["wins"].astype(str) + "-" + s["losses"].astype(str),
                "Winrate (%)": s["winrate"].round(1),
                "Heroes (most time first)": s["heroes"].str.replace(",", ", "),
                "Blizzard updated (UTC)": s["ended_at"].map(when),
            }
        ),
        hide_index=True,
        width="stretch",
    )
