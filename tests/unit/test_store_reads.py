"""The store as the only read entry of the pages (owstream.store.reading): player references resolved as
typed, what is known of each squad member, the hero catalogue, the one current season, the bounded
watchlist; on real SQLite files."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from owstream.domain.heroes import Hero, hero_name
from owstream.errors import WatchlistFull
from owstream.messages import codec
from owstream.store import Store
from support.replay_server import RESPONSES
from support.results import ok_result, replace, result, src


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 'store.db'}") as opened:
        yield opened


def catalogue() -> list[Hero]:
    found = codec.decode_heroes((RESPONSES / "heroes.json").read_bytes())
    return [Hero(h.key, h.name, h.role, h.portrait) for h in found]


def test_a_battletag_resolves_as_people_type_it_and_an_unknown_one_names_nobody(store: Store) -> None:
    store.apply_results(src(ok_result("TeKrop-2217", "t1", 1.0)))
    for text in ("TeKrop#2217", "TeKrop-2217", " TeKrop#2217 "):
        found = store.resolve(text)
        assert (found.player_id, found.history, found.stored) == ("TeKrop-2217", "TeKrop-2217", True)
    unknown = store.resolve("Nobody-1111")
    assert (unknown.player_id, unknown.history, unknown.stored) == ("Nobody-1111", None, False)
    invalid = store.resolve("not a tag!")
    assert invalid.player_id is None and invalid.problem is not None and "BattleTag" in invalid.problem


def test_a_blizzard_id_and_a_new_battletag_resolve_to_the_history_they_belong_to(store: Store) -> None:
    store.apply_results(src(ok_result("TeKrop-2217", "t1", 1.0)))
    store.aliases.add("TeKrop-2217", "TeKrop-2217", "abc123|def456", 2.0)
    store.aliases.add("NewName-2217", "TeKrop-2217", "abc123|def456", 3.0)
    assert store.resolve("ABC123%7Cdef456").history == "TeKrop-2217"
    assert store.resolve("NewName#2217").history == "TeKrop-2217"
    view = store.player_view("NewName-2217", "competitive")
    assert view is not None and view.profile["player_id"] == "TeKrop-2217"


def test_members_say_stored_private_and_unknown_with_when_overfast_checks_again(store: Store) -> None:
    store.apply_results(src(ok_result("TeKrop-2217", "t1", 1.0)))
    store.apply_results(
        src(result(result_id="n1", player_id="Unknown-1234", fetched_at=2.0, outcome="not_found", status=404,
                   error="Player not found", retry_after=600))
    )  # fmt: skip
    tekrop, unknown, never = store.members(["TeKrop#2217", "Unknown-1234", "Never-1234"])
    assert (tekrop.player_id, tekrop.stored, tekrop.private, tekrop.last_outcome) == ("TeKrop-2217", True, False, "ok")
    assert (unknown.stored, unknown.last_outcome, unknown.retry_after) == (False, "not_found", 600)
    assert (never.player_id, never.stored, never.last_outcome) == ("Never-1234", False, None)


def test_the_hero_catalogue_is_stored_updated_and_names_heroes_everywhere(store: Store) -> None:
    assert store.heroes() == {}
    assert store.put_heroes(catalogue(), 10.0) == 52
    stored = store.heroes()
    assert stored["soldier-76"] == Hero("soldier-76", "Soldier: 76", "damage", stored["soldier-76"].portrait)
    assert stored["soldier-76"].portrait and stored["soldier-76"].portrait.startswith("https://")
    assert hero_name("lucio", stored) == "Lúcio" and hero_name("dva", stored) == "D.Va"
    assert hero_name("new-hero", stored) == "New Hero"  # not catalogued yet: named from its key
    store.put_heroes([Hero("dva", "D.Va (renamed)", "tank", None)], 20.0)  # an update, the others kept
    assert store.heroes()["dva"].name == "D.Va (renamed)" and len(store.heroes()) == 52
    assert store.hero_roles()["ana"] == "support"


def test_the_cli_report_carries_the_display_names_of_its_heroes(store: Store) -> None:
    store.put_heroes(catalogue(), 10.0)
    store.apply_results(src(ok_result("TeKrop-2217", "t1", 1.0)))
    report = store.player_report("TeKrop-2217")
    assert report is not None
    heroes = {key for block in report["gamemodes"].values() for key in block["heroes"]}
    assert set(report["hero_names"]) == heroes and report["hero_names"]["ana"] == "Ana"
    json.dumps(report)  # still one JSON object


def test_the_current_season_is_the_newest_any_snapshot_reports(store: Store) -> None:
    assert store.current_season() is None
    first = ok_result("TeKrop-2217", "t1", 1.0)
    store.apply_results(src(first, ok_result("KIRIKO-12460", "k1", 2.0)))
    reported = max(p["season"] for p in (first.summary or {})["competitive"].values() if p and p.get("season"))
    assert store.current_season() == reported
    later = copy.deepcopy(first.summary or {})
    later["competitive"]["pc"]["season"] = reported + 1
    later["last_updated_at"] += 60
    store.apply_results(src(replace(first, result_id="t2", request_ids=["q2"], fetched_at=3.0, summary=later)))
    assert store.current_season() == reported + 1


def test_the_watchlist_is_bounded(store: Store) -> None:
    assert store.watch_add("A-1234", 1.0, limit=2) and store.watch_add("B-1234", 1.0, limit=2)
    assert not store.watch_add("A-1234", 2.0, limit=2)  # already there: not refused for the bound
    with pytest.raises(WatchlistFull, match="at most 2"):
        store.watch_add("C-1234", 3.0, limit=2)
    assert [e.player_id for e in store.watchlist()] == ["A-1234", "B-1234"]
