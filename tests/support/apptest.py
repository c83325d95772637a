"""The dashboard's pages under ``streamlit.testing.v1.AppTest``: one page run with its URL's query, and what it
shows read back (metrics, text, the segmented controls)."""

from __future__ import annotations

from typing import Any

from streamlit.testing.v1 import AppTest


def page(name: str, timeout: float = 15, **params: str) -> AppTest:
    """The page ``name`` (``owstream.dashboard.views.<name>``) run once with ``params`` in its URL."""

    def script(page_name: str) -> None:
        import importlib

        importlib.import_module(f"owstream.dashboard.views.{page_name}").render()

    at = AppTest.from_function(script, kwargs={"page_name": name}, default_timeout=timeout)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def text(at: AppTest) -> str:
    """Every caption, markdown, notice and subheader of the run, unescaped."""
    parts = [e.value for kind in ("caption", "markdown", "info", "success", "warning", "error", "subheader")
             for e in getattr(at, kind)]  # fmt: skip
    return " ".join(str(p) for p in parts).replace("\\", "")


def choose(at: AppTest, key: str, value: Any) -> AppTest:
    """Click ``value`` in the segmented control ``key``, and run the page again."""
    at.button_group(key=key).set_value(value)
    return at.run()
