"""Every page at a laptop's width (1440 px) and a phone's (390 px), on players with 1, 4 and 36 heroes, read
from the rendered page: bars at least 16 px thick, no two labels of a chart overlapping, legend colours that
differ, nothing wider than the window, tables that fit or scroll inside their box. Saves the screenshots of
docs/screenshots/ (``make screenshots``)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from owstream.config import Settings
from owstream.simulator import Simulator
from owstream.store import Store
from support.browser import LAPTOP, PHONE, measure, new_page, problems, ready, still
from support.pipeline import request_and_wait
from support.seed import add_sessions, meta_answers, publish, recorded_catalogue, with_heroes

pytestmark = [pytest.mark.kafka, pytest.mark.browser]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
HERO_BARS = ("chart_time", "chart_winrate", "chart_per10")
SQUAD = "TeKrop-2217,KIRIKO-12460,JohnV1-1190,Four-12460"

# (screenshot name, URL, the horizontal bar charts the page must draw, what it must say)
PAGES: list[tuple[str | None, str, tuple[str, ...], str]] = [
    (None, "player?player=JohnV1-1190&mode=competitive", HERO_BARS, "Heroes (1)"),
    (None, "player?player=Four-12460&mode=competitive", HERO_BARS, "Heroes (4)"),
    ("player", "player?player=TeKrop-2217", HERO_BARS, "Heroes (36)"),
    ("player-platforms", "player?player=KIRIKO-12460", HERO_BARS, "Quickplay on Console, lifetime"),  # pc too
    (None, "player?player=TeKrop-2217&all=1&table=1", HERO_BARS, "Heroes (36)"),
    ("versus", "player?player=TeKrop-2217&mode=competitive", HERO_BARS, "You vs the meta"),
    ("history", "history?player=TeKrop-2217&mode=competitive", (), "Play sessions"),
    ("squad", f"squad?players={SQUAD}&mode=competitive", ("chart_squad_", "chart_pools"), "Carried"),
    ("meta", "meta", (), "Newest answer"),
    ("pipeline", "pipeline", (), "Most recent messages"),
    ("watchlist", "watchlist", (), "Alerts"),
]


@pytest.fixture
def filled(settings: Settings, store: Store) -> Store:
    """Three recorded players, one with 4 heroes, a session each for two of them, the meta, the catalogue."""
    for pid in ("TeKrop-2217", "KIRIKO-12460", "JohnV1-1190"):
        assert request_and_wait(settings, pid).outcome == "ok"
    publish(settings, store, [with_heroes(store, "KIRIKO-12460", "Four-12460", 4)])
    add_sessions(settings, store, {"TeKrop-2217": (3, 1), "KIRIKO-12460": (1, 2)})
    meta_answers(settings, store, Simulator(seed=5, players=2))
    recorded_catalogue(settings, store)
    for pid in ("TeKrop-2217", "KIRIKO-12460", "JohnV1-1190", "Four-12460"):
        store.watch_add(pid, time.time())
    return store


def shot(page: Any, name: str) -> None:
    """The whole page (Streamlit scrolls inside its main section: the window is made as tall as it)."""
    width = page.viewport_size["width"]
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": width, "height": min(max(height, 844), 6000)})
    ready(page)
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    suffix = "" if width >= 1000 else "-phone"
    page.screenshot(path=str(SCREENSHOTS / f"{name}{suffix}.png"))
    page.set_viewport_size({"width": width, "height": 900 if width >= 1000 else 844})


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["1440px", "390px"])
def test_every_page_reads_at_this_width(filled: Store, dashboard: str, browser: Any, viewport: dict[str, int]) -> None:
    from playwright.sync_api import expect

    page = new_page(browser, viewport)
    found: dict[str, list[str]] = {}
    try:
        for name, path, bars, says in PAGES:
            page.goto(f"{dashboard}/{path}")
            ready(page)
            expect(page.get_by_text(says).first).to_be_visible(timeout=60_000)
            still(page)  # every element drawn, not only sent
            wrong = problems(measure(page), bar_charts=bars)
            if wrong:
                found[path] = wrong
            if name is not None:
                shot(page, name)
    finally:
        page.context.close()
    assert found == {}, "\n".join(f"{path}: {'; '.join(wrong)}" for path, wrong in found.items())
