"""Every page is a URL: each choice a page offers lives in its query string, so a reload, the back button or a
shared link shows the same page.

==============  =========================================================  ==============================
parameter       what                                                       pages
==============  =========================================================  ==============================
``player``      a BattleTag (``Name#1234``, ``Name-1234``) or Blizzard id   Player, History
``players``     BattleTags separated by commas                             Squad
``mode``        ``quickplay`` (default) or ``competitive``                 Player, History, Squad, Meta
``season``      ``lifetime`` (default), ``current``, ``last`` or a number  Player, History, Squad
``platform``    ``pc``, ``console``, ``both`` (old snapshots' total);      Player, History, Squad, Meta
                default: the player's most played (Squad: each one's
                own, ``each``; Meta: ``pc``)
``window``      the squad's and the meta's time window                     Squad, Meta
``region``      ``division`` ``heroes``: the meta's filters                Meta
``all``         ``1``: every hero drawn (Player), listed (Meta)            Player, Meta
``table``       ``1``: the table of every hero's numbers                   Player
``stat``        the per-10-minutes stat drawn                              Player
``sessions``    ``all``: every session listed, not the newest 20           History
==============  =========================================================  ==============================

A widget is bound to its parameter by :func:`choice`: its value is read from the URL on every run (so a link
to the page, or the back button, sets it), and a change writes it back (in the widget's callback, before the
run). Defaults are left out of the URL. Streamlit's own ``bind="query-params"`` is not used: on a page switch
it drops a link's parameter when the page left had a widget bound to the same name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import streamlit as st

T = TypeVar("T")
LAST_PLAYER = "_last_player"  # the player of the last page that had one: other pages start from it
LIST_SEPARATOR = ","


def param(name: str) -> str | None:
    """The URL's value of ``name`` (decoded: ``%23`` is ``#``), stripped; None when absent or empty."""
    value = st.query_params.get(name)
    return value.strip() if value and value.strip() else None


def set_param(name: str, value: str | None) -> None:
    """Write ``name`` to the URL (None or empty: remove it)."""
    if value:
        if st.query_params.get(name) != value:
            st.query_params[name] = value
    elif name in st.query_params:
        del st.query_params[name]


def list_param(name: str) -> list[str]:
    """A comma-separated parameter as a list (empty items and repeats left out)."""
    raw = ",".join(st.query_params.get_all(name))
    return list(dict.fromkeys(item.strip() for item in raw.split(LIST_SEPARATOR) if item.strip()))


def set_list_param(name: str, values: Sequence[str]) -> None:
    set_param(name, LIST_SEPARATOR.join(dict.fromkeys(values)))


def choice(
    widget: Callable[..., Any],
    label: str,
    options: Sequence[T],
    *,
    key: str,
    default: T,
    encode: Callable[[T], str] = str,
    **kwargs: Any,
) -> T:
    """``widget`` (``st.segmented_control``, ``st.selectbox``, ``st.radio``...) over ``options``, bound to the
    URL parameter ``key``: the URL's value when it is one of the options, else ``default``."""
    by_text = {encode(option): option for option in options}
    wanted = by_text.get(param(key) or "", default if default in options else options[0])
    if st.session_state.get(key) != wanted:
        st.session_state[key] = wanted

    def changed() -> None:
        value = st.session_state.get(key)
        set_param(key, None if value is None or value == default else encode(value))

    if widget in (st.segmented_control, st.pills):
        kwargs.setdefault("required", True)
    value = widget(label, list(options), key=key, on_change=changed, **kwargs)
    return value if value in options else wanted


def player() -> str | None:
    """The ``player`` parameter, else the player the session looked at last (then written to the URL)."""
    found = param("player")
    if found is None:
        found = st.session_state.get(LAST_PLAYER)
        if found:
            set_param("player", found)
    return found


def remember_player(player_id: str) -> None:
    st.session_state[LAST_PLAYER] = player_id


def flag(label: str, *, key: str, **kwargs: Any) -> bool:
    """A toggle bound to the URL parameter ``key`` (``1`` when on; absent when off)."""
    wanted = param(key) == "1"
    if st.session_state.get(key) != wanted:
        st.session_state[key] = wanted

    def changed() -> None:
        set_param(key, "1" if st.session_state.get(key) else None)

    return bool(st.toggle(label, key=key, on_change=changed, **kwargs))
