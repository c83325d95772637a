"""Player page: type a BattleTag, fetch it through Kafka, see how the player plays."""

from __future__ import annotations

import io

import pandas as pd
import streamlit as st

from owstream.dashboard import charts, data, fetching
from owstream.dashboard.layout import GAMEMODES, ago, gamemode_switch, hours, plain, season_switch
from owstream.dashboard.views import versus

TAG_KEY = "player_battletag"
TOP_HEROES = 15
PER10 = {
    "avg_eliminations": "Eliminations per 10 min",
    "avg_assists": "Assists per 10 min",
    "avg_deaths": "Deaths per 10 min",
    "avg_damage": "Damage per 10 min",
    "avg_healing": "Healing per 10 min",
}


def render() -> None:
    st.title("Player")
    player_id = st.query_params.get("player")
    if TAG_KEY not in st.session_state:
        st.session_state[TAG_KEY] = player_id or ""
    with st.form("fetch", border=False, enter_to_submit=True):
        left, right = st.columns([5, 1], vertical_alignment="bottom")
        text = left.text_input(
            "BattleTag",
            key=TAG_KEY,
            placeholder="TeKrop#2217",
            help="Name#1234, Name-1234, or Blizzard's player id (hex|hex)",
        )
        submitted = right.form_submit_button("Fetch", type="primary", width="stretch")
    if submitted:
        player_id = fetching.start_fetch(text) or player_id
    if fetching.TRACKER_KEY in st.session_state:
        fetching.progress()  # ticks only while a request is in flight
    fetching.show_notice()
    if player_id:
        show_player(player_id)
    else:
        stored_players()


def stored_players() -> None:
    """With no player chosen yet: the players already in the store, one click away (tracked first)."""
    choices = sorted(data.players(), key=lambda c: (not c.tracked, c.player_id.lower()))[:24]
    if not choices:
        st.caption("Type a BattleTag (Name#1234) and press Fetch: the request travels through Kafka to OverFast.")
        return
    st.caption("Or open a player already in the store (★ tracked):")
    cols = st.columns(4)
    for i, choice in enumerate(choices):
        label = f"{choice.player_id} ★" if choice.tracked else choice.player_id
        if cols[i % 4].button(label, key=f"open_{choice.player_id}", width="stretch"):
            st.query_params["player"] = choice.player_id
            st.session_state.pop(TAG_KEY, None)  # the box then starts from the query parameter
            st.rerun()


def show_player(player_id: str) -> None:
    mode = st.session_state.get("player_gamemode", "quickplay")
    season = st.session_state.get("player_season", "lifetime")
    view = data.player(player_id, mode, season)
    if view is None:
        if fetching.TRACKER_KEY not in st.session_state:
            st.info(f"{plain(player_id)} is not in the store yet: press Fetch.")
        return
    header(view)
    freshness(player_id, view)
    left, right = st.columns([2, 3])
    with left:
        mode = gamemode_switch(list(GAMEMODES), key="player_gamemode")
    with right:
        season = season_switch(view.seasons, key="player_season")
    if view.profile["private"] and not view.gamemodes:
        st.warning("This career profile is private: no stats to show.")
        return
    if season != "lifetime" and not season_note(view, mode):
        return
    if view.overall is None:
        st.info(f"No {GAMEMODES[mode].lower()} stats for this player.")
        return
    if view.season is not None and not view.overall["games_played"] and not view.overall["time_played"]:
        st.info(f"No {GAMEMODES[mode].lower()} games in {plain(view.season.label)}.")
        return
    headline(view, mode)
    roles(view)
    meta = versus.render(view) if mode == "competitive" and not view.heroes.empty else None
    heroes(view, mode, meta)


def header(view: data.PlayerView) -> None:
    profile = view.profile
    avatar, text = st.columns([1, 9], vertical_alignment="center")
    if profile["avatar"]:
        avatar.image(profile["avatar"], width=88)
    text.header(plain(profile["name"] or profile["player_id"]), anchor=False)
    details = [plain(profile["player_id"])]
    if profile["title"]:
        details.append(f"title: {plain(profile['title'])}")
    if profile["endorsement_level"] is not None:
        details.append(f"endorsement level {profile['endorsement_level']}")
    if profile["private"]:
        details.append("private profile")
    text.caption(" · ".join(details))
    if view.ranks.empty:
        st.caption("Competitive rank: unranked this season.")
        return
    cols = st.columns(min(len(view.ranks), 6))
    for col, rank in zip(cols, view.ranks.itertuples(), strict=False):
        if rank.rank_icon:
            col.image(rank.rank_icon, width=48)
        tier = f" {rank.tier}" if rank.tier is not None else ""
        season = f", season {rank.season}" if rank.season is not None else ""
        col.caption(f"{rank.role.title()}: **{str(rank.division).title()}{tier}** ({rank.platform.upper()}{season})")


def freshness(player_id: str, view: data.PlayerView) -> None:
    info, refresh, csv, parquet = st.columns([6, 1.3, 1.3, 1.3], vertical_alignment="center")
    info.caption(f"Blizzard last updated: {ago(view.last_updated_at)} · fetched: {ago(view.profile['last_seen'])}")
    if refresh.button("Refresh", help="Fetch this player again now", width="stretch"):
        fetching.start_fetch(player_id, force=True)
        st.rerun()
    frame = data.history_download(player_id)
    csv.download_button(
        "CSV", frame.to_csv(index=False), f"{player_id}.csv", "text/csv", width="stretch",
        help="Every snapshot of this player (both gamemodes), one row per snapshot and gamemode",
    )  # fmt: skip
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    parquet.download_button(
        "Parquet", buffer.getvalue(), f"{player_id}.parquet", "application/vnd.apache.parquet",
        width="stretch",
    )  # fmt: skip


def season_note(view: data.PlayerView, mode: str) -> bool:
    """What the season's numbers count, in words; False (and says so) when the season is not stored."""
    info = view.season
    if info is None:
        st.info(
            "No such season stored for this player: a snapshot's season is the competitive season OverFast "
            "reports (or, when it reports none, the newest one other stored players report)."
        )
        return False
    until = f" {info.until}." if info.until else ""
    st.caption(plain(f"{info.label}: numbers {info.since}; {info.boundary}.{until}"))
    if mode in info.resets:
        st.warning(plain(f"{GAMEMODES[mode]}: {info.resets[mode]}."))
    return True


def headline(view: data.PlayerView, mode: str) -> None:
    o = view.overall
    assert o is not None
    what = f", {view.season.label}" if view.season is not None else ""
    st.subheader(f"{GAMEMODES[mode]}{plain(what)}: all heroes", anchor=False)
    cols = st.columns(6)
    cols[0].metric("Games played", f"{int(o['games_played']):,}")
    cols[1].metric("Games won", f"{int(o['games_won']):,}")
    cols[2].metric("Games lost", f"{int(o['games_lost']):,}")
    cols[3].metric("Winrate", "no games" if _missing(o["winrate"]) else f"{o['winrate']:.2f} %")
    cols[4].metric("KDA", "-" if _missing(o["kda"]) else f"{o['kda']:.2f}")
    cols[5].metric("Time played", hours(o["time_played"]))
    st.caption("Averages per 10 minutes of play (OverFast's averages are per 10 min, not per game):")
    per10 = st.columns(len(PER10))
    for col, (name, label) in zip(per10, PER10.items(), strict=True):
        value = o[name]
        col.metric(label, "-" if value is None or pd.isna(value) else f"{value:,.2f}")


def _missing(value: object) -> bool:
    """No number: no games (a season's winrate), nothing done (its KDA)."""
    return value is None or bool(pd.isna(value))


def _per10(value: object) -> str:
    return "-" if value is None or pd.isna(value) else f"{value:,.2f}"


def roles(view: data.PlayerView) -> None:
    if view.roles.empty:
        return
    st.subheader("Roles", anchor=False)
    r = view.roles
    table = pd.DataFrame(
        {
            "Role": r["key"].str.title(),
            "Games": r["games_played"].map("{:,}".format),
            "Won": r["games_won"].map("{:,}".format),
            "Lost": r["games_lost"].map("{:,}".format),
            "Winrate (%)": r["winrate"].map(lambda w: "no games" if _missing(w) else f"{w:.2f}"),
            "KDA": r["kda"].map(lambda k: "-" if _missing(k) else f"{k:.2f}"),
            "Time played (h)": (r["time_played"] / 3600).map("{:,.1f}".format),
            **{label: r[name].map(_per10) for name, label in PER10.items() if name != "avg_assists"},
        }
    )
    st.table(table.set_index("Role"))


def heroes(view: data.PlayerView, mode: str, meta: pd.DataFrame | None = None) -> None:
    h = view.heroes
    if h.empty:
        return
    st.subheader(f"Heroes ({GAMEMODES[mode].lower()})", anchor=False)
    top = h.head(TOP_HEROES).assign(games_label=h["games_played"].map(lambda n: f"{n:,} games"))
    if len(h) > TOP_HEROES:
        st.caption(f"Charts: the {TOP_HEROES} heroes with the most time played (all {len(h)} in the table below).")
    left, right = st.columns(2)
    left.altair_chart(charts.hero_bars(top, "hours", "Time played (hours)"), width="stretch")
    right.altair_chart(charts.winrate_bars(top), width="stretch")
    st.altair_chart(charts.per10_bars(top), width="content")
    with st.expander("Hero table"):
        table = h[["key", "games_played", "games_won", "games_lost", "winrate", "kda", "hours", *PER10]]
        if meta is not None:  # competitive: the hero's numbers at the player's rank, next to the player's winrate
            table = table.merge(meta[["key", *versus.COLUMNS]], on="key", how="left")
            table = table[["key", "games_played", "games_won", "games_lost", "winrate", *versus.COLUMNS, "kda", "hours",
                           *PER10]]  # fmt: skip
        st.dataframe(
            table.rename(
                columns={"key": "Hero", "hours": "Time played (h)", "winrate": "Winrate (%)", **PER10, **versus.COLUMNS}
            ),
            hide_index=True,
        )
