"""The simulator serves its own pictures: every picture URL in what it serves points at itself and answers an
SVG image, so the offline demo shows avatars and rank icons without the internet."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import pytest

from owstream.simulator import Simulator, SimulatorServer, media


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    with SimulatorServer(Simulator(seed=3)) as running:
        yield running


def get(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return answer.status, answer.headers["Content-Type"], answer.read()


def picture_urls(body: Any) -> list[str]:
    if isinstance(body, dict):
        return [u for v in body.values() for u in picture_urls(v)]
    if isinstance(body, list):
        return [u for v in body for u in picture_urls(v)]
    return [body] if isinstance(body, str) and body.startswith("http") else []


def test_every_picture_in_the_bodies_is_served_by_the_simulator(server: SimulatorServer) -> None:
    sim = server.simulator
    assert isinstance(sim, Simulator)
    ranked = next(pid for pid in sim.player_ids() if (p := sim.player(pid)) and any(
        r for ranks in p.ranks.values() for r in ranks.values()) and not p.private)  # fmt: skip
    urls: list[str] = []
    for path in (f"/players/{ranked}/summary", f"/players/{ranked}", "/heroes", "/roles", "/gamemodes"):
        status, _, body = get(server.url + path)
        assert status == 200
        urls.extend(picture_urls(json.loads(body)))
    summary = json.loads(get(f"{server.url}/players/{ranked}/summary")[2])
    assert summary["avatar"].startswith(f"{server.url}/_sim/media/avatar/")
    rank_icons = [
        r["rank_icon"] for p in summary["competitive"].values() if p for r in p.values() if isinstance(r, dict)
    ]
    assert rank_icons and all(u.startswith(f"{server.url}/_sim/media/rank/") for u in rank_icons)
    assert len(set(urls)) > 20
    for url in sorted(set(urls)):
        assert url.startswith(server.url + media.PREFIX), url
        status, kind, image = get(url)
        assert (status, kind) == (200, "image/svg+xml"), url
        assert ET.fromstring(image).tag == "{http://www.w3.org/2000/svg}svg"


def test_pictures_are_stable_and_unknown_ones_404(server: SimulatorServer) -> None:
    assert media.svg("avatar", "abc") == media.svg("avatar", "abc") != media.svg("avatar", "abd")
    assert media.svg("rank", "ultimate") is not None
    with pytest.raises(urllib.error.HTTPError) as missing:
        get(f"{server.url}/_sim/media/nonsense/x.svg")
    assert missing.value.code == 404


def test_a_simulator_without_a_server_points_at_the_default_port() -> None:
    sim = Simulator(seed=3)
    pid = sim.player_ids()[0]
    body = json.loads(sim.handle("GET", f"/players/{pid}/summary").body)
    assert body["avatar"].startswith(media.DEFAULT_BASE + media.PREFIX)
