"""How ``owstream run dashboard`` starts Streamlit: on an address of every interface (inside a container) it
gives Streamlit a browser address of its own, so Streamlit does not look up this machine's external IP on the
internet before it serves (a container that cannot reach out waited for that, and its first health check
failed); on one address nothing changes."""

from __future__ import annotations

from owstream.config import Settings
from owstream.dashboard.launch import streamlit_command


def option(argv: list[str], name: str) -> str | None:
    return argv[argv.index(name) + 1] if name in argv else None


def test_every_interface_comes_with_a_browser_address_and_no_usage_stats() -> None:
    argv = streamlit_command(Settings(dashboard_address="0.0.0.0"))
    assert option(argv, "--server.address") == "0.0.0.0"
    assert option(argv, "--browser.serverAddress") == "localhost"
    assert option(argv, "--server.headless") == "true"
    assert option(argv, "--browser.gatherUsageStats") == "false"


def test_one_address_is_left_as_it_is() -> None:
    argv = streamlit_command(Settings(dashboard_address="127.0.0.1"))
    assert option(argv, "--server.address") == "127.0.0.1"
    assert "--browser.serverAddress" not in argv
