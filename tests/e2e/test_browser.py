"""The dashboard in a real browser: broker + fetcher + processor against the replayed OverFast responses,
`streamlit run` on 127.0.0.1, Playwright driving Debian's chromium. Saves the README screenshots."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from sqlalchemy import func, select

from owstream.bus import Producer, TopicNames
from owstream.config import Settings
from owstream.dashboard.launch import streamlit_command
from owstream.localkafka import free_port
from owstream.messages import codec
from owstream.services.fetcher import Fetcher
from owstream.services.processor import Processor
from owstream.services.runner import in_background
from owstream.store import Store, schema
from support.env import owstream_env
from support.pipeline import recorded_json, request_and_wait, wait_for
from support.replay_server import ReplayServer
from support.results import Result, encoded, replace

pytestmark = [pytest.mark.kafka, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip
# Avatars and rank icons live on Blizzard's CDN: the browser may not leave 127.0.0.1, so they are
# answered with this neutral placeholder.
PLACEHOLDER_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" rx="12" '
    b'fill="#d0d4dc"/></svg>'
)
TIMEOUT_MS = 60_000


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


@pytest.fixture
def dashboard(settings: Settings, store: Store, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    log = (tmp_path / "streamlit.log").open("wb")
    proc = subprocess.Popen(
        streamlit_command(settings, port=port, address="127.0.0.1"),
        env=owstream_env(settings),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _healthy(url) or proc.poll() is not None, timeout=60, interval=0.2)
        assert proc.poll() is None, (tmp_path / "streamlit.log").read_text()
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
def page(dashboard: str) -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import Route, sync_playwright

    def local_only(route: Route) -> None:
        host = route.request.url.split("/")[2] if "://" in route.request.url else ""
        if host.startswith("127.0.0.1"):
            route.continue_()
        elif route.request.resource_type == "image":
            route.fulfill(status=200, content_type="image/svg+xml", body=PLACEHOLDER_SVG)
        else:
            route.abort()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.route("**/*", local_only)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        yield page
        context.close()
        browser.close()


def _later(result: Result, result_id: str, hero_games: dict[str, tuple[int, int]]) -> Result:
    """A synthetic second snapshot: ``result`` two hours later with competitive games added."""
    summary = copy.deepcopy(result.summary)
    assert summary is not None
    summary["last_updated_at"] += 7200
    platform = _main_platform(result)
    per_platform = copy.deepcopy(result.platform_stats)
    body = per_platform[platform]["competitive"]
    for hero, (won, lost) in hero_games.items():
        role = next(iter(body["roles"]))
        for block in (body["heroes"][hero], body["roles"][role], body["general"]):
            block["games_played"] += won + lost
            block["games_won"] += won
            block["games_lost"] += lost
            block["time_played"] += 600 * (won + lost)
            block["winrate"] = round(100 * block["games_won"] / block["games_played"], 2)
    return replace(result, result_id=result_id, request_ids=[], fetched_at=time.time(),
                summary=summary, platform_stats=per_platform)  # fmt: skip


def _main_platform(result: Result) -> str:
    """The platform the player played most (the pages' default), of a result fetched per platform."""
    played = {
        platform: sum(body["general"]["time_played"] for body in modes.values() if body)
        for platform, modes in result.platform_stats.items()
    }
    return max(played, key=lambda platform: played[platform])


def _stored_result(store: Store, player_id: str) -> Result:
    """The fetch result the pipeline stored for ``player_id`` (raw_results keeps it zstd-compressed), as JSON."""
    rr = schema.raw_results.c
    with store.engine.connect() as conn:
        payload = conn.execute(
            select(rr.payload).where(rr.player_id == player_id).order_by(rr.fetched_at.desc()).limit(1)
        ).scalar_one()
    found: Result = msgspec.json.decode(codec.decompress(payload, 1 << 24), type=Result)
    return found


def _add_sessions(settings: Settings, store: Store, players: dict[str, tuple[int, int]]) -> None:
    """Publish a later snapshot of each player to fetch-results (the processor stores it like any other)."""
    names = TopicNames(settings.topic_prefix)
    producer = Producer(settings)
    for pid, (won, lost) in players.items():
        first = _stored_result(store, pid)
        heroes = list(first.platform_stats[_main_platform(first)]["competitive"]["heroes"])[:2]
        later = _later(first, f"synthetic-{pid}", {heroes[0]: (won, lost), heroes[-1]: (1, 1)})
        producer.send(names.fetch_results, encoded(later), key=pid)
    producer.flush(15)
    producer.close()

    def sessions() -> int:
        with store.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(schema.sessions)).scalar_one())

    wait_for(lambda: sessions() >= len(players), timeout=60)


def _ready(page: Any) -> None:
    from playwright.sync_api import expect

    app = page.locator("[data-testid='stApp']")
    expect(app).to_have_attribute("data-test-connection-state", "CONNECTED")
    expect(app).to_have_attribute("data-test-script-state", "notRunning")


def _metric(page: Any, label: str) -> Any:
    return page.locator("[data-testid='stMetric']").filter(has_text=label).locator("[data-testid='stMetricValue']")


def _fetch(page: Any, text: str) -> None:
    _ready(page)
    box = page.get_by_label("BattleTag", exact=True).and_(page.locator("input"))
    box.fill(text)
    page.get_by_role("button", name="Fetch").click()


def _shot(page: Any, name: str, height: int = 900) -> None:
    """A screenshot 1280 px wide; ``height`` > 900 shows a long page whole (Streamlit scrolls inside the page)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": height})
    _ready(page)
    # st.dataframe draws on a canvas once its grid has loaded: wait for those inside the screenshot
    grids = page.locator("[data-testid='stDataFrame']")
    for i in range(grids.count()):
        box = grids.nth(i).bounding_box()
        if box is not None and box["y"] < height:
            grids.nth(i).locator("[data-testid='glide-cell-1-0']").wait_for(state="attached", timeout=TIMEOUT_MS)
    # and let the browser paint what it has (two animation frames), so no canvas is caught blank
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    page.set_viewport_size({"width": 1280, "height": 900})


def test_fetch_in_the_browser_and_screenshots(settings: Settings, store: Store, dashboard: str, page: Any) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    for pid in ("KIRIKO-12460", "JohnV1-1190"):
        assert request_and_wait(settings, pid).outcome == "ok"
    for pid in ("TeKrop-2217", "KIRIKO-12460", "JohnV1-1190"):
        store.watch_add(pid, time.time())

    page.goto(dashboard)
    _ready(page)
    _fetch(page, "TeKrop-2217")
    expect(page.get_by_text("Stored: TeKrop-2217 was fetched")).to_be_visible(timeout=TIMEOUT_MS)
    general = recorded_json("players_TeKrop-2217_stats_summary_quickplay_all.json")["general"]
    expect(_metric(page, "Games played")).to_have_text(f"{general['games_played']:,}")
    expect(_metric(page, "Winrate")).to_have_text(f"{general['winrate']:.2f} %")
    expect(_metric(page, "Time played")).to_have_text(f"{round(general['time_played'] / 3600):,} h")  # >= 100 h
    expect(page.get_by_role("rowheader", name="Support")).to_be_visible()  # the role table
    expect(page.locator(".vega-embed")).to_have_count(3)  # time played, winrate, per-10-minute charts
    _shot(page, "player", height=1900)

    _add_sessions(settings, store, {"TeKrop-2217": (3, 1), "KIRIKO-12460": (1, 2)})
    page.goto(f"{dashboard}/history?player=TeKrop-2217")
    _ready(page)
    page.get_by_text("Competitive", exact=True).click()
    expect(page.get_by_text("Play sessions")).to_be_visible()
    expect(page.locator(".vega-embed")).to_have_count(4)
    _ready(page)
    _shot(page, "history", height=1500)

    page.goto(f"{dashboard}/squad")
    _ready(page)
    page.get_by_text("Competitive", exact=True).click()
    expect(page.get_by_text("Most wins: TeKrop-2217")).to_be_visible()
    expect(page.locator("[data-testid='stDataFrame']")).to_be_visible()
    _ready(page)
    _shot(page, "squad", height=1500)

    page.goto(f"{dashboard}/pipeline")
    _ready(page)
    expect(page.get_by_text("Most recent messages")).to_be_visible()
    expect(_metric(page, "Dead letters")).to_have_text("0")
    _shot(page, "pipeline", height=1700)

    page.goto(f"{dashboard}/watchlist")
    _ready(page)
    expect(page.get_by_text("KIRIKO-12460").first).to_be_visible()
    expect(page.get_by_role("button", name="Remove")).to_have_count(3)
    _ready(page)
    _shot(page, "watchlist")

    page.goto(dashboard)
    _ready(page)
    _fetch(page, "Unknown-1234")
    expect(page.get_by_text("Player not found: OverFast does not know Unknown-1234")).to_be_visible(timeout=TIMEOUT_MS)
    _fetch(page, "bad tag!")
    expect(page.get_by_text("Invalid BattleTag: 'bad tag!' is not a BattleTag")).to_be_visible()


def _add_next_season(settings: Settings, store: Store, player_id: str, season: int, games: tuple[int, int]) -> str:
    """Publish a later snapshot of ``player_id`` that reports ``season``, with ``games`` (won, lost) of its
    first competitive hero; returns the hero."""
    before = _stored_result(store, player_id)
    hero = next(iter(before.platform_stats[_main_platform(before)]["competitive"]["heroes"]))
    later = _later(before, f"synthetic-season-{player_id}", {hero: games})
    assert later.summary is not None
    competitive = copy.deepcopy(later.summary["competitive"])
    competitive["pc"]["season"] = season
    later = replace(later, summary={**later.summary, "competitive": competitive})
    producer = Producer(settings)
    producer.send(TopicNames(settings.topic_prefix).fetch_results, encoded(later), key=player_id)
    producer.flush(15)
    producer.close()
    rr = schema.raw_results.c

    def stored() -> bool:
        with store.engine.connect() as conn:
            found = conn.execute(select(func.count()).where(rr.result_id == later.result_id)).scalar_one()
            return bool(found)

    wait_for(stored, timeout=60)
    return hero


def test_season_choice_in_the_browser(settings: Settings, store: Store, dashboard: str, page: Any) -> None:
    """TeKrop-2217: the recorded answer and 6 more games in season 22, then 3 games in season 23."""
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    for pid in ("TeKrop-2217", "KIRIKO-12460"):
        assert request_and_wait(settings, pid).outcome == "ok"
    _add_sessions(settings, store, {"TeKrop-2217": (3, 1)})  # + (1, 1) of a second hero: 6 games
    _add_next_season(settings, store, "TeKrop-2217", 23, (2, 1))
    lifetime = recorded_json("players_TeKrop-2217_stats_summary_competitive.json")["general"]["games_played"] + 9

    page.goto(f"{dashboard}/?player=TeKrop-2217")  # the Player page is the default one, at /
    _ready(page)
    page.get_by_text("Competitive", exact=True).click()
    expect(_metric(page, "Games played")).to_have_text(f"{lifetime:,}")
    page.get_by_text("This season (Season 23)", exact=True).click()
    expect(_metric(page, "Games played")).to_have_text("3")
    expect(_metric(page, "Winrate")).to_have_text("66.67 %")
    expect(page.get_by_text("Season 23: numbers since")).to_be_visible()
    page.get_by_text("Last season (Season 22)", exact=True).click()
    expect(_metric(page, "Games played")).to_have_text("6")
    expect(page.get_by_text("since tracking began")).to_be_visible()
    page.get_by_text("Lifetime", exact=True).click()
    expect(_metric(page, "Games played")).to_have_text(f"{lifetime:,}")

    page.goto(f"{dashboard}/history?player=TeKrop-2217")
    _ready(page)
    page.get_by_text("Competitive", exact=True).click()
    expect(page.get_by_text("Lifetime: 9 games in 2 sessions")).to_be_visible()
    page.get_by_text("This season (Season 23)", exact=True).click()
    expect(page.get_by_text("Season 23: 3 games in 1 session")).to_be_visible()

    page.goto(f"{dashboard}/squad")
    _ready(page)
    page.get_by_text("Competitive", exact=True).click()
    row = page.locator("[data-testid='stTable'] tr").filter(has_text="TeKrop-2217").first
    expect(row).to_contain_text(f"{lifetime:,}")
    page.get_by_text("This season (Season 23)", exact=True).click()
    expect(page.get_by_text("Side by side (competitive, Season 23)")).to_be_visible()
    expect(row).to_contain_text("2-1")
    expect(page.get_by_text("KIRIKO-12460: no snapshot in Season 23")).to_be_visible()


def _row(page: Any, header: str) -> Any:
    """The st.table row whose header cell is ``header``."""
    return page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=header, exact=True))


def test_the_meta_in_the_browser(settings: Settings, store: Store, dashboard: str, page: Any) -> None:
    """The meta service against the simulator over HTTP, twice an hour apart; the processor stores the answers;
    the Player page's meta columns and the Meta page show OverFast's numbers as they came."""
    from playwright.sync_api import expect

    from owstream.overfast.client import OverFastClient
    from owstream.services.meta import MetaService
    from owstream.simulator import Simulator, SimulatorServer

    expect.set_options(timeout=TIMEOUT_MS)
    assert request_and_wait(settings, "TeKrop-2217").outcome == "ok"  # Silver 4 as support on PC
    simulator = Simulator(seed=5, players=2)
    now = [time.time() - 3600]
    with SimulatorServer(simulator) as sim:
        meta_settings = settings.replace(overfast_url=sim.url)
        producer = Producer(meta_settings)
        with OverFastClient.from_settings(meta_settings) as client:
            service = MetaService(meta_settings, store, client=client, clock=lambda: now[0])
            service.step(producer, client)
            simulator.advance()  # the meta drifts; an hour later the service asks again
            now[0] += 3600
            service.step(producer, client)
        producer.close()
        asked = len(service.combinations)
        assert service.published == 2 * asked
        wait_for(
            lambda: len(store.hero_stats_fetched()) == asked and min(store.hero_stats_fetched().values()) == now[0]
        )

        def rows(region: str = "europe", **params: str) -> dict[str, Any]:
            target = f"/heroes/stats?platform=pc&gamemode=competitive&region={region}"
            body = simulator.handle("GET", target + "".join(f"&{k}={v}" for k, v in params.items())).body
            return {row["hero"]: row for row in json.loads(body)}

        silver, everyone = rows(competitive_division="silver"), rows()
        asia = rows("asia", competitive_division="silver")

    page.goto(f"{dashboard}/?player=TeKrop-2217")
    _ready(page)
    page.get_by_text("Competitive", exact=True).click()
    expect(page.get_by_text("You vs the meta")).to_be_visible()
    ana, cassidy = _row(page, "ana"), _row(page, "cassidy")
    expect(ana).to_contain_text(str(silver["ana"]["winrate"]))
    expect(ana).to_contain_text(str(silver["ana"]["pickrate"]))
    expect(ana).to_contain_text("Silver")
    expect(cassidy).to_contain_text(str(everyone["cassidy"]["winrate"]))
    expect(cassidy).to_contain_text("all divisions (unranked as damage)")
    _shot(page, "versus", height=1600)
    page.get_by_text("Asia", exact=True).click()
    expect(page.get_by_text("competitive players on PC, Asia")).to_be_visible()
    expect(ana).to_contain_text(str(asia["ana"]["winrate"]))

    page.goto(f"{dashboard}/meta")
    _ready(page)
    expect(_metric(page, "Answers in the window")).to_have_text("2")
    expect(_metric(page, "Heroes")).to_have_text(str(len(everyone)))
    top = max(everyone.values(), key=lambda row: (row["pickrate"], row["hero"]))
    expect(_row(page, top["hero"])).to_contain_text(str(top["pickrate"]))
    expect(page.locator(".vega-embed")).to_have_count(2)  # winrate and pick rate over time
    _shot(page, "meta", height=1700)
    page.get_by_text("Quickplay", exact=True).click()
    expect(page.get_by_text("Answers in the window")).to_be_visible()
    quickplay = json.loads(simulator.handle("GET", "/heroes/stats?platform=pc&gamemode=quickplay&region=europe").body)
    best = max(quickplay, key=lambda row: (row["pickrate"], row["hero"]))
    expect(_row(page, best["hero"])).to_contain_text(str(best["winrate"]))


def test_alerts_are_set_and_cleared_on_the_watchlist_page(store: Store, dashboard: str, page: Any) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    store.watch_add("TeKrop-2217", time.time())
    page.goto(f"{dashboard}/watchlist")
    _ready(page)
    expect(page.get_by_role("heading", name="Alerts")).to_be_visible()
    expect(page.get_by_text("off", exact=True)).to_be_visible()  # the player's Alerts column
    url = "https://discord.com/api/webhooks/123456/the-secret-token"

    page.get_by_label("Webhook URL").fill("ftp://example.com/x")
    page.get_by_role("button", name="Save alerts").click()
    expect(page.get_by_text("Not a webhook URL: a webhook URL starts with https://")).to_be_visible()
    assert store.notifications.targets(["TeKrop-2217"]) == {}

    _ready(page)
    page.get_by_label("Webhook URL").fill(url)
    page.get_by_role("button", name="Save alerts").click()
    expect(page.get_by_text("TeKrop-2217's alerts go to https://discord.com/api/webhooks/123456/****")).to_be_visible()
    expect(page.get_by_text("Discord: https://discord.com/api/webhooks/123456/****")).to_be_visible()  # the row
    _ready(page)
    assert "the-secret-token" not in page.content()  # the secret is never shown, not even in the box
    target = store.notifications.targets(["TeKrop-2217"])["TeKrop-2217"]
    assert (target.url, target.format) == (url, None)

    page.get_by_role("button", name="Turn alerts off").click()
    expect(page.get_by_text("TeKrop-2217 gets no alerts any more.")).to_be_visible()
    _ready(page)
    assert store.notifications.targets(["TeKrop-2217"]) == {}
