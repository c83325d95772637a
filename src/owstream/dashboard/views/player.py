"""Player page: type a BattleTag, fetch it through Kafka, see how the player plays (``/player?player=...``)."""

from __future__ import annotations

import io

import streamlit as st

from owstream.dashboard import access, charts, data, fetching, layout, nav, rows, state
from owstream.dashboard.layout import plain
from owstream.dashboard.views import versus
from owstream.domain import format as fmt
from owstream.domain.heroes import hero_portrait, role_name
from owstream.domain.vocabulary import BOTH, GAMEMODE_NAMES, platform_label, platform_name, rank_text
from owstream.errors import InvalidBattleTag

BOX_KEY = "player_box"
BOX_FOR = "_player_box_for"  # the URL player the box was last filled from
STORED_SHOWN = 24


def render() -> None:
    lookup(state.player())
    asked = state.player()  # a Fetch just pressed names the player
    if fetching.in_flight():
        fetching.progress()  # ticks only while a request is in flight
    notice = st.session_state.get(fetching.NOTICE_KEY)
    if asked is None:
        fetching.show_notice()
        stored_players()
        return
    resolved = data.resolve(asked)
    if resolved.player_id is None:
        st.error(f"Invalid BattleTag: {plain(resolved.problem)}")
        return
    if notice is not None:
        fetching.show_notice()
    if resolved.history is None:
        if notice is None and not fetching.in_flight():  # one notice: the fetch's own outcome says the rest
            st.info(f"{plain(resolved.player_id)} is not in the store yet: press Fetch to ask OverFast.")
        return
    state.remember_player(resolved.history)
    show_player(resolved.history)


def lookup(asked: str | None) -> None:
    """The BattleTag box and its Fetch button; the box follows the URL's player."""
    if st.session_state.get(BOX_FOR) != asked:
        st.session_state[BOX_FOR] = asked
        st.session_state[BOX_KEY] = asked or ""
    with st.form("fetch", border=False, enter_to_submit=True):
        left, right = st.columns([5, 1], vertical_alignment="bottom")
        text = left.text_input(
            "BattleTag", key=BOX_KEY, placeholder="TeKrop#2217",
            help="Name#1234, Name-1234, or Blizzard's player id (hex|hex)",
        )  # fmt: skip
        submitted = right.form_submit_button("Fetch", type="primary", width="stretch")
    if submitted:
        fetch(text)


def fetch(text: str) -> None:
    from owstream.domain.battletag import parse_player

    fetching.stop_tracking()
    st.session_state.pop(fetching.NOTICE_KEY, None)
    try:
        player_id = parse_player(text).player_id
    except InvalidBattleTag as exc:
        st.session_state[fetching.NOTICE_KEY] = fetching.Notice("error", f"Invalid BattleTag: {plain(exc)}")
        return
    if state.param("player") != player_id:
        state.set_param("platform", None)  # another player: their own default platform
    state.set_param("player", player_id)
    st.session_state[BOX_FOR] = player_id
    fetching.start_fetch(player_id)


def stored_players() -> None:
    """With no player chosen yet: the players already in the store, one click away (tracked first)."""
    choices = sorted(data.players(), key=lambda c: (not c.tracked, c.player_id.lower()))
    if not choices:
        st.caption("Type a BattleTag (Name#1234) and press Fetch: the request travels through Kafka to OverFast.")
        return
    st.caption("Or open a player already in the store (★ on the watchlist):")
    with st.container(horizontal=True, gap="small"):
        for choice in choices[:STORED_SHOWN]:
            nav.link("player", layout.player_label(choice), {"player": choice.player_id})
    if len(choices) > STORED_SHOWN:
        st.caption(f"…and {fmt.plural(len(choices) - STORED_SHOWN, 'more player')}: type a BattleTag above.")


def show_player(player_id: str) -> None:
    head = st.container()
    where, mode, season = layout.controls(data.platforms(player_id))
    view = data.player(player_id, mode, season.query if season else "lifetime", where)
    if view is None:
        return
    with head:
        header(view)
        freshness(player_id, view)
    if view.profile["private"] and not view.gamemodes:
        st.warning("This career profile is private: no stats to show. " + plain(fmt_private()))
        return
    if season is not None and season.number is not None and not season_note(view, season, mode):
        return
    overall, role_blocks, hero_blocks = rows.split(view.stats)
    on = f" on {platform_label(view.platform)}" if view.platform else ""
    if overall is None:
        st.info(f"No {GAMEMODE_NAMES[mode].lower()} stats stored for this player{on}.")
        return
    if season is not None and season.number is not None and not overall["games_played"] and not overall["time_played"]:
        st.info(f"No {GAMEMODE_NAMES[mode].lower()} games{on} in {plain(season.label)}.")
        return
    when = season.label if season is not None and season.number is not None else "lifetime"
    st.subheader(f"{GAMEMODE_NAMES[mode]}{on}, {plain(when)}", anchor=False)
    if view.platform == BOTH:
        st.caption(f"{platform_label(BOTH)}: OverFast's total of both platforms, never added to one platform's.")
    layout.metrics(rows.headline(overall))
    layout.metrics(rows.per10_headline(overall))
    st.caption("Per 10 minutes of play: OverFast's averages are per 10 minutes, not per game.")
    heroes = rows.named(hero_blocks, data.heroes(), data.hero_roles())
    if heroes:
        hero_section(heroes, mode)
    if role_blocks:
        st.subheader("Roles", anchor=False)
        layout.table(rows.role_table(role_blocks), index="Role")
        layout.table(rows.per10_table(role_blocks), index="Per 10 minutes")
    if mode == "competitive" and heroes:
        versus.render(view, heroes)


def fmt_private() -> str:
    from owstream.domain.outcomes import PRIVATE_HELP

    return f"To see stats, {PRIVATE_HELP}."


def header(view: data.PlayerRows) -> None:
    profile = view.profile
    with st.container(horizontal=True, vertical_alignment="center", gap="medium"):
        if profile["avatar"]:
            st.image(profile["avatar"], width=72)
        with st.container(width="stretch"):
            st.header(plain(profile["name"] or profile["player_id"]), anchor=False)
            details = [plain(profile["player_id"])]
            if profile["title"]:
                details.append(plain(profile["title"]))
            if profile["endorsement_level"] is not None:
                details.append(f"endorsement level {profile['endorsement_level']}")
            if profile["private"]:
                details.append("private profile")
            st.caption(" · ".join(details))
    ranks = [r for r in view.ranks if view.platform in (None, BOTH) or r["platform"] == view.platform]
    on = f" on {platform_name(view.platform)}" if view.platform not in (None, BOTH) else ""
    if not ranks:
        st.caption(f"Competitive rank{on}: unranked this season.")
        return
    with st.container(horizontal=True, gap="medium"):
        for rank in ranks:
            with st.container(horizontal=True, vertical_alignment="center", gap="small", width="content"):
                if rank["rank_icon"]:
                    st.image(rank["rank_icon"], width=36)
                season = f", season {rank['season']}" if rank["season"] else ""
                st.caption(
                    f"{role_name(rank['role'])}: **{rank_text(rank['division'], rank['tier'])}**  \n"
                    f"{platform_name(rank['platform'])}{season}"
                )


def freshness(player_id: str, view: data.PlayerRows) -> None:
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        st.caption(
            f"Blizzard last updated: {layout.ago(view.last_updated_at)} · "
            f"fetched {layout.since(view.profile['last_seen'])}",
            width="stretch",
        )
        owner = access.is_owner()
        if st.button(
            "Refresh", key="refresh",
            help="Fetch again now, past OverFast's 10-minute cache" if owner
            else "Fetch again (a player fetched in the last 10 minutes is answered from the store: OverFast caches it)",
        ):  # fmt: skip
            fetching.start_fetch(player_id, force=owner)
            st.rerun()
        with st.popover("Download", help="Every snapshot of this player (both gamemodes), one row per snapshot"):
            st.download_button("CSV", lambda: _download(player_id, "csv"), f"{player_id}.csv", "text/csv",
                               on_click="ignore")  # fmt: skip
            st.download_button("Parquet", lambda: _download(player_id, "parquet"), f"{player_id}.parquet",
                               "application/vnd.apache.parquet", on_click="ignore")  # fmt: skip


def _download(player_id: str, kind: str) -> bytes:
    import pandas as pd

    columns, found = data.snapshot_rows(player_id)
    frame = pd.DataFrame(found, columns=columns)
    if kind == "csv":
        return str(frame.to_csv(index=False)).encode()
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return bytes(buffer.getvalue())


def season_note(view: data.PlayerRows, season: layout.Season, mode: str) -> bool:
    """What the season's numbers count, in words; False (and says so) when the player has none stored."""
    info = view.season
    if info is None:
        layout.no_season(season, view.platform, view.seasons)
        return False
    until = f" {info.until}." if info.until else ""
    st.caption(plain(f"{info.label}: counted {info.since}."), help=plain(f"{info.boundary}.{until}"))
    if mode in info.resets:
        st.warning(plain(f"{GAMEMODE_NAMES[mode]}: {info.resets[mode]}."))
    return True


def hero_section(heroes: list[rows.Row], mode: str) -> None:
    st.subheader(f"Heroes ({len(heroes)})", anchor=False)
    top_three(heroes)
    every = len(heroes) <= charts.TOP or state.flag(f"Show all {len(heroes)} heroes", key="all")
    shown = heroes if every else heroes[: charts.TOP]
    if not every:
        st.caption(f"The {charts.TOP} heroes with the most time played.")
    left, right = st.columns(2, gap="medium")
    with left:
        charts.show(rows.time_chart(shown), key="chart_time")
    with right:
        charts.show(rows.winrate_chart(shown), key="chart_winrate")
    stat = state.choice(
        st.segmented_control, "Per 10 minutes", list(rows.PER10), key="stat", default="avg_eliminations",
        format_func=rows.PER10_NAMES.__getitem__,
    )  # fmt: skip
    charts.show(rows.per10_chart(shown, stat), key="chart_per10")
    # drawn only when asked for: a table of every hero is hundreds of cells for the browser to lay out
    if state.flag(f"Every hero's numbers ({GAMEMODE_NAMES[mode].lower()}, a table)", key="table"):
        layout.table(rows.hero_table(heroes), index="Hero")


def top_three(heroes: list[rows.Row]) -> None:
    """The three most played heroes, with their portraits."""
    catalogue = data.heroes()
    with st.container(horizontal=True, gap="small"):
        for hero in heroes[:3]:
            with st.container(border=True, horizontal=True, vertical_alignment="center", gap="small", width=290,
                              wrap=False):  # fmt: skip
                portrait = hero_portrait(hero["key"], catalogue)
                if portrait:
                    st.image(portrait, width=48)
                st.markdown(
                    f"**{plain(hero['name'])}**  \n{plain(hero['role'])} · {fmt.hours(hero['time_played'])} · "
                    f"{fmt.percent(hero['winrate'])} won"
                )
