"""Identities are proven, never assumed: the rules (owstream.domain.identity) on search answers of the recorded
shape (one hit, several, a hit wrongly labelled with the requested id: OverFast issue #382), and the fetcher's
identity service against the replay server of recorded answers and a real store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from owstream.domain.battletag import BattleTag
from owstream.domain.identity import (
    Hit,
    Profile,
    answer_problem,
    blizzard_of,
    case_suggestion,
    case_variants,
    judge,
    recheck_after,
    suggestion,
)
from owstream.messages import codec
from owstream.messages.bodies import PlayerSearch
from owstream.overfast import OverFastClient, RateLimiter
from owstream.services.identity import Identities, hits_of
from owstream.store import Store
from support.replay_server import RESPONSES, ReplayServer, Reply

TEKROP = BattleTag("TeKrop", "2217")
TEKROP_ID = "c65b8798bc61d6ffbba120|cfe9dd77a4382165e2b920bdcc035949"  # its Blizzard id, as the search says
JOHN_ID = "a1b2c3d4e5f6a7b8c9d0e1|0123456789abcdef0123456789abcdef"  # another account's


def recorded(name: str) -> Any:
    return json.loads((RESPONSES / name).read_text())


def search_hits(body: Any) -> list[Hit]:
    return hits_of(codec.convert(body, PlayerSearch).results)


def profile_of(name: str) -> Profile:
    summary = recorded(name)
    return Profile(summary["username"], summary["last_updated_at"], summary["last_updated_at"] is None)


def hit(player_id: str, name: str, blizzard: str, updated: int | None, public: bool = True) -> dict[str, Any]:
    return {"player_id": player_id, "name": name, "avatar": None, "namecard": None, "title": None,
            "career_url": f"http://x/players/{player_id}", "blizzard_id": blizzard.replace("|", "%7C"),
            "last_updated_at": updated, "is_public": public}  # fmt: skip


def answer(*hits: dict[str, Any]) -> dict[str, Any]:
    return {"total": len(hits), "results": list(hits)}


TEKROP_PROFILE = profile_of("players_TeKrop-2217_summary.json")
UPDATED = TEKROP_PROFILE.last_updated_at
assert UPDATED is not None


# --- the rules ---------------------------------------------------------------------------------------------


def test_the_recorded_single_hit_proves_tekrops_blizzard_id() -> None:
    verdict = judge(TEKROP, TEKROP_PROFILE, search_hits(recorded("players_search_TeKrop-2217.json")))
    assert verdict.proven and verdict.blizzard_id == TEKROP_ID


def test_a_hit_labelled_by_its_blizzard_id_proves_it_when_it_agrees() -> None:
    # the recorded search for the bare name: the hit carries the Blizzard id as its player_id
    verdict = judge(TEKROP, TEKROP_PROFILE, search_hits(recorded("players_search_TeKrop.json")))
    assert verdict.proven and verdict.blizzard_id == TEKROP_ID


def test_a_single_hit_wrongly_labelled_with_the_requested_id_is_a_mismatch() -> None:
    # OverFast #382: the only public "TeKrop" is labelled TeKrop-2217, but it is another account (updated otherwise)
    other = answer(hit("TeKrop-2217", "TeKrop", JOHN_ID, UPDATED - 86400))
    verdict = judge(TEKROP, TEKROP_PROFILE, search_hits(other))
    assert verdict.verdict == "mismatch" and verdict.blizzard_id is None
    assert "labelled TeKrop-2217" in verdict.why and "another account" in verdict.why


def test_a_private_profile_is_never_given_a_search_hit() -> None:
    private = profile_of("private_Player-137712_summary.json")
    john = recorded("players_JohnV1-1190_summary.json")
    labelled = answer(hit("Player-137712", "Player", JOHN_ID, john["last_updated_at"]))
    verdict = judge(BattleTag("Player", "137712"), private, search_hits(labelled))
    assert verdict.verdict == "private" and verdict.blizzard_id is None


def test_several_hits_prove_only_the_one_that_agrees() -> None:
    several = answer(
        hit(JOHN_ID, "TeKrop", JOHN_ID, UPDATED - 5),
        hit(TEKROP_ID, "TeKrop", TEKROP_ID, UPDATED),
        hit("d65ba781fe23cdfabe|9b3063608098cdbf1b9825d8664f4d96", "Dekk", "d65ba781fe23cdfabe|9b30", UPDATED),
    )
    verdict = judge(TEKROP, TEKROP_PROFILE, search_hits(several))
    assert verdict.proven and verdict.blizzard_id == TEKROP_ID


def test_several_hits_that_all_agree_are_ambiguous_and_none_that_agrees_is_a_mismatch() -> None:
    twins = answer(hit(JOHN_ID, "TeKrop", JOHN_ID, UPDATED), hit(TEKROP_ID, "TeKrop", TEKROP_ID, UPDATED))
    assert judge(TEKROP, TEKROP_PROFILE, search_hits(twins)).verdict == "ambiguous"
    strangers = answer(hit(JOHN_ID, "TeKrop", JOHN_ID, 1), hit(TEKROP_ID, "TeKrop", TEKROP_ID, 2))
    assert judge(TEKROP, TEKROP_PROFILE, search_hits(strangers)).verdict == "mismatch"


def test_hits_of_another_name_number_or_privacy_never_prove() -> None:
    assert judge(TEKROP, TEKROP_PROFILE, []).verdict == "not_listed"
    other_case = answer(hit("tekrop-2217", "tekrop", TEKROP_ID, UPDATED))
    assert judge(TEKROP, TEKROP_PROFILE, search_hits(other_case)).verdict == "not_listed"
    other_number = answer(hit("TeKrop-9999", "TeKrop", TEKROP_ID, UPDATED))
    assert judge(TEKROP, TEKROP_PROFILE, search_hits(other_number)).verdict == "not_listed"
    private_hit = answer(hit("TeKrop-2217", "TeKrop", TEKROP_ID, UPDATED, public=False))
    assert judge(TEKROP, TEKROP_PROFILE, search_hits(private_hit)).verdict == "mismatch"
    no_id = answer({**hit("TeKrop-2217", "TeKrop", TEKROP_ID, UPDATED), "blizzard_id": "not-an-id"})
    assert not judge(TEKROP, TEKROP_PROFILE, search_hits(no_id)).proven


def test_blizzard_ids_are_decoded_and_checked() -> None:
    assert blizzard_of("C65B8798BC61D6FFBBA120%7Ccfe9dd77a4382165e2b920bdcc035949") == TEKROP_ID
    assert blizzard_of("TeKrop-2217") is None and blizzard_of(None) is None


def test_an_answer_named_otherwise_is_not_the_players() -> None:
    assert answer_problem("TeKrop-2217", "TeKrop", by="TeKrop-2217") is None
    assert answer_problem(TEKROP_ID, "Anyone", by=TEKROP_ID) is None  # a Blizzard id names no one
    renamed = answer_problem("TeKrop-2217", "NewName", by=TEKROP_ID)
    assert renamed is not None and f"by its Blizzard id {TEKROP_ID}" in renamed and "NewName" in renamed
    cased = answer_problem("rook-33834", "Rook", by="rook-33834")
    assert cased is not None and "did you mean Rook#33834?" in cased
    assert case_suggestion("rook-33834", "Rook") == "Rook-33834"
    assert case_suggestion("rook-33834", "Other") is None and case_suggestion("Rook-33834", "Rook") is None
    assert answer_problem("Zoe\u0308-1234", "Zo\u00eb", by="Zoe\u0308-1234") is None  # the same name, NFC


def test_a_name_not_found_as_typed_is_searched_in_its_usual_spellings() -> None:
    assert case_variants("rook") == ["Rook", "ROOK"]
    assert case_variants("ROOK") == ["Rook", "rook"]
    assert case_variants("TeKrop") == ["Tekrop", "TEKROP", "tekrop"]
    tag = BattleTag("rook", "33834")
    single = search_hits(answer(hit("Rook-33834", "Rook", TEKROP_ID, 1)))
    assert suggestion(tag, "Rook-33834", single) == BattleTag("Rook", "33834")
    several = search_hits(answer(hit(TEKROP_ID, "Rook", TEKROP_ID, 1), hit(JOHN_ID, "Rook", JOHN_ID, 2)))
    assert suggestion(tag, "Rook-33834", several) is None  # no number to offer
    assert suggestion(tag, "Rook-33834", search_hits(answer(hit("Rook-33834", "Rock", TEKROP_ID, 1)))) is None


def test_an_unproven_identity_waits_longer_each_time_up_to_a_week() -> None:
    assert [recheck_after(n) for n in (1, 2, 3)] == [3600.0, 10800.0, 32400.0]
    assert recheck_after(50) == 7 * 86400.0


# --- the service: the real client against recorded answers, a real store ----------------------------------------


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def replay() -> Iterator[ReplayServer]:
    with ReplayServer() as server:
        yield server


@pytest.fixture
def client(replay: ReplayServer) -> Iterator[OverFastClient]:
    with OverFastClient(
        replay.url, rate_limit=1000, timeout=5, max_attempts=1, max_backoff=1, limiter=RateLimiter(1000, burst=1000)
    ) as made:
        yield made


@pytest.fixture
def local_store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 's.db'}") as made:
        yield made


def test_tekrop_is_proven_once_then_asked_for_by_its_blizzard_id(
    client: OverFastClient, replay: ReplayServer, local_store: Store
) -> None:
    identities = Identities(local_store, Clock(1000.0))
    who = identities.learn(client, identities.resolve("TeKrop-2217"), TEKROP_PROFILE)
    assert (who.history_id, who.upstream_id) == ("TeKrop-2217", TEKROP_ID)
    again = identities.resolve("TeKrop-2217")
    assert again.upstream_id == TEKROP_ID and again.by_blizzard_id
    assert identities.learn(client, again, TEKROP_PROFILE) == again
    assert replay.count("/players?name=TeKrop-2217") == 1  # one search, not one per fetch
    row = local_store.aliases.lookup("TeKrop-2217")
    assert row is not None and row.verdict == "proven" and row.next_check_at is None


def test_a_wrongly_labelled_hit_is_recorded_as_a_mismatch_and_searched_again_only_after_the_backoff(
    client: OverFastClient, replay: ReplayServer, local_store: Store
) -> None:
    replay.script("/players?name=TeKrop-2217", [Reply.json(200, answer(hit("TeKrop-2217", "TeKrop", JOHN_ID, 5)))])
    clock = Clock(1000.0)
    identities = Identities(local_store, clock)
    who = identities.learn(client, identities.resolve("TeKrop-2217"), TEKROP_PROFILE)
    assert (who.history_id, who.upstream_id) == ("TeKrop-2217", "TeKrop-2217")  # still asked by its BattleTag
    row = local_store.aliases.lookup("TeKrop-2217")
    assert row is not None and row.verdict == "mismatch" and row.blizzard_id is None
    assert row.next_check_at == 1000.0 + 3600.0 and "another account" in (row.why or "")
    assert local_store.aliases.owner_of(JOHN_ID) is None
    clock.now = 1000.0 + 3599.0
    identities.learn(client, identities.resolve("TeKrop-2217"), TEKROP_PROFILE)
    assert replay.count("/players?name=TeKrop-2217") == 1  # the backoff holds
    clock.now = 1000.0 + 3600.0
    proven = identities.learn(client, identities.resolve("TeKrop-2217"), TEKROP_PROFILE)  # the recorded answer
    assert proven.upstream_id == TEKROP_ID and replay.count("/players?name=TeKrop-2217") == 2


def test_a_failed_search_waits_too(client: OverFastClient, replay: ReplayServer, local_store: Store) -> None:
    replay.script("/players?name=TeKrop-2217", [Reply.json(500, {"error": "boom"})])
    identities = Identities(local_store, Clock(50.0))
    identities.learn(client, identities.resolve("TeKrop-2217"), TEKROP_PROFILE)
    row = local_store.aliases.lookup("TeKrop-2217")
    assert row is not None and row.verdict == "failed" and row.next_check_at == 50.0 + 3600.0
    identities.learn(client, identities.resolve("TeKrop-2217"), TEKROP_PROFILE)
    assert replay.count("/players?name=TeKrop-2217") == 1


def test_a_private_profile_is_not_searched(client: OverFastClient, replay: ReplayServer, local_store: Store) -> None:
    identities = Identities(local_store, Clock(1.0))
    private = profile_of("private_Player-137712_summary.json")
    who = identities.learn(client, identities.resolve("Player-137712"), private)
    assert who.upstream_id == "Player-137712" and replay.count("/players?name=Player-137712") == 0
    row = local_store.aliases.lookup("Player-137712")
    assert row is not None and row.verdict == "private" and row.next_check_at is None


def test_a_new_name_proven_with_a_known_blizzard_id_continues_that_history(
    client: OverFastClient, replay: ReplayServer, local_store: Store
) -> None:
    identities = Identities(local_store, Clock(1.0))
    identities.learn(client, identities.resolve("TeKrop-2217"), TEKROP_PROFILE)
    renamed = Profile("NewName", UPDATED + 60, private=False)
    hits = answer(hit("NewName-4321", "NewName", TEKROP_ID, UPDATED + 60))
    replay.script("/players?name=NewName-4321", [Reply.json(200, hits)])
    who = identities.learn(client, identities.resolve("NewName-4321"), renamed)
    assert (who.history_id, who.upstream_id) == ("TeKrop-2217", TEKROP_ID)
    assert identities.resolve("NewName-4321").history_id == "TeKrop-2217"


def test_a_rejected_blizzard_id_is_no_longer_used(
    client: OverFastClient, replay: ReplayServer, local_store: Store
) -> None:
    clock = Clock(1.0)
    identities = Identities(local_store, clock)
    identities.learn(client, identities.resolve("TeKrop-2217"), TEKROP_PROFILE)
    identities.reject(identities.resolve("TeKrop-2217"), "named NewName now")
    who = identities.resolve("TeKrop-2217")
    assert who.upstream_id == "TeKrop-2217" and not who.by_blizzard_id
    row = local_store.aliases.lookup("TeKrop-2217")
    assert row is not None and row.verdict == "mismatch" and row.next_check_at == 1.0 + 3600.0


def test_a_case_variant_found_by_the_search_is_suggested(
    client: OverFastClient, replay: ReplayServer, local_store: Store
) -> None:
    identities = Identities(local_store)
    replay.script("/players?name=Tekrop-2217", [Reply.json(200, answer())])
    replay.script("/players?name=TEKROP-2217", [Reply.json(200, answer())])
    replay.script("/players?name=tekrop-2217", [Reply.json(200, answer())])
    assert identities.suggest(client, "tekRop-2217") is None  # "TeKrop" is none of the usual spellings
    assert replay.count("/players?name=Tekrop-2217") == 1 and replay.count("/players?name=tekrop-2217") == 1
    replay.script("/players?name=Rook-33834", [Reply.json(200, answer(hit("Rook-33834", "Rook", TEKROP_ID, 1)))])
    assert identities.suggest(client, "rook-33834") == "Rook-33834"
    assert replay.count("/players?name=Rook-33834") == 1
    assert replay.count("/players?name=ROOK-33834") == 0  # stops at the first hit
