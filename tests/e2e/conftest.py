"""The dashboard in a real browser: broker + fetcher + processor against the replayed OverFast responses,
``streamlit run`` on 127.0.0.1 (the command ``owstream run dashboard`` execs), Playwright driving Debian's
chromium. Images from Blizzard's CDN are answered with a placeholder: the browser never leaves 127.0.0.1."""

from __future__ import annotations

import os
import signal
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from owstream.config import Settings
from owstream.dashboard.launch import streamlit_command
from owstream.localkafka import free_port
from owstream.services.fetcher import Fetcher
from owstream.services.processor import Processor
from owstream.services.runner import in_background
from owstream.store import Store
from support.browser import CHROMIUM, CHROMIUM_ARGS, new_page
from support.env import owstream_env
from support.pipeline import wait_for
from support.replay_server import ReplayServer


@pytest.fixture
def settings(kafka: Settings) -> Iterator[Settings]:
    with ReplayServer() as replay:
        yield kafka.replace(overfast_url=replay.url, rate_limit=50.0)


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    store = Store.open(settings.resolved_store_url)
    with in_background([Fetcher(settings), Processor(settings, store)]) as died:
        yield store
        assert died() == []
    store.close()


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
            return bool(resp.read() == b"ok")
    except (urllib.error.URLError, OSError):
        return False


def serve(settings: Settings, tmp_path: Path, **env: str) -> Iterator[str]:
    """The dashboard as ``owstream run dashboard`` serves it; yields its URL, stops its process group."""
    port = free_port()
    log = (tmp_path / f"streamlit-{port}.log").open("wb")
    proc = subprocess.Popen(
        streamlit_command(settings, port=port, address="127.0.0.1"),
        env=owstream_env(settings, **env),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _healthy(url) or proc.poll() is not None, timeout=60, interval=0.2)
        assert proc.poll() is None, (tmp_path / f"streamlit-{port}.log").read_text()
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


@pytest.fixture
def dashboard(settings: Settings, store: Store, tmp_path: Path) -> Iterator[str]:
    # discord.com allowed by name: saving a Discord webhook on the Watchlist page then asks no DNS server
    # (a test sends no traffic off this machine); internal addresses are still refused
    yield from serve(settings, tmp_path, OWSTREAM_NOTIFY_ALLOW="discord.com")


@pytest.fixture
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed (make system-deps)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        found = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield found
        found.close()


@pytest.fixture
def page(browser: Any, dashboard: str) -> Iterator[Any]:
    found = new_page(browser)
    yield found
    found.context.close()
