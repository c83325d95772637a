"""Fetch requests from the dashboard: start one, follow it, and say in plain words how it ended."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import streamlit as st

from owstream.dashboard import data
from owstream.dashboard.layout import plain
from owstream.domain.battletag import parse_player
from owstream.domain.outcomes import outcome_wording
from owstream.errors import BusError, InvalidBattleTag
from owstream.services.requests import FETCHING, QUEUED, RequestState, RequestTracker

log = logging.getLogger(__name__)

TRACKER_KEY = "fetch_tracker"
NOTICE_KEY = "fetch_notice"
STARTED_KEY = "fetch_started_at"
SLOW_AFTER = 120.0  # seconds without an answer before the page says the fetcher may be down

PROGRESS = {
    QUEUED: "Queued: the request is on the fetch-requests topic, waiting for a fetcher",
    FETCHING: "Fetching: a fetcher is asking OverFast for the profile and stats",
}


@dataclass(frozen=True)
class Notice:
    kind: str  # success, info, warning, error
    text: str  # markdown-safe


def notice_for(player_id: str, state: RequestState) -> Notice:
    """The message for a stored request's outcome (the CLI says the same words)."""
    wording = outcome_wording(
        player_id,
        state.outcome,
        error=state.error,
        retry_after=state.retry_after,
        cache_seconds=data.settings().overfast_cache_seconds,
        refetch_hint="Refresh fetches again anyway",
    )
    return Notice(wording.level, plain(wording.text))


def broker_notice(exc: Exception) -> Notice:
    bootstrap = plain(data.settings().bootstrap_servers)
    return Notice(
        "error",
        f"Kafka broker unreachable at {bootstrap}: the request could not be sent ({plain(exc)}). "
        "Start it with `owstream kafka start` (or `owstream up`), then press Fetch again. Stored data is still shown.",
    )


def start_fetch(text: str, *, force: bool = False) -> str | None:
    """Validate, publish the request and keep its tracker in the session. Returns the player id if valid."""
    stop_tracking()
    try:
        tag = parse_player(text)
    except InvalidBattleTag as exc:
        st.session_state[NOTICE_KEY] = Notice("error", f"Invalid BattleTag: {plain(exc)}")
        return None
    st.query_params["player"] = tag.player_id
    try:
        tracker = RequestTracker(data.settings(), tag.player_id, force=force, source="dashboard")
    except BusError as exc:
        log.warning("fetch request for %s not sent: %s", tag.player_id, exc)
        st.session_state[NOTICE_KEY] = broker_notice(exc)
        return tag.player_id
    st.session_state[TRACKER_KEY] = tracker
    st.session_state[STARTED_KEY] = time.monotonic()
    st.session_state.pop(NOTICE_KEY, None)
    return tag.player_id


def stop_tracking() -> None:
    tracker = st.session_state.pop(TRACKER_KEY, None)
    if tracker is not None:
        tracker.close()


def show_notice() -> None:
    notice: Notice | None = st.session_state.get(NOTICE_KEY)
    if notice is not None:
        getattr(st, notice.kind)(notice.text)


@st.fragment(run_every=0.5)
def progress() -> None:
    """Polls the request's events twice a second until it is stored, then re-runs the whole page."""
    tracker: RequestTracker | None = st.session_state.get(TRACKER_KEY)
    if tracker is None:
        return
    try:
        state = tracker.poll(timeout=0.2)
    except BusError as exc:
        stop_tracking()
        st.session_state[NOTICE_KEY] = broker_notice(exc)
        st.rerun()
    if state.done:
        stop_tracking()
        st.session_state[NOTICE_KEY] = notice_for(state.player_id, state)
        data.clear_caches()
        st.rerun()
    waited = time.monotonic() - st.session_state.get(STARTED_KEY, time.monotonic())
    st.info(f"{PROGRESS.get(state.state, state.state)} ({plain(state.player_id)}, {waited:.0f} s)", icon="⏳")
    if waited > SLOW_AFTER:
        st.warning(
            "No answer for 2 minutes: is a fetcher and a processor running? (`owstream up`, or "
            "`owstream run fetcher` and `owstream run processor`)"
        )
