"""``python -m owstream.dashboard.serve run app.py …``: Streamlit's own command line, run once the modules
every page needs are imported.

Streamlit runs each page's script in a thread of its server process, so whatever the server imported first
is already there for the first visitor: without this, the first page after a start waited ~2 s for pandas
and the dashboard's modules (bench/bench_pages.py measures it). The server is ready (its health check
answers) only after these imports, which ``owstream up`` waits for.
"""

from __future__ import annotations

import sys


def preload() -> None:
    """Import the pages (and with them pandas, the store and the Kafka client) outside any session."""
    import pandas  # noqa: F401
    import PIL.Image  # noqa: F401  (st.image's first use imported it inside a visitor's run: ~0.1 s)

    from owstream.dashboard import access, charts, data, fetching, kafka_data, layout, nav, rows, state  # noqa: F401
    from owstream.dashboard.views import history, meta, pipeline, player, squad, versus, watchlist  # noqa: F401


def main() -> None:
    preload()
    from streamlit.web import cli

    sys.exit(cli.main())


if __name__ == "__main__":
    main()
