"""Watchlist page: the players the scheduler refreshes, when each was last fetched; add and remove."""

from __future__ import annotations

import streamlit as st

from owstream.dashboard import data
from owstream.dashboard.layout import ago, duration, plain, player_link
from owstream.domain.battletag import BattleTag
from owstream.errors import InvalidBattleTag

NOTICE_KEY = "watch_notice"


def render() -> None:
    st.title("Watchlist")
    interval = data.settings().refresh_interval
    st.caption(f"The scheduler fetches every player on this list every {duration(interval)}.")
    with st.form("watch_add", border=False, enter_to_submit=True):
        left, right = st.columns([5, 1], vertical_alignment="bottom")
        text = left.text_input("BattleTag to track", placeholder="TeKrop#2217", key="watch_tag")
        if right.form_submit_button("Add", type="primary", width="stretch"):
            add(text)
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice is not None:
        getattr(st, notice[0])(notice[1])
    rows = data.watchlist()
    if not rows:
        st.info("Nobody is tracked yet: add a BattleTag above.")
        return
    now = data.now()
    head = st.columns([3, 3, 3, 1.5, 1.5])
    for col, label in zip(head, ("Player", "Added", "Last refreshed", "Last outcome", ""), strict=True):
        col.markdown(f"**{label}**")
    for row in rows:
        cols = st.columns([3, 3, 3, 1.5, 1.5], vertical_alignment="center")
        name = f" ({plain(row.name)})" if row.name else ""
        cols[0].markdown(player_link(row.player_id) + name)
        cols[1].write(ago(row.added_at, now))
        cols[2].write(ago(row.last_fetched_at, now) if row.last_fetched_at else "not fetched yet")
        cols[3].write(row.last_outcome or "-")
        if cols[4].button("Remove", key=f"remove_{row.player_id}"):
            data.store().watch_remove(row.player_id)
            data.clear_caches()
            st.session_state[NOTICE_KEY] = ("info", f"{plain(row.player_id)} is no longer tracked.")
            st.rerun()


def add(text: str) -> None:
    try:
        tag = BattleTag.parse(text)
    except InvalidBattleTag as exc:
        st.session_state[NOTICE_KEY] = ("error", f"Invalid BattleTag: {plain(exc)}")
        return
    added = data.store().watch_add(tag.player_id, data.now())
    data.clear_caches()
    message = "is now tracked" if added else "was already tracked"
    st.session_state[NOTICE_KEY] = ("success" if added else "info", f"{plain(tag.player_id)} {message}.")
