"""The Streamlit dashboard (the only package that imports streamlit): ``owstream run dashboard``."""
