"""The dashboard's entry script (``streamlit run app.py``): page config and navigation, nothing else."""

from __future__ import annotations

import streamlit as st

from owstream.dashboard.views import history, meta, pipeline, player, squad, watchlist

PAGES = [
    st.Page(player.render, title="Player", icon=":material/person:", url_path="player", default=True),
    st.Page(history.render, title="History", icon=":material/timeline:", url_path="history"),
    st.Page(squad.render, title="Squad", icon=":material/groups:", url_path="squad"),
    st.Page(meta.render, title="Meta", icon=":material/trending_up:", url_path="meta"),
    st.Page(pipeline.render, title="Pipeline", icon=":material/account_tree:", url_path="pipeline"),
    st.Page(watchlist.render, title="Watchlist", icon=":material/visibility:", url_path="watchlist"),
]

st.set_page_config(page_title="owstream", page_icon=":material/sports_esports:", layout="wide")
st.navigation(PAGES).run()
