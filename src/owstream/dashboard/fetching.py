"""Fetch requests from the dashboard: within the visitor's quotas and the queue's bound, then followed until
stored, and how each ended said in plain words (the CLI's words).

A visitor's request honours OverFast's 10-minute cache (a player fetched that recently is answered from the
store); only the owner forces a fetch past it. When more requests wait for a fetcher than
``OWSTREAM_FETCH_BACKLOG_MAX``, a visitor's new one is refused ("busy: N ahead in the queue"); otherwise the
page says how many are ahead of it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import streamlit as st

from owstream.bus import Producer, Topics
from owstream.dashboard import access, data, kafka_data
from owstream.dashboard.layout import plain
from owstream.domain.format import plural
from owstream.domain.outcomes import outcome_wording
from owstream.errors import BusError
from owstream.services.requests import FETCHING, QUEUED, RequestState, RequestTracker, publish_request

log = logging.getLogger(__name__)

TRACKER_KEY = "fetch_tracker"
NOTICE_KEY = "fetch_notice"
STARTED_KEY = "fetch_started_at"
AHEAD_KEY = "fetch_ahead"
PENDING_KEY = "squad_pending"  # player id -> (request id, sent at): the squad's requests in flight
SLOW_AFTER = 120.0  # seconds without an answer before the page says the fetcher may be down

PROGRESS = {
    QUEUED: "Queued: waiting for a fetcher",
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
        refetch_hint="the owner's Refresh fetches again anyway",
    )
    return Notice(wording.level, plain(wording.text))


def broker_notice(exc: Exception) -> Notice:
    bootstrap = plain(data.settings().bootstrap_servers)
    return Notice(
        "error",
        f"Kafka broker unreachable at {bootstrap}: the request could not be sent ({plain(exc)}). "
        "Start it with `owstream kafka start` (or `owstream up`), then press Fetch again. Stored data is still shown.",
    )


def admit(count: int, *, force: bool) -> tuple[Notice | None, int | None]:
    """Whether ``count`` requests may go now: (the refusal, None) or (None, requests ahead in the queue)."""
    owner = access.is_owner()
    ahead = kafka_data.backlog()
    if not owner and ahead is not None and ahead + count > data.settings().fetch_backlog_max:
        return Notice(
            "warning", f"Busy: {plural(ahead, 'request')} ahead in the queue. Try again in a few minutes."
        ), None
    refused = access.take_fetches(count, forced=force and owner)
    if refused:
        return Notice("warning", plain(f"Not fetched: {refused}.")), None
    return None, ahead


def start_fetch(player_id: str, *, force: bool = False) -> bool:
    """Publish a request for ``player_id`` (a valid id) and follow it in this session; False when refused
    (the notice says why). ``force`` counts only for the owner."""
    stop_tracking()
    force = force and access.is_owner()
    refused, ahead = admit(1, force=force)
    if refused is not None:
        st.session_state[NOTICE_KEY] = refused
        return False
    try:
        tracker = RequestTracker(data.settings(), player_id, force=force, source="dashboard")
    except BusError as exc:
        log.warning("fetch request for %s not sent: %s", player_id, exc)
        st.session_state[NOTICE_KEY] = broker_notice(exc)
        return False
    st.session_state[TRACKER_KEY] = tracker
    st.session_state[STARTED_KEY] = time.monotonic()
    st.session_state[AHEAD_KEY] = ahead
    st.session_state.pop(NOTICE_KEY, None)
    return True


def stop_tracking() -> None:
    tracker = st.session_state.pop(TRACKER_KEY, None)
    if tracker is not None:
        tracker.close()


def show_notice() -> None:
    notice: Notice | None = st.session_state.get(NOTICE_KEY)
    if notice is not None:
        getattr(st, notice.kind)(notice.text)


def in_flight() -> bool:
    return TRACKER_KEY in st.session_state


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
    ahead = st.session_state.get(AHEAD_KEY)
    queue = f", {plural(ahead, 'request')} ahead of it" if state.state == QUEUED and ahead else ""
    st.info(
        f"{PROGRESS.get(state.state, state.state)}{queue} ({plain(state.player_id)}, {waited:.0f} s)",
        icon=":material/hourglass_top:",
    )
    if waited > SLOW_AFTER:
        st.warning(
            "No answer for 2 minutes: is a fetcher and a processor running? (`owstream up`, or "
            "`owstream run fetcher` and `owstream run processor`)"
        )


# --- several at once (the squad) --------------------------------------------------------------------------


def send_requests(player_ids: Sequence[str]) -> Notice | None:
    """Request each of ``player_ids`` (never forced) and remember them as pending; the refusal, if any."""
    if not player_ids:
        return None
    refused, _ahead = admit(len(player_ids), force=False)
    if refused is not None:
        return refused
    settings = data.settings()
    topic = Topics(settings.topic_prefix).fetch_requests
    producer = Producer(settings, idempotent=False)
    pending: dict[str, tuple[str, float]] = st.session_state.setdefault(PENDING_KEY, {})
    try:
        for player_id in player_ids:
            pending[player_id] = (publish_request(producer, topic, player_id, source="dashboard"), time.time())
        producer.flush_or_raise(timeout=15)
    except BusError as exc:
        for player_id in player_ids:
            pending.pop(player_id, None)
        return broker_notice(exc)
    finally:
        producer.close(timeout=1)
    return None


def pending() -> dict[str, tuple[str, float]]:
    found: dict[str, tuple[str, float]] = st.session_state.get(PENDING_KEY, {})
    return found


@st.fragment(run_every=1.0)
def follow_pending() -> None:
    """Checks the store for the pending requests' outcomes every second; re-runs the page when one is stored."""
    waiting = pending()
    if not waiting:
        return
    store = data.store()
    done = [pid for pid, (request_id, _at) in waiting.items() if store.request_status(request_id) is not None]
    if done:
        for pid in done:
            waiting.pop(pid, None)
        data.clear_caches()
        st.rerun()
    oldest = min(at for _rid, at in waiting.values())
    st.caption(f":material/hourglass_top: Fetching {plural(len(waiting), 'player')} ({time.time() - oldest:.0f} s)…")
