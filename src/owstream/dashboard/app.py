"""The dashboard's entry script (``streamlit run app.py``): page config and navigation, nothing else."""

from __future__ import annotations

import streamlit as st

from owstream.dashboard import access, freshness, layout, nav

st.set_page_config(page_title="owstream", page_icon=":material/sports_esports:", layout="wide")
layout.style()
access.sidebar()
freshness.check()  # cached reads kept until the store changes
st.navigation(list(nav.pages().values())).run()
