"""What a user does in the browser: fetch a player, follow links, share a squad by its URL, choose a season,
compare with the meta, set alerts (broker + fetcher + processor against the replayed OverFast answers)."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest

from owstream.config import Settings
from owstream.simulator import Simulator
from owstream.store import Store
from support.browser import ready
from support.pipeline import recorded_json, request_and_wait
from support.seed import (
    add_sessions,
    competitive_of,
    later,
    meta_answers,
    publish,
    recorded_catalogue,
    stored_result,
)

pytestmark = [pytest.mark.kafka, pytest.mark.browser]

TIMEOUT_MS = 60_000


def _metric(page: Any, label: str) -> Any:
    return page.locator("[data-testid='stMetric']").filter(has_text=label).locator("[data-testid='stMetricValue']")


def _row(page: Any, header: str) -> Any:
    """The st.table row whose header cell is ``header``."""
    return page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=header, exact=True))


def _fetch(page: Any, text: str) -> None:
    ready(page)
    box = page.get_by_label("BattleTag", exact=True).and_(page.locator("input"))
    box.fill(text)
    page.get_by_role("button", name="Fetch").click()


def _percent(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".") + " %"


def test_fetch_in_the_browser_then_an_unknown_and_an_invalid_player(store: Store, dashboard: str, page: Any) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    page.goto(dashboard)
    _fetch(page, "TeKrop#2217")
    expect(page.get_by_text("Stored: TeKrop-2217 was fetched")).to_be_visible()
    assert page.url.endswith("/player?player=TeKrop-2217")  # the root opens the Player page; the URL names it
    general = recorded_json("players_TeKrop-2217_stats_summary_quickplay_all.json")["general"]
    expect(_metric(page, "Games played")).to_have_text(f"{general['games_played']:,}")
    expect(_metric(page, "Winrate")).to_have_text(_percent(general["winrate"]))
    expect(_metric(page, "Time played")).to_have_text(f"{round(general['time_played'] / 3600):,} h")  # >= 100 h
    expect(page.get_by_role("rowheader", name="Support", exact=True).first).to_be_visible()

    _fetch(page, "Unknown#1234")
    expect(page.get_by_text("Player not found: OverFast does not know Unknown-1234")).to_be_visible()
    expect(page.get_by_text("is not in the store yet")).to_have_count(0)  # one notice, not two contradicting
    _fetch(page, "bad tag!")
    expect(page.get_by_text("Invalid BattleTag: 'bad tag!' is not a BattleTag")).to_be_visible()


def test_links_open_the_right_page_in_the_same_tab(settings: Settings, store: Store, dashboard: str, page: Any) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    for pid in ("TeKrop-2217", "KIRIKO-12460"):
        assert request_and_wait(settings, pid).outcome == "ok"
        store.watch_add(pid, time.time())
    kiriko = recorded_json("players_KIRIKO-12460_summary.json")["username"]

    page.goto(f"{dashboard}/watchlist")
    ready(page)
    page.get_by_role("link", name="KIRIKO-12460").click()
    expect(page.get_by_role("heading", name=kiriko)).to_be_visible()
    assert page.url.endswith("/player?player=KIRIKO-12460") and len(page.context.pages) == 1

    page.goto(f"{dashboard}/history?player=TeKrop-2217")
    ready(page)
    page.get_by_role("link", name="TeKrop-2217's numbers on the Player page").click()
    expect(page.get_by_role("heading", name="TeKrop")).to_be_visible()
    assert page.url.endswith("/player?player=TeKrop-2217") and len(page.context.pages) == 1

    page.goto(f"{dashboard}/squad?players=TeKrop-2217,KIRIKO-12460&mode=competitive")
    ready(page)
    page.get_by_role("link", name="KIRIKO-12460", exact=True).click()
    expect(page.get_by_role("heading", name=kiriko)).to_be_visible()
    assert "/player?player=KIRIKO-12460" in page.url and len(page.context.pages) == 1

    page.goto(f"{dashboard}/?player=TeKrop%232217")  # the # form people paste
    expect(page.get_by_role("heading", name="TeKrop")).to_be_visible()
    assert "/player?player=TeKrop" in page.url

    page.goto(f"{dashboard}/history?player=Nobody-1111")
    expect(page.get_by_text("Nobody-1111 is not in the store yet")).to_be_visible()
    ready(page)
    expect(page.locator("[data-testid='stVegaLiteChart']")).to_have_count(0)  # nobody else's history


def test_a_squad_is_shared_by_its_url(settings: Settings, store: Store, dashboard: str, page: Any) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    for pid in ("TeKrop-2217", "KIRIKO-12460", "JohnV1-1190"):
        assert request_and_wait(settings, pid).outcome == "ok"
    add_sessions(settings, store, {"TeKrop-2217": (3, 1), "KIRIKO-12460": (1, 2)})
    page.goto(f"{dashboard}/squad?players=TeKrop-2217")
    ready(page)
    members = page.get_by_label("Players", exact=True).and_(page.locator("input"))
    members.fill("KIRIKO#12460")
    members.press("Enter")
    page.keyboard.press("Escape")
    ready(page)
    page.get_by_text("Competitive", exact=True).click()
    expect(page.get_by_text("Carried: TeKrop-2217, 4 W – 2 L in 6 games")).to_be_visible()
    shared = page.url
    assert "players=TeKrop-2217%2CKIRIKO-12460" in shared and "mode=competitive" in shared

    friend = page.context.browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    friend.goto(shared)  # a friend opens the link on a phone: the same squad, the same night
    expect(friend.get_by_text("Carried: TeKrop-2217, 4 W – 2 L in 6 games")).to_be_visible(timeout=TIMEOUT_MS)
    expect(_row(friend, "KIRIKO-12460").first).to_contain_text("2 W – 3 L")
    friend.context.close()


def test_season_choice_in_the_browser(settings: Settings, store: Store, dashboard: str, page: Any) -> None:
    """TeKrop-2217: the recorded answer and 6 more games in season 22, then 3 games in season 23."""
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    for pid in ("TeKrop-2217", "KIRIKO-12460"):
        assert request_and_wait(settings, pid).outcome == "ok"
    add_sessions(settings, store, {"TeKrop-2217": (3, 1)})  # + (1, 1) of a second hero: 6 games
    before = stored_result(store, "TeKrop-2217")
    hero = next(iter(competitive_of(before.stats, before.platform_stats)["heroes"]))
    next_one = later(before, "synthetic-season-23", {hero: (2, 1)}, hours=4)
    assert next_one.summary is not None
    next_one.summary["competitive"]["pc"]["season"] = 23
    publish(settings, store, [next_one])
    lifetime = recorded_json("players_TeKrop-2217_stats_summary_competitive.json")["general"]["games_played"] + 9

    page.goto(f"{dashboard}/player?player=TeKrop-2217&mode=competitive")
    ready(page)
    expect(_metric(page, "Games played")).to_have_text(f"{lifetime:,}")
    page.get_by_text("This season (Season 23)", exact=True).click()
    expect(_metric(page, "Games played")).to_have_text("3")
    expect(_metric(page, "Winrate")).to_have_text("66.67 %")
    expect(page).to_have_url(re.compile("season=current"))
    page.get_by_text("Last season (Season 22)", exact=True).click()
    expect(_metric(page, "Games played")).to_have_text("6")
    expect(page.get_by_text("since tracking began")).to_be_visible()

    page.goto(f"{dashboard}/history?player=TeKrop-2217&mode=competitive&season=current")
    ready(page)
    expect(page.get_by_text("3 games in 1 session")).to_be_visible()

    page.goto(f"{dashboard}/squad?players=TeKrop-2217,KIRIKO-12460&mode=competitive&season=current")
    ready(page)
    expect(page.get_by_text("Side by side (competitive, season 23)")).to_be_visible()
    expect(_row(page, "TeKrop-2217").first).to_contain_text("2 – 1")
    expect(page.get_by_text("KIRIKO-12460: no snapshot in Season 23")).to_be_visible()


def test_the_meta_in_the_browser(settings: Settings, store: Store, dashboard: str, page: Any) -> None:
    """The meta service's answers stored by the processor: the Player page's meta columns and the Meta page
    show OverFast's numbers as they came, heroes by their names."""
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    assert request_and_wait(settings, "TeKrop-2217").outcome == "ok"  # Silver 4 as support on PC
    simulator = Simulator(seed=5, players=2)
    meta_answers(settings, store, simulator)
    recorded_catalogue(settings, store)

    def rows(region: str = "europe", **params: str) -> dict[str, Any]:
        target = f"/heroes/stats?platform=pc&gamemode=competitive&region={region}"
        body = simulator.handle("GET", target + "".join(f"&{k}={v}" for k, v in params.items())).body
        return {row["hero"]: row for row in json.loads(body)}

    silver, everyone = rows(competitive_division="silver"), rows()
    page.goto(f"{dashboard}/player?player=TeKrop-2217&mode=competitive")
    ready(page)
    expect(page.get_by_text("You vs the meta")).to_be_visible()
    ana, cassidy = _row(page, "Ana").last, _row(page, "Cassidy").last
    expect(ana).to_contain_text(_percent(silver["ana"]["winrate"]))
    expect(ana).to_contain_text("Silver")
    expect(cassidy).to_contain_text(_percent(everyone["cassidy"]["winrate"]))
    expect(cassidy).to_contain_text("all divisions (unranked as damage)")

    page.goto(f"{dashboard}/meta")
    ready(page)
    expect(_metric(page, "Answers in the window")).to_have_text("2")
    expect(_metric(page, "Heroes")).to_have_text(str(len(everyone)))
    top = max(everyone.values(), key=lambda row: (row["pickrate"], row["hero"]))
    catalogue = store.heroes()
    expect(_row(page, catalogue[top["hero"]].name)).to_contain_text(_percent(top["pickrate"]))
    page.get_by_text("Quickplay", exact=True).click()
    expect(page).to_have_url(re.compile(r"/meta\?mode=quickplay$"))  # the choice is in the URL
    ready(page)
    expect(page.get_by_text("Quickplay, PC, Europe")).to_be_visible()


def test_alerts_are_set_and_cleared_on_the_watchlist_page(store: Store, dashboard: str, page: Any) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    store.watch_add("TeKrop-2217", time.time())
    page.goto(f"{dashboard}/watchlist")
    ready(page)
    expect(page.get_by_role("heading", name="Alerts")).to_be_visible()
    expect(page.get_by_text("Alerts: off")).to_be_visible()
    url = "https://discord.com/api/webhooks/123456/the-secret-token"

    page.get_by_label("Webhook URL").fill("ftp://example.com/x")
    page.get_by_role("button", name="Save alerts").click()
    expect(page.get_by_text("Not a webhook URL: a webhook URL starts with https://")).to_be_visible()
    assert store.notifications.targets(["TeKrop-2217"]) == {}

    ready(page)
    page.get_by_label("Webhook URL").fill(url)
    page.get_by_role("button", name="Save alerts").click()
    expect(page.get_by_text("TeKrop-2217's alerts go to https://discord.com/api/webhooks/123456/****")).to_be_visible()
    expect(page.get_by_text("Alerts: Discord: https://discord.com/api/webhooks/123456/****")).to_be_visible()
    ready(page)
    assert "the-secret-token" not in page.content()  # the secret is never shown, not even in the box
    target = store.notifications.targets(["TeKrop-2217"])["TeKrop-2217"]
    assert (target.url, target.format) == (url, None)

    page.get_by_role("button", name="Turn alerts off").click()
    expect(page.get_by_text("TeKrop-2217 gets no alerts any more.")).to_be_visible()
    ready(page)
    assert store.notifications.targets(["TeKrop-2217"]) == {}
