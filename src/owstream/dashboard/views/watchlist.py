"""Watchlist page: the players the scheduler refreshes, when each was last fetched; add and remove; where
each player's alerts go (a webhook URL, shown masked: it is a secret)."""

from __future__ import annotations

import streamlit as st

from owstream.dashboard import data
from owstream.dashboard.layout import ago, duration, plain, player_link
from owstream.domain import alerts
from owstream.domain.battletag import parse_player
from owstream.errors import InvalidBattleTag
from owstream.services import webhooks

NOTICE_KEY = "watch_notice"
FORMAT_NAMES = {"auto": "Discord (Slack for hooks.slack.com)", "discord": "Discord", "slack": "Slack", "json": "JSON"}


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
    widths = [2.6, 2.3, 2.3, 1.2, 2.8, 1.8]
    head = st.columns(widths)
    for col, label in zip(head, ("Player", "Added", "Last refreshed", "Last outcome", "Alerts", ""), strict=True):
        col.markdown(f"**{label}**")
    for row in rows:
        cols = st.columns(widths, vertical_alignment="center")
        name = f" ({plain(row.name)})" if row.name else ""
        cols[0].markdown(player_link(row.player_id) + name)
        cols[1].write(ago(row.added_at, now))
        cols[2].write(ago(row.last_fetched_at, now) if row.last_fetched_at else "not fetched yet")
        cols[3].write(row.last_outcome or "-")
        cols[4].markdown(plain(notify_text(row.notify_url, row.notify_format)))
        if cols[5].button("Remove", key=f"remove_{row.player_id}"):
            data.store().watch_remove(row.player_id)
            data.clear_caches()
            st.session_state[NOTICE_KEY] = ("info", f"{plain(row.player_id)} is no longer tracked.")
            st.rerun()
    notify_form([row.player_id for row in rows])


def notify_text(url: str | None, fmt: str | None) -> str:
    """What the page shows of a player's webhook: its format and the URL without its secret."""
    if not url:
        return "off"
    return f"{FORMAT_NAMES[alerts.format_for(url, fmt)]}: {alerts.mask_url(url)}"


def notify_form(player_ids: list[str]) -> None:
    st.subheader("Alerts", anchor=False)
    st.caption(
        "A tracked player's rank changes, new play sessions and privacy changes can be sent to a webhook "
        "(a Discord channel's webhook URL, Slack's, or any URL taking JSON), from the next fetch on."
    )
    with st.form("watch_notify", border=False, clear_on_submit=True):  # the URL does not stay in the box
        who, fmt = st.columns([2, 2])
        player = who.selectbox("Player", player_ids, key="notify_player")
        chosen = fmt.selectbox("Format", list(FORMAT_NAMES), format_func=FORMAT_NAMES.__getitem__, key="notify_format")
        url = st.text_input(
            "Webhook URL", type="password", key="notify_url", placeholder="https://discord.com/api/webhooks/ID/TOKEN"
        )
        save, off = st.columns([1, 1])
        saved = save.form_submit_button("Save alerts", type="primary", width="stretch")
        stopped = off.form_submit_button("Turn alerts off", width="stretch")
    if not player:
        return
    if saved:
        set_notify(str(player), url, None if chosen == "auto" else str(chosen))
    elif stopped:
        set_notify(str(player), None, None)


def set_notify(player_id: str, url: str | None, fmt: str | None) -> None:
    if url is not None:
        url = url.strip()
        problem = webhooks.webhook_problem(url, webhooks.allowed_of(data.settings()))  # resolved: nothing inside
        if problem is not None:
            st.session_state[NOTICE_KEY] = ("error", f"Not a webhook URL: {plain(problem)}.")
            st.rerun()
    changed = data.store().notifications.set_target(player_id, url, fmt, data.now())
    data.clear_caches()
    if not changed:
        st.session_state[NOTICE_KEY] = ("error", f"{plain(player_id)} is no longer tracked.")
    elif url:
        st.session_state[NOTICE_KEY] = ("success", f"{plain(player_id)}'s alerts go to {plain(alerts.mask_url(url))}.")
    else:
        st.session_state[NOTICE_KEY] = ("info", f"{plain(player_id)} gets no alerts any more.")
    st.rerun()


def add(text: str) -> None:
    try:
        tag = parse_player(text)
    except InvalidBattleTag as exc:
        st.session_state[NOTICE_KEY] = ("error", f"Invalid BattleTag: {plain(exc)}")
        return
    added = data.store().watch_add(tag.player_id, data.now())
    data.clear_caches()
    message = "is now tracked" if added else "was already tracked"
    st.session_state[NOTICE_KEY] = ("success" if added else "info", f"{plain(tag.player_id)} {message}.")
