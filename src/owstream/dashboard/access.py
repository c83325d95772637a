"""The owner and the visitors. Visitors look players up, fetch them within quotas and compare them; whatever
acts later (the watchlist, alerts) and forcing a refresh past OverFast's cache is the owner's.

Who is the owner: a session that entered ``OWSTREAM_OWNER_TOKEN`` in the sidebar (compared with
``hmac.compare_digest``), or signed in with Streamlit's OIDC login as one of ``OWSTREAM_OWNER_EMAILS``. With no
token set, a dashboard bound to a loopback address (your own machine) makes every session the owner; on any
other address nobody is, and the owner's controls are off and say why.

Quotas (settings, see :mod:`owstream.config`): fetch requests per visitor session per hour, per dashboard
process per minute, forced refreshes per hour; sign-in attempts are bounded too.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from dataclasses import dataclass, field

import streamlit as st

from owstream.config import Settings, get_settings
from owstream.domain.quotas import Window

log = logging.getLogger(__name__)

OWNER_KEY = "_owner"
SESSION_FETCHES = "_session_fetches"
SIGN_IN_FAILURES = "_sign_in_failures"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
SIGN_IN_TRIES = 5  # per session


@dataclass
class Shared:
    """The quotas all sessions of this dashboard process share (one object per process)."""

    fetches: Window
    forced: Window
    sign_in: Window = field(default_factory=lambda: Window(30, 3600.0, "owner sign-in attempts"))
    lock: threading.Lock = field(default_factory=threading.Lock)


@st.cache_resource(show_spinner=False)
def shared(fetches_per_minute: int, forced_per_hour: int) -> Shared:
    return Shared(
        Window(fetches_per_minute, 60.0, "Fetch requests from all visitors of this dashboard"),
        Window(forced_per_hour, 3600.0, "Forced refreshes"),
    )


def _shared(settings: Settings) -> Shared:
    return shared(settings.fetches_per_minute, settings.forced_refreshes_per_hour)


def _token(settings: Settings) -> str:
    return settings.owner_token.get_secret_value()


def _owner_emails(settings: Settings) -> set[str]:
    return {e.strip().lower() for e in settings.owner_emails.split(",") if e.strip()}


def oidc_configured() -> bool:
    """Whether Streamlit's OIDC login is configured (``[auth]`` in secrets.toml)."""
    try:
        return "auth" in st.secrets
    except Exception:
        return False


def is_owner(settings: Settings | None = None) -> bool:
    settings = settings or get_settings()
    if st.session_state.get(OWNER_KEY) is True:
        return True
    if _owner_emails(settings) and oidc_configured():
        user = st.user
        if user.get("is_logged_in") and str(user.get("email") or "").lower() in _owner_emails(settings):
            return True
    return not _token(settings) and settings.dashboard_address in LOOPBACK


def owner_only(settings: Settings | None = None) -> str | None:
    """Why the owner's controls are off for this session (None: it is the owner)."""
    settings = settings or get_settings()
    if is_owner(settings):
        return None
    if _token(settings) or (_owner_emails(settings) and oidc_configured()):
        return "This is the owner's: sign in as the owner in the sidebar to change it."
    return (
        f"Off on this dashboard: it is served on {settings.dashboard_address} and no owner is configured "
        "(set OWSTREAM_OWNER_TOKEN when deploying to let the owner change the watchlist and alerts)."
    )


def sign_in(text: str, settings: Settings | None = None) -> str | None:
    """Check ``text`` against the owner's token; None when it matches (the session is the owner now)."""
    settings = settings or get_settings()
    token = _token(settings)
    failures = int(st.session_state.get(SIGN_IN_FAILURES, 0))
    if not token:
        return "no owner token is set on this dashboard"
    if failures >= SIGN_IN_TRIES:
        return f"{SIGN_IN_TRIES} wrong tokens in this session: reload the page to try again later"
    quota = _shared(settings)
    with quota.lock:
        refused = quota.sign_in.refusal(time.time())
    if refused:
        return refused
    if hmac.compare_digest(text.encode(), token.encode()):
        st.session_state[OWNER_KEY] = True
        st.session_state.pop(SIGN_IN_FAILURES, None)
        return None
    with quota.lock:
        quota.sign_in.take(time.time())
    st.session_state[SIGN_IN_FAILURES] = failures + 1
    log.warning("dashboard: a wrong owner token was entered")
    return "that is not the owner's token"


def sidebar() -> None:
    """The owner's sign-in (or sign-out) in the sidebar, when an owner can sign in at all."""
    settings = get_settings()
    has_token, has_oidc = bool(_token(settings)), bool(_owner_emails(settings)) and oidc_configured()
    if not (has_token or has_oidc):
        return
    with st.sidebar:
        if st.session_state.get(OWNER_KEY):
            st.caption("Signed in as the owner.")
            if st.button("Sign out", key="owner_sign_out"):
                st.session_state.pop(OWNER_KEY, None)
                st.rerun()
            return
        if has_oidc:
            if st.user.get("is_logged_in"):
                if st.button("Log out", key="owner_logout"):
                    st.logout()
            elif st.button("Log in", key="owner_login"):
                st.login()
        if has_token:
            with st.popover("Owner sign-in"), st.form("owner_sign_in", border=False, clear_on_submit=True):
                text = st.text_input("Owner token", type="password", key="owner_token_input")
                if st.form_submit_button("Sign in"):
                    problem = sign_in(text, settings)
                    if problem:
                        st.error(f"Not signed in: {problem}.")
                    else:
                        st.rerun()


def take_fetches(count: int, *, forced: bool, settings: Settings | None = None) -> str | None:
    """Count ``count`` fetch requests against the quotas; the refusal in words, or None (counted).

    The owner is bound by the forced-refresh quota only; visitors by their session's and the process's."""
    settings = settings or get_settings()
    now = time.time()
    quota = _shared(settings)
    if is_owner(settings):
        if not forced:
            return None
        with quota.lock:
            return quota.forced.take(now)
    session: Window = st.session_state.setdefault(
        SESSION_FETCHES, Window(settings.session_fetches_per_hour, 3600.0, "Fetch requests from one browser session")
    )
    with quota.lock:
        for window in (session, quota.fetches):
            if window.limit > 0 and window.used(now) + count > window.limit:
                return window.refusal(now) or (
                    f"{window.what} are limited to {window.limit} at a time: ask for fewer players"
                )
            if window.limit <= 0:
                return window.refusal(now)
        for _ in range(count):
            session.take(now)
            quota.fetches.take(now)
    return None
