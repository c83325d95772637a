"""History page: a player's numbers over the tracked period (one point per fetch that found new games) and
their play sessions on a timeline (``/history?player=...``)."""

from __future__ import annotations

import streamlit as st

from owstream.dashboard import charts, data, layout, nav, palette, rows, state
from owstream.dashboard.layout import plain, when
from owstream.domain import format as fmt
from owstream.domain.heroes import hero_name, role_name
from owstream.domain.vocabulary import GAMEMODE_NAMES, platform_label, platform_name, rank_score, rank_text

PICK_KEY = "history_pick"
SESSIONS_OPENABLE = 10
SESSIONS_LISTED = 20
ROLE_OFFSET = {"tank": 0.14, "damage": 0.0, "support": -0.14, "open": 0.28}  # same rank, lines apart


def render() -> None:
    st.title("History")
    player_id = pick()
    if player_id is None:
        return
    where, mode, season = layout.controls(data.platforms(player_id))
    view = data.history(player_id, mode, season.query if season else "lifetime", where)
    shown = layout.player_query(player_id, where)  # the same platform there
    nav.link("player", f"{player_id}'s numbers on the Player page", shown, icon=":material/person:")
    if season is not None and season.number is not None and view.season is None:
        layout.no_season(season, view.platform, view.seasons)
        return
    summary(view, mode)
    if not view.timeline:
        on = f" on {platform_label(view.platform)}" if view.platform else ""
        st.info(f"No {GAMEMODE_NAMES[mode].lower()} snapshots for this player{on} yet.")
        return
    sessions_timeline(view)
    lines(view)
    sessions(view)


def pick() -> str | None:
    """The player: the URL's (resolved to its stored history), chosen from the stored players."""
    asked = state.player()
    resolved = data.resolve(asked) if asked else None
    ids = data.ids(data.players())
    current = resolved.history if resolved is not None else None
    if st.session_state.get(PICK_KEY) != current:
        st.session_state[PICK_KEY] = current

    def changed() -> None:
        state.set_param("player", st.session_state.get(PICK_KEY))
        state.set_param("platform", None)  # another player: their own default platform

    labels = {c.player_id: layout.player_label(c) for c in data.players()}
    st.selectbox(
        "Player", ids, key=PICK_KEY, on_change=changed, format_func=lambda p: labels.get(p, p),
        placeholder="Choose a stored player", index=None,
    )  # fmt: skip
    if asked is None:
        if not ids:
            st.info("No player in the store yet: fetch one on the Player page.")
        return None
    if current is None:
        layout.not_found(asked)
        return None
    state.remember_player(current)
    return current


def summary(view: data.HistoryRows, mode: str) -> None:
    info = view.season
    first = view.timeline[0]["fetched_at"] if view.timeline else None
    if info is not None:
        where = f"{info.label}, counted {info.since}"
    else:
        where = f"Since tracking began ({when(first)})" if first is not None else "Since tracking began"
    if view.session_count:
        found = f"{fmt.plural(view.session_games, 'game')} in {fmt.plural(view.session_count, 'session')}"
    else:
        found = "no play session found yet (a session is the games between two fetches)"
    on = f" · {platform_label(view.platform)}" if view.platform else ""
    st.caption(plain(f"{GAMEMODE_NAMES[mode]}{on} · {where}: {found}."))
    if info is not None and mode in info.resets:
        st.warning(plain(f"{GAMEMODE_NAMES[mode]}: {info.resets[mode]}."))


def sessions_timeline(view: data.HistoryRows) -> None:
    if not view.sessions:
        return
    catalogue = data.heroes()
    out = []
    for s in view.sessions:
        common = {
            "t": charts.iso(s["fetched_at"]),
            "when": when(s["fetched_at"]),
            "games": fmt.plural(s["games"], "game"),
            "wl": fmt.won_lost(s["wins"], s["losses"]),
            "heroes": rows.hero_list(s["heroes"], catalogue),
        }
        out.append({**common, "result": "Won", "n": s["wins"], "order": 0})
        out.append({**common, "result": "Lost", "n": s["losses"], "order": 1})
    times = [t["fetched_at"] for t in view.timeline] + [s["fetched_at"] for s in view.sessions]
    charts.show(charts.session_bars(out, times=times, title="Play sessions (games won and lost)"), key="chart_sessions")


def lines(view: data.HistoryRows) -> None:
    t = view.timeline
    if len(t) == 1:
        st.info("One snapshot so far: the lines start with the next fetch that finds new games.")
    times = [r["fetched_at"] for r in t]
    points = [
        {"t": charts.iso(r["fetched_at"]), "games": r["games_played"], "winrate": r["winrate"], "kda": r["kda"],
         "when": when(r["fetched_at"]), "games_t": fmt.count(r["games_played"]), "winrate_t": fmt.percent(r["winrate"]),
         "kda_t": fmt.stat("kda", r["kda"])}
        for r in t
    ]  # fmt: skip
    cols = st.columns(3, gap="medium")
    for col, (value, title, axis, label, num) in zip(
        cols,
        (("games", "Games played (total)", "Games", "games_t", ",.0f"),
         ("winrate", "Winrate", "Winrate (%)", "winrate_t", ".1f"),
         ("kda", "KDA", "KDA", "kda_t", ".2f")),
        strict=True,
    ):  # fmt: skip
        with col:
            spec = charts.over_time(
                points, value=value, title=title, y_title=axis, times=times, fmt=num,
                tooltip=(("when", "Fetched"), (label, title)),
            )  # fmt: skip
            charts.show(spec, key=f"chart_{value}")
    ranks(view, times)


def ranks(view: data.HistoryRows, times: list[float]) -> None:
    found = [r for r in view.ranks if rank_score(r["division"], r["tier"]) is not None]
    if not found:
        return
    platforms = {r["platform"] for r in found}
    out = []
    for r in found:
        score = rank_score(r["division"], r["tier"])
        assert score is not None
        out.append({
            "t": charts.iso(r["fetched_at"]), "score": score + ROLE_OFFSET.get(r["role"], 0.0),
            "role": role_name(r["role"]), "platform": r["platform"], "rank": rank_text(r["division"], r["tier"]),
            "when": when(r["fetched_at"]), "where": platform_name(r["platform"]),
        })  # fmt: skip
    spec = charts.over_time(
        out, value="score", title="Competitive rank per role", y_title="Rank", times=times,
        color="role", scale=palette.role_scale(r["role"] for r in found),
        dash="platform" if len(platforms) > 1 else None, y_axis=charts.rank_axis([o["score"] for o in out]),
        tooltip=(("when", "Fetched"), ("role", "Role"), ("where", "Platform"), ("rank", "Rank")),
    )  # fmt: skip
    charts.show(spec, key="chart_ranks")


def sessions(view: data.HistoryRows) -> None:
    st.subheader("Play sessions", anchor=False)
    if not view.sessions:
        st.info("No play session yet: a session is the difference between two snapshots, so it needs two fetches.")
        return
    catalogue = data.heroes()
    listed = view.sessions if state.param("sessions") == "all" else view.sessions[:SESSIONS_LISTED]
    resets = any(s["is_reset"] for s in listed)
    layout.table(
        [
            {
                "Found": layout.short(s["fetched_at"]),
                "Games": fmt.count(s["games"]),
                "W – L": f"{fmt.count(s['wins'])} – {fmt.count(s['losses'])}",
                "Winrate": fmt.percent(s["winrate"]),
                "Time played": fmt.minutes(s["time_played"]),
                "Heroes": rows.hero_list(s["heroes"], catalogue),
                "Rank change": s["rank_change"] or "–",
                **({"Counters reset": "yes" if s["is_reset"] else ""} if resets else {}),
            }
            for s in listed
        ]
    )
    if len(view.sessions) > len(listed):
        st.caption(f"The {len(listed)} newest of {fmt.plural(len(view.sessions), 'session')}.")
        nav.link("history", "Every session", {**st.query_params.to_dict(), "sessions": "all"})
    shown = view.sessions[:SESSIONS_OPENABLE]
    labels = {
        int(s["to_snapshot_id"]): f"{layout.short(s['fetched_at'])}: {fmt.plural(s['games'], 'game')}, "
        f"{fmt.won_lost(s['wins'], s['losses'])}, {fmt.minutes(s['time_played'])}"
        for s in shown
    }
    picked = st.selectbox(
        f"Each hero's part of a session (the {fmt.plural(len(shown), 'newest session')})", list(labels),
        format_func=labels.__getitem__, key="history_session",
    )  # fmt: skip
    session = next((s for s in shown if int(s["to_snapshot_id"]) == picked), None)
    if session is None:
        return
    if session["is_reset"]:
        st.warning("Counters went down (season reset or Blizzard correction): not real games.")
    parts = [p for p in view.session_heroes if p["to_snapshot_id"] == session["to_snapshot_id"]]
    layout.table(
        [
            {
                "Hero": hero_name(p["hero"], catalogue),
                "Games": fmt.count(p["games"]),
                "W – L": f"{fmt.count(p['wins'])} – {fmt.count(p['losses'])}",
                "Time played": fmt.minutes(p["time_played"]),
                "Winrate": fmt.percent(p["winrate"]),
                "KDA": fmt.stat("kda", p["kda"]),
            }
            for p in parts
        ],
        index="Hero",
    )
