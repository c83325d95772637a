"""Watchlist page: the players the scheduler refreshes, how each last fetch ended; the owner adds and removes
them and sets where each player's alerts go (a webhook URL, shown masked: it is a secret)."""

from __future__ import annotations

import streamlit as st

from owstream.dashboard import access, data, fetching, layout, nav
from owstream.dashboard.layout import plain
from owstream.domain import alerts
from owstream.domain import format as fmt
from owstream.domain.battletag import parse_player
from owstream.domain.outcomes import duration
from owstream.domain.refresh import policy_of
from owstream.domain.vocabulary import platform_label
from owstream.errors import InvalidBattleTag, StoreError, WatchlistFull
from owstream.services.webhooks import allowed_of, webhook_problem

NOTICE_KEY = "watch_notice"
FORMAT_NAMES = {"auto": "Discord (Slack for hooks.slack.com)", "discord": "Discord", "slack": "Slack", "json": "JSON"}
OUTCOMES = {
    "ok": ":green[fetched]",
    "private": ":orange[private profile]",
    "not_found": ":red[unknown to OverFast: check the BattleTag]",
    "upstream_error": ":orange[OverFast was busy]",
    "skipped": ":green[fetched] (from OverFast's cache)",
}


def render() -> None:
    st.title("Watchlist")
    settings = data.settings()
    rule = policy_of(settings)
    idle = (
        f", less often for a player idle for days (at most every {duration(max(rule.base, rule.longest))})"
        if rule.adaptive and rule.longest > rule.base
        else ""
    )
    st.caption(
        f"The scheduler refreshes every player on this list every {duration(rule.base)}{idle} "
        f"(at most {fmt.plural(settings.watchlist_max, 'player')})."
    )
    locked = access.owner_only()
    if locked:
        st.info(plain(locked))
    else:
        add_form()
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice is not None:
        getattr(st, notice[0])(notice[1])
    rows = data.watchlist()
    if not rows:
        st.info("Nobody is tracked yet" + ("." if locked else ": add a BattleTag above."))
        return
    now = data.now()
    states = data.members(tuple(row.player_id for row in rows))
    for row, member in zip(rows, states, strict=True):
        with st.container(border=True, horizontal=True, vertical_alignment="center", gap="medium"):
            label = (
                f"{row.name} ({row.player_id})"
                if row.name and row.name != row.player_id.rsplit("-", 1)[0]
                else row.player_id
            )
            with st.container(width=240, gap="small"):
                nav.link("player", label, {"player": row.player_id}, icon=":material/person:")
                st.caption(plain(platforms_text(row.platforms)))
            refreshed = (
                f"refreshed {layout.since(row.last_fetched_at, now)}" if row.last_fetched_at else "not fetched yet"
            )
            last = member.last_outcome or row.last_outcome
            outcome = OUTCOMES.get(last or "", "–") if last else "waiting for its first fetch"
            st.markdown(f"{outcome} · {plain(refreshed)}  \n{plain(next_refresh(row, now))}", width=300)
            st.markdown(f"Alerts: {plain(notify_text(row.notify_url, row.notify_format))}", width=220)
            if not locked and st.button("Remove", key=f"remove_{row.player_id}"):
                data.store().watch_remove(row.player_id)
                data.clear_caches()
                st.session_state[NOTICE_KEY] = ("info", f"{plain(row.player_id)} is no longer tracked.")
                st.rerun()
    if not locked:
        notify_form([row.player_id for row in rows])


def next_refresh(row: data.WatchRow, now: float) -> str:
    """When the scheduler refreshes the player next, and why then (``played 2 h ago: every 10 min``)."""
    if row.next_refresh_at is None:
        return "Next refresh: when the scheduler runs"
    due = row.next_refresh_at - now
    when = "now (due)" if due <= 0 else f"in {duration(due)}"
    return f"Next refresh {when}  \n{row.refresh_why}"


def platforms_text(platforms: list[str]) -> str:
    """The platforms the player has stats on, the one its pages show first (played most) first."""
    if not platforms:
        return "Platforms: none with stats yet"
    most = " (most played)" if len(platforms) > 1 else ""
    return f"Platforms: {platform_label(platforms[0])}{most}" + "".join(f", {platform_label(p)}" for p in platforms[1:])


def add_form() -> None:
    with st.form("watch_add", border=False, enter_to_submit=True):
        left, right = st.columns([5, 1], vertical_alignment="bottom")
        text = left.text_input("BattleTag to track", placeholder="TeKrop#2217", key="watch_tag")
        if right.form_submit_button("Add", type="primary", width="stretch"):
            add(text)


def notify_text(url: str | None, fmt_: str | None) -> str:
    """What the page shows of a player's webhook: its format and the URL without its secret."""
    if not url:
        return "off"
    return f"{FORMAT_NAMES[alerts.format_for(url, fmt_)]}: {alerts.mask_url(url)}"


def notify_form(player_ids: list[str]) -> None:
    st.subheader("Alerts", anchor=False)
    st.caption(
        "A tracked player's rank changes, new play sessions and privacy changes can be sent to a webhook "
        "(a Discord channel's webhook URL, Slack's, or any URL taking JSON), from the next fetch on."
    )
    with st.form("watch_notify", border=False, clear_on_submit=True):  # the URL does not stay in the box
        with st.container(horizontal=True, gap="medium"):
            player = st.selectbox("Player", player_ids, key="notify_player", width=260)
            chosen = st.selectbox("Format", list(FORMAT_NAMES), format_func=FORMAT_NAMES.__getitem__,
                                  key="notify_format", width=260)  # fmt: skip
        url = st.text_input(
            "Webhook URL", type="password", key="notify_url", placeholder="https://discord.com/api/webhooks/ID/TOKEN"
        )
        with st.container(horizontal=True, gap="small"):
            saved = st.form_submit_button("Save alerts", type="primary")
            stopped = st.form_submit_button("Turn alerts off")
    if not player:
        return
    if saved:
        set_notify(str(player), url, None if chosen == "auto" else str(chosen))
    elif stopped:
        set_notify(str(player), None, None)


def set_notify(player_id: str, url: str | None, fmt_: str | None) -> None:
    if access.owner_only():
        return
    if url is not None:
        url = url.strip()
        # the CLI's check (services.webhooks): the URL's shape, then its host's addresses, public ones only or
        # those OWSTREAM_NOTIFY_ALLOW names
        problem = webhook_problem(url, allowed_of(data.settings()))
        if problem is not None:
            st.session_state[NOTICE_KEY] = ("error", f"Not a webhook URL: {plain(problem)}.")
            st.rerun()
    changed = data.store().notifications.set_target(player_id, url, fmt_, data.now())
    data.clear_caches()
    if not changed:
        st.session_state[NOTICE_KEY] = ("error", f"{plain(player_id)} is no longer tracked.")
    elif url:
        st.session_state[NOTICE_KEY] = ("success", f"{plain(player_id)}'s alerts go to {plain(alerts.mask_url(url))}.")
    else:
        st.session_state[NOTICE_KEY] = ("info", f"{plain(player_id)} gets no alerts any more.")
    st.rerun()


def add(text: str) -> None:
    """Track a player: refused when the BattleTag is invalid, OverFast does not know it, or the list is full;
    a player never fetched is fetched now (an unknown one then shows as such in its row)."""
    if access.owner_only():
        return
    try:
        tag = parse_player(text)
    except InvalidBattleTag as exc:
        st.session_state[NOTICE_KEY] = ("error", f"Invalid BattleTag: {plain(exc)}")
        return
    member = data.members((tag.player_id,))[0]
    if not member.stored and member.last_outcome == "not_found":
        st.session_state[NOTICE_KEY] = (
            "error",
            f"Not tracked: OverFast does not know {plain(tag.player_id)} (check the name's case and the number).",
        )
        return
    try:
        added = data.store().watch_add(member.player_id, data.now(), limit=data.settings().watchlist_max)
    except WatchlistFull as exc:
        st.session_state[NOTICE_KEY] = ("error", f"Not tracked: {plain(exc)}.")
        return
    except StoreError as exc:
        st.session_state[NOTICE_KEY] = ("error", f"Not tracked: {plain(exc)}")
        return
    data.clear_caches()
    if added and not member.stored:
        fetching.send_requests([member.player_id])
    message = "is now tracked" if added else "was already tracked"
    st.session_state[NOTICE_KEY] = ("success" if added else "info", f"{plain(member.player_id)} {message}.")
