"""The pages and the links between them. Every page has its own path (``/player``, ``/history``...); ``/``
opens the Player page with the same query (``/?player=Rook%2333834`` -> ``/player?player=...``). A link is
``st.page_link``: it opens the page in the same tab, in the same session (no reload)."""

from __future__ import annotations

import functools
from collections.abc import Mapping

import streamlit as st

# name -> (title, icon)
PAGES: dict[str, tuple[str, str]] = {
    "player": ("Player", ":material/person:"),
    "history": ("History", ":material/timeline:"),
    "squad": ("Squad", ":material/groups:"),
    "meta": ("Meta", ":material/trending_up:"),
    "pipeline": ("Pipeline", ":material/account_tree:"),
    "watchlist": ("Watchlist", ":material/visibility:"),
}


@functools.cache
def pages() -> dict[str, st.Page]:
    """The app's pages (made once per process), ``home`` (``/``, hidden) first."""
    from owstream.dashboard.views import history, meta, pipeline, player, squad, watchlist

    render = {"player": player.render, "history": history.render, "squad": squad.render, "meta": meta.render,
              "pipeline": pipeline.render, "watchlist": watchlist.render}  # fmt: skip
    found = {"home": st.Page(home, title="owstream", url_path="home", default=True, visibility="hidden")}
    for name, (title, icon) in PAGES.items():
        found[name] = st.Page(render[name], title=title, icon=icon, url_path=name)
    return found


def home() -> None:
    """``/``: the Player page, with the query it was opened with."""
    query = {name: st.query_params.get_all(name) for name in st.query_params}
    st.switch_page(pages()["player"], query_params=query)


def link(page: str, label: str, params: Mapping[str, str] | None = None, *, icon: str | None = None) -> None:
    """A link to ``page`` with ``params`` in its query, opened in this tab."""
    st.page_link(pages()[page], label=label, icon=icon, query_params=dict(params or {}) or None)
