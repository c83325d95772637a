"""Squad page: friends side by side, who carried tonight, their hero pools and sessions in one window
(``/squad?players=A-1234,B-5678``: a squad is shared by its URL)."""

from __future__ import annotations

import re
from typing import Any

import streamlit as st

from owstream.dashboard import charts, data, fetching, layout, nav, palette, rows, state
from owstream.dashboard.layout import plain, when
from owstream.domain import format as fmt
from owstream.domain.battletag import parse_player
from owstream.domain.heroes import hero_name, hero_role, role_name
from owstream.domain.outcomes import PRIVATE_HELP, duration
from owstream.domain.vocabulary import (
    BOTH,
    GAMEMODE_NAMES,
    PLATFORMS,
    SCOPE_HERO,
    SCOPE_OVERALL,
    platform_label,
    platform_name,
)
from owstream.errors import InvalidBattleTag
from owstream.store.lookups import Member

MAX_MEMBERS = 8
EACH = "each"  # the platform choice: each member on the platform they played most
POOL_HEROES = 6
SESSIONS_LISTED = 20
WINDOWS: dict[str, tuple[str, float | None]] = {
    "tonight": ("Tonight (12 h before the newest session)", 12.0),
    "day": ("Last 24 h of play", 24.0),
    "week": ("Last 7 days of play", 24.0 * 7),
    "all": ("All sessions", None),
}
_SPLIT = re.compile(r"[\s,;]+")


def render() -> None:
    st.title("Squad")
    members = squad()
    if not members:
        return
    found = data.members(tuple(members))
    status(found)
    stored = [m.player_id for m in found if m.stored]
    if not stored:
        return
    with st.container(horizontal=True, gap="medium"):
        where = platform_choice(stored)
        mode = layout.gamemode()
        season = layout.season()
        window = state.choice(
            st.selectbox, "Time window", list(WINDOWS), key="window", default="tonight",
            format_func=lambda w: WINDOWS[w][0], width=260,
        )  # fmt: skip
    view = data.squad(tuple(stored), mode, WINDOWS[window][1], season.query, where)
    if season.number is not None and not season_note(view, season):
        return
    order = {pid: i for i, pid in enumerate(stored)}
    overall = sorted(
        (r for r in view.stats if r["scope"] == SCOPE_OVERALL), key=lambda r: order.get(r["player_id"], 99)
    )
    without = [pid for pid in stored if pid not in {r["player_id"] for r in overall} and pid not in view.missing]
    if without:
        st.caption(plain(
            "No " + GAMEMODE_NAMES[mode].lower() + " stats: "
            + ", ".join(f"{pid} on {platform_name(view.platforms.get(pid))}" for pid in without)
        ))  # fmt: skip
    carried(view, WINDOWS[window][0])
    if not overall:
        st.info(f"None of these players has {GAMEMODE_NAMES[mode].lower()} stats{_on(where)}.")
        return
    side_by_side(overall, view, mode, season)
    pools([r for r in view.stats if r["scope"] == SCOPE_HERO], [r["player_id"] for r in overall])
    sessions(view)


def platform_choice(stored: list[str]) -> str | None:
    """Each member on the platform they played most (the default), or everyone on one platform; None: each."""
    theirs = {p for pid in stored for p in data.platforms(pid)}
    options = [EACH, *(p for p in PLATFORMS if p in theirs), *([BOTH] if BOTH in theirs else [])]
    chosen = state.choice(
        st.segmented_control, "Platform", options, key="platform", default=EACH,
        format_func=lambda p: "Each one's most played" if p == EACH else platform_label(p),
        help="Each member on the platform they played most (each row says which), or everyone on one platform.",
    )  # fmt: skip
    return None if chosen == EACH else chosen


def _on(platform: str | None) -> str:
    return f" on {platform_label(platform)}" if platform else ""


def squad() -> list[str]:
    """The members: the URL's ``players`` (or the first tracked players), edited in place; missing ones fetched."""
    members = state.list_param("players")
    if not members and "players" not in st.query_params:
        tracked = [c.player_id for c in data.players() if c.tracked] or data.ids(data.players())
        members = tracked[:4]
        state.set_list_param("players", members)
    stored = data.ids(data.players())
    options = list(dict.fromkeys([*members, *stored]))
    if st.session_state.get("squad_members") != members:
        st.session_state["squad_members"] = members

    def changed() -> None:
        picked = _expand([str(p) for p in st.session_state.get("squad_members") or []])[:MAX_MEMBERS]
        state.set_list_param("players", picked)
        added = [p for p in picked if p not in members and not _invalid(p)]
        new = [m.player_id for m in data.members(tuple(added)) if not m.stored and m.last_outcome is None]
        refused = fetching.send_requests(new)  # typed right here: fetched on demand
        if refused is not None:
            st.session_state[fetching.NOTICE_KEY] = refused

    st.multiselect(
        "Players", options, key="squad_members", on_change=changed, accept_new_options=True,
        max_selections=MAX_MEMBERS, placeholder="Type or paste BattleTags (Name#1234), or pick stored players",
        help=f"Up to {MAX_MEMBERS} players; the URL keeps them, so the squad can be shared",
    )  # fmt: skip
    if fetching.pending():
        fetching.follow_pending()  # ticks only while requests are in flight
    if not members:
        st.info("Add players above: type or paste their BattleTags.")
    return members


def _expand(picked: list[str]) -> list[str]:
    """Each entry split at spaces and commas (a pasted list), as player ids where they parse."""
    out: list[str] = []
    for entry in picked:
        for part in _SPLIT.split(entry):
            if not part:
                continue
            try:
                out.append(parse_player(part).player_id)
            except InvalidBattleTag:
                out.append(part)  # kept, and said invalid in the member list
    return list(dict.fromkeys(out))


def why(member: Member) -> str | None:
    """Why a member shows no numbers (None: it does)."""
    if member.player_id in fetching.pending():
        return "still fetching"
    if member.stored:
        return "private profile: " + PRIVATE_HELP if member.private else None
    if member.last_outcome == "not_found":
        retry = f"; OverFast checks again in {duration(member.retry_after)}" if member.retry_after else ""
        return f"unknown to OverFast: check the name's case and the number{retry}"
    if member.last_outcome == "upstream_error":
        return "OverFast was busy: not fetched yet"
    return "not fetched yet"


def status(found: list[Member]) -> None:
    """Each member that shows no numbers, with why; a button fetches those never fetched."""
    invalid = [m.player_id for m in found if _invalid(m.player_id)]
    if invalid:
        st.error("Not BattleTags: " + ", ".join(plain(p) for p in invalid) + " (a BattleTag looks like Name#1234).")
    missing = [m for m in found if not _invalid(m.player_id) and why(m) is not None]
    for member in missing:
        st.caption(f"**{plain(member.player_id)}**: {plain(why(member))}")
    fetchable = [m.player_id for m in missing if not m.stored and m.player_id not in fetching.pending()
                 and m.last_outcome != "not_found"]  # fmt: skip
    if fetchable and st.button(f"Fetch {fmt.plural(len(fetchable), 'missing player')}", key="fetch_missing"):
        refused = fetching.send_requests(fetchable)
        if refused is not None:
            st.session_state[fetching.NOTICE_KEY] = refused
        st.rerun()
    notice = st.session_state.pop(fetching.NOTICE_KEY, None)
    if notice is not None:
        getattr(st, notice.kind)(notice.text)


def _invalid(player_id: str) -> bool:
    try:
        parse_player(player_id)
    except InvalidBattleTag:
        return True
    return False


def season_note(view: data.SquadRows, season: layout.Season) -> bool:
    if not view.since:
        st.info(f"No snapshot of these players in {plain(season.label)}.")
        return False
    lines = [f"{pid}: counted {info.since}" for pid, info in view.since.items()]
    lines += [f"{pid}: no snapshot in {season.label}" for pid in view.missing]
    st.caption(plain("; ".join(lines)))
    return True


def _totals(view: data.SquadRows) -> list[dict[str, float | str]]:
    totals: dict[str, dict[str, float]] = {}
    for s in played(view):
        t = totals.setdefault(s["player_id"], {"games": 0, "wins": 0, "losses": 0, "time_played": 0})
        for name in t:
            t[name] += s[name]
    out: list[dict[str, float | str]] = [{"player": pid, **t} for pid, t in totals.items()]
    return sorted(out, key=lambda t: (-(float(t["wins"]) - float(t["losses"])), -float(t["wins"]), str(t["player"])))


def played(view: data.SquadRows) -> list[dict[str, Any]]:
    """The window's sessions with games (a counter reset is none)."""
    return [s for s in view.sessions if s["games"] > 0 and not s["is_reset"]]


def carried(view: data.SquadRows, window: str) -> None:
    """Who carried: the member with the best record in the window, and everyone's night at a glance."""
    totals = _totals(view)
    if not totals:
        st.info(f"No play session in the window ({window.lower()}): sessions need two fetches with games between.")
        return
    best = totals[0]
    st.success(
        f"Carried: **{plain(best['player'])}**, {fmt.won_lost(float(best['wins']), float(best['losses']))} "
        f"in {fmt.plural(float(best['games']), 'game')} ({window.lower()}, up to {when(view.window_end)})",
        icon=":material/trophy:",
    )
    layout.table(
        [
            {
                "Player": f"{t['player']} (carried)" if i == 0 else str(t["player"]),
                "Platform": platform_name(view.platforms.get(str(t["player"]))),
                "Won – lost": fmt.won_lost(float(t["wins"]), float(t["losses"])),
                "Winrate": fmt.percent(100 * float(t["wins"]) / float(t["games"]) if t["games"] else None),
                "Time played": fmt.minutes(float(t["time_played"])),
            }
            for i, t in enumerate(totals)
        ],
        index="Player",
    )


def side_by_side(overall: list[dict[str, Any]], view: data.SquadRows, mode: str, season: layout.Season) -> None:
    shown = season.label if season.number is not None else "lifetime"
    st.subheader(f"Side by side ({GAMEMODE_NAMES[mode].lower()}, {plain(shown.lower())})", anchor=False)
    layout.table(
        [
            {
                "Player": r["player_id"],
                "Platform": platform_name(r["platform"]),
                "Games": fmt.count(r["games_played"]),
                "W – L": f"{fmt.count(r['games_won'])} – {fmt.count(r['games_lost'])}",
                "Winrate": fmt.percent(r["winrate"]),
                "KDA": fmt.stat("kda", r["kda"]),
                "Time played": fmt.hours(r["time_played"]),
                "Damage / 10 min": fmt.stat("avg_damage", r["avg_damage"]),
                "Healing / 10 min": fmt.stat("avg_healing", r["avg_healing"]),
            }
            for r in overall
        ],
        index="Player",
    )
    if any(r["platform"] == BOTH for r in overall):
        st.caption(f"{platform_label(BOTH)}: OverFast's total of both platforms, never added to one platform's.")
    with st.container(horizontal=True, gap="small"):
        for r in overall:  # each to the platform shown here
            pid = str(r["player_id"])
            nav.link("player", pid, layout.player_query(pid, str(r["platform"])), icon=":material/person:")
    players = [str(r["player_id"]) for r in overall]
    scale = palette.categorical(players)
    cols = st.columns(3, gap="medium")
    for col, (name, title, axis, num, top) in zip(
        cols,
        (("winrate", "Winrate", "Winrate (%)", ".0f", 100.0), ("kda", "KDA", "KDA", ".1f", None),
         ("avg_damage", "Damage per 10 minutes", "Damage / 10 min", ",.0f", None)),
        strict=True,
    ):  # fmt: skip
        bars = [{"name": r["player_id"], "player": r["player_id"], name: r[name] or 0.0,
                 "label": fmt.stat(name, r[name])} for r in overall]  # fmt: skip
        with col:
            charts.show(
                charts.bars(bars, value=name, title=title, axis_title=axis, fmt=num, domain_max=top, color="player",
                            scale=scale, legend=False, tooltip=(("player", "Player"), ("label", title))),
                key=f"chart_squad_{name}",
            )  # fmt: skip


def pools(heroes: list[dict[str, Any]], players: list[str]) -> None:
    """Each player's most played heroes, stacked, coloured by role, named where wide enough."""
    if not heroes:
        return
    catalogue, roles = data.heroes(), data.hero_roles()
    out: list[dict[str, Any]] = []
    top_total = 0.0
    for pid in players:
        mine = sorted((h for h in heroes if h["player_id"] == pid), key=lambda h: -float(h["time_played"]))
        top_total = max(top_total, sum(float(h["time_played"]) for h in mine[:POOL_HEROES]) / 3600)
        for h in mine[:POOL_HEROES]:
            hours = float(h["time_played"]) / 3600
            role = hero_role(str(h["key"]), catalogue, roles)
            out.append({
                "category": pid, "part": hero_name(str(h["key"]), catalogue), "hours": hours, "color": role_name(role),
                "time": fmt.hours(float(h["time_played"])), "games": fmt.count(h["games_played"]),
                "winrate": fmt.percent(h["winrate"]),
            })  # fmt: skip
    for row in out:
        row["show"] = row["hours"] >= 0.16 * top_total
    scale = palette.role_scale(hero_role(str(h["key"]), catalogue, roles) for h in heroes)
    st.subheader("Hero pools", anchor=False)
    charts.show(
        charts.stacked(out, value="hours", title=f"Time played on each player's {POOL_HEROES} most played heroes",
                       axis_title="Hours", scale=scale, order=players,
                       tooltip=(("category", "Player"), ("part", "Hero"), ("color", "Role"), ("time", "Time played"),
                                ("games", "Games"), ("winrate", "Winrate"))),
        key="chart_pools",
    )  # fmt: skip


def sessions(view: data.SquadRows) -> None:
    st.subheader("Sessions in the window", anchor=False)
    found = played(view)
    if not found or view.window_end is None:
        st.info("No play sessions for these players: sessions need two fetches with new games in between.")
        return
    catalogue = data.heroes()
    players = list(dict.fromkeys(s["player_id"] for s in found))
    dots = [
        {"t": charts.iso(s["fetched_at"]), "player": s["player_id"], "games": s["games"], "when": when(s["fetched_at"]),
         "wl": fmt.won_lost(s["wins"], s["losses"]),
         "result": "More won" if s["wins"] > s["losses"] else ("Even" if s["wins"] == s["losses"] else "More lost"),
         "heroes": rows.hero_list(s["heroes"], catalogue)}
        for s in found
    ]  # fmt: skip
    times = [s["fetched_at"] for s in found]
    charts.show(charts.session_strip(dots, times=times, order=players, title="Each session, sized by its games"),
                key="chart_sessions_squad")  # fmt: skip
    layout.table(
        [
            {
                "Player": s["player_id"],
                "Platform": platform_name(s["platform"]),
                "Found": layout.short(s["fetched_at"]),
                "Games": fmt.count(s["games"]),
                "W – L": f"{fmt.count(s['wins'])} – {fmt.count(s['losses'])}",
                "Winrate": fmt.percent(s["winrate"]),
                "Heroes": rows.hero_list(s["heroes"], catalogue),
            }
            for s in found[:SESSIONS_LISTED]
        ]
    )
    if len(found) > SESSIONS_LISTED:
        st.caption(f"The {SESSIONS_LISTED} newest of {fmt.plural(len(found), 'session')}.")
