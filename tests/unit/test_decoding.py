"""owstream.decoding: the msgspec fast path gives exactly what the pydantic path gives (rows, Python types,
ranks, profile), on the recorded players and on every shape that falls back; PlayerEvent's msgspec bytes."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError
from test_store import PLAYERS, ok_result

from owstream.bus import Record
from owstream.decoding import StatsBody, decode_result
from owstream.errors import ProcessingError
from owstream.messages import ZSTD_MAGIC, FetchResult, PlayerEvent
from owstream.normalize import Snapshot, StatRow, normalize_result
from owstream.processor import parse_result


def typed(rows: list[StatRow]) -> list[tuple[tuple[str, Any, type], ...]]:
    """Each row as (field, value, type of value): 12 and 12.0 (or 1 and True) compare equal, these do not."""
    return [tuple((name, value, type(value)) for name, value in row._asdict().items()) for row in rows]


def outcome(decode: Callable[[bytes], FetchResult], raw: bytes) -> tuple[str, Any]:
    """("rows", everything normalize_result gives, typed) or ("error", the ProcessingError's message).

    ``.stats`` is read inside the try: the fast path builds rows (and finds bad blocks) lazily."""
    try:
        snap = normalize_result(decode(raw))
        assert snap is not None
        return "rows", summary_of(snap)
    except ProcessingError as exc:
        return "error", str(exc)


def summary_of(snap: Snapshot) -> dict[str, Any]:
    rows = snap.stats
    return {
        "stats": typed(rows),
        "extras": [repr(r.extra) for r in rows],  # nested types of unknown fields too
        "modes": list(snap.modes),
        "ranks": snap.ranks,
        "profile": snap.profile,
        "last_updated_at": snap.last_updated_at,
        "private": snap.private,
    }


def both(raw: bytes) -> tuple[str, Any]:
    """What both paths give for ``raw``; fails if they disagree."""
    fast, slow = outcome(decode_result, raw), outcome(FetchResult.from_bytes, raw)
    assert fast == slow
    return fast


def find(got: dict[str, Any], mode: str, scope: str, key: str) -> tuple[tuple[str, Any, type], ...]:
    """One typed row of what :func:`both` gave."""
    return next(r for r in got["stats"] if (r[0][1], r[1][1], r[2][1]) == (mode, scope, key))


def is_fast(raw: bytes) -> bool:
    return any(type(body) is StatsBody for body in decode_result(raw).stats.values())


# --- recorded players -------------------------------------------------------------------------------


@pytest.mark.parametrize("compress", [True, False], ids=["zstd", "json"])
@pytest.mark.parametrize("player", PLAYERS)
def test_recorded_player_same_rows_on_both_paths(player: str, compress: bool) -> None:
    result = ok_result(player, "r1", 1000.0)
    raw = result.to_bytes() if compress else result.model_dump_json().encode()
    assert raw.startswith(ZSTD_MAGIC) is compress
    decoded = decode_result(raw)
    assert {type(body) for body in decoded.stats.values()} == {StatsBody}  # the fast path was taken
    fast = normalize_result(decoded)
    slow = normalize_result(FetchResult.from_bytes(raw))
    assert fast is not None and slow is not None
    assert typed(fast.stats) == typed(slow.stats)
    assert [r.extra for r in fast.stats] == [None] * len(slow.stats)
    assert fast.ranks == slow.ranks and fast.profile == slow.profile
    assert fast.last_updated_at == slow.last_updated_at and fast.private is slow.private
    assert list(fast.modes) == list(slow.modes) == ["competitive", "quickplay"]
    assert len(slow.stats) == sum(1 + len(b["roles"]) + len(b["heroes"]) for b in result.stats.values())
    # the fields other than stats are what pydantic gives
    plain = FetchResult.from_bytes(raw)
    assert decoded.model_dump(exclude={"stats"}) == plain.model_dump(exclude={"stats"})


@pytest.mark.parametrize("player", PLAYERS)
def test_a_fast_path_result_serialises_again(player: str) -> None:
    raw = ok_result(player, "r1", 1000.0).to_bytes()
    decoded = decode_result(raw)
    again = FetchResult.from_bytes(decoded.to_bytes())  # msgspec writes the structs pydantic cannot
    first, second = normalize_result(decoded), normalize_result(again)
    assert first is not None and second is not None
    assert typed(first.stats) == typed(second.stats) and first.ranks == second.ranks


# --- shapes the fast path does not take (or takes only in part) ----------------------------------------


def changed(edit: Callable[[dict[str, Any]], None], player: str = "TeKrop-2217") -> bytes:
    """A recorded result with ``edit`` applied to a copy of its FetchResult as JSON, serialised."""
    message = json.loads(ok_result(player, "f1", 1.0).model_dump_json())
    edit(message)
    return FetchResult.model_validate(message).to_bytes()


def _hero(message: dict[str, Any], mode: str = "quickplay", hero: str = "ana") -> dict[str, Any]:
    block: dict[str, Any] = message["stats"][mode]["heroes"][hero]
    return block


def test_hero_with_an_unknown_field_keeps_it_in_extra() -> None:
    def edit(m: dict[str, Any]) -> None:
        _hero(m)["mvp_cards"] = 3
        _hero(m)["total"]["objective_time"] = 12.5

    raw = changed(edit)
    assert is_fast(raw)  # the body is well-formed: only that block goes the slow way
    kind, got = both(raw)
    assert kind == "rows"
    extras = {r[2][1]: r[-1][1] for r in got["stats"] if r[0][1] == "quickplay" and r[1][1] == "hero"}
    assert extras["ana"] == {"mvp_cards": 3, "total": {"objective_time": 12.5}}
    assert all(extra is None for hero, extra in extras.items() if hero != "ana")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda m: _hero(m)["total"].update(damage=-5),
            "stats.quickplay.heroes.ana.total.damage is -5, not a non-negative number",
        ),
        (
            lambda m: _hero(m, "competitive", "kiriko").update(time_played=-1),
            "stats.competitive.heroes.kiriko.time_played is -1, not a non-negative whole number",
        ),
        (
            lambda m: m["stats"]["quickplay"]["roles"]["tank"]["average"].update(deaths=-0.5),
            "stats.quickplay.roles.tank.average.deaths is -0.5, not a non-negative number",
        ),
        (
            lambda m: _hero(m).update(games_played=True),
            "stats.quickplay.heroes.ana.games_played is True, not a number",
        ),
        (
            lambda m: m["stats"]["competitive"]["general"].update(games_won=False),
            "stats.competitive.general.games_won is False, not a number",
        ),
        (
            lambda m: _hero(m).update(games_won=2.5),
            "stats.quickplay.heroes.ana.games_won is 2.5, not a non-negative whole number",
        ),
    ],
    ids=["negative-total", "negative-seconds", "negative-average", "bool-count", "bool-general", "fraction-count"],
)
def test_bad_values_raise_the_same_error_on_both_paths(edit: Callable[[dict[str, Any]], None], message: str) -> None:
    raw = changed(edit)
    assert is_fast(raw)
    assert both(raw) == ("error", message)


def test_float_count_becomes_the_same_int() -> None:
    raw = changed(lambda m: _hero(m).update(games_played=12.0, time_played=600.0))
    assert is_fast(raw)
    kind, got = both(raw)
    assert kind == "rows"
    ana = find(got, "quickplay", "hero", "ana")
    assert ana[3] == ("games_played", 12, int) and ana[6] == ("time_played", 600, int)


def test_null_blocks_are_skipped() -> None:
    def edit(m: dict[str, Any]) -> None:
        m["stats"]["quickplay"]["heroes"]["ana"] = None
        m["stats"]["competitive"]["roles"]["damage"] = None

    raw = changed(edit)
    assert is_fast(raw)
    kind, got = both(raw)
    keys = {(r[0][1], r[1][1], r[2][1]) for r in got["stats"]}
    assert kind == "rows" and ("quickplay", "hero", "ana") not in keys
    assert ("competitive", "role", "damage") not in keys and ("competitive", "role", "support") in keys
    assert ("quickplay", "hero", "ashe") in keys


@pytest.mark.parametrize("body", [{"general": None, "roles": {}, "heroes": {}}, {}, {"general": None}])
def test_a_gamemode_without_general_has_no_rows(body: dict[str, Any]) -> None:
    def edit(m: dict[str, Any]) -> None:
        m["stats"]["competitive"] = copy.deepcopy(body)

    raw = changed(edit)
    assert is_fast(raw)
    kind, got = both(raw)
    assert kind == "rows" and got["modes"] == ["quickplay"]
    assert {r[0][1] for r in got["stats"]} == {"quickplay"}


def test_general_null_with_heroes_has_no_rows() -> None:
    raw = changed(lambda m: m["stats"]["competitive"].update(general=None))
    kind, got = both(raw)
    assert kind == "rows" and got["modes"] == ["quickplay"]


def test_unknown_section_of_a_body_rides_on_the_overall_row() -> None:
    raw = changed(lambda m: m["stats"]["quickplay"].update(maps={"ilios": {"games_played": 3}}))
    assert not is_fast(raw)  # the strict shape refuses it: the whole message takes pydantic's way
    kind, got = both(raw)
    assert kind == "rows"
    overall = find(got, "quickplay", "overall", "all")
    assert overall[-1] == ("extra", {"body": {"maps": {"ilios": {"games_played": 3}}}}, dict)


def test_a_message_without_result_id_takes_the_pydantic_path() -> None:
    message = json.loads(ok_result("KIRIKO-12460", "x", 1.0).model_dump_json())
    del message["result_id"]
    raw = json.dumps(message).encode()
    result = decode_result(raw)
    assert isinstance(result, FetchResult) and result.result_id and result.result_id != "x"
    assert not any(type(b) is StatsBody for b in result.stats.values())
    snap = normalize_result(result)
    assert snap is not None and snap.stats


def test_unknown_top_level_fields_are_ignored_as_pydantic_does() -> None:
    message = json.loads(ok_result("JohnV1-1190", "x", 1.0).model_dump_json())
    message["shard"] = 7
    raw = json.dumps(message).encode()
    assert is_fast(raw)
    assert both(raw)[0] == "rows"
    assert decode_result(raw).model_dump(exclude={"stats"}) == FetchResult.from_bytes(raw).model_dump(exclude={"stats"})


def _record(value: bytes) -> Record:
    return Record(topic="owstream.fetch-results", partition=1, offset=42, key="TeKrop-2217", value=value)


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (b"this is not json", ValidationError, r"^not a FetchResult \(message: Invalid JSON"),
        (b"", ValidationError, r"^not a FetchResult \(message: Invalid JSON"),
        (b'{"player_id": "x"}', ValidationError, r"^not a FetchResult \(request_ids: Field required\)"),
        (ZSTD_MAGIC + b"\x00garbage frame", ValueError, r"^not a FetchResult \(a zstd frame that does not decompress"),
    ],
    ids=["text", "empty", "missing-fields", "corrupt-zstd"],
)
def test_undecodable_messages(value: bytes, error: type[Exception], message: str) -> None:
    with pytest.raises(error):
        decode_result(value)
    with pytest.raises(ProcessingError, match=message):
        parse_result(_record(value))


def test_a_truncated_zstd_frame_is_a_processing_error() -> None:
    whole = ok_result("TeKrop-2217", "t1", 1.0).to_bytes()
    with pytest.raises(ValueError, match="zstd"):
        decode_result(whole[: len(whole) // 2])
    with pytest.raises(ProcessingError, match="not a FetchResult"):
        parse_result(_record(whole[: len(whole) // 2]))


def test_parse_result_keeps_the_raw_value_and_origin() -> None:
    value = ok_result("TeKrop-2217", "p1", 1.0).to_bytes()
    sourced = parse_result(_record(value))
    assert (sourced.topic, sourced.partition, sourced.offset, sourced.raw) == ("owstream.fetch-results", 1, 42, value)
    assert sourced.result.result_id == "p1" and type(sourced.result.stats["quickplay"]) is StatsBody


# --- PlayerEvent bytes --------------------------------------------------------------------------------

EVENTS = [
    PlayerEvent(event_id="e1", type="fetch_started", player_id="TeKrop-2217", at=1.0),
    PlayerEvent(
        event_id="e2",
        type="fetch_stored",
        player_id="Jöhn-1190",
        at=1678536999.123456,
        request_id=None,
        data={"outcome": "upstream_error", "error": 'busy "now"\n', "retry_after": 59.5},
    ),
    PlayerEvent(
        event_id="h2:session:0",
        type="session",
        player_id="KIRIKO-12460",
        at=9000.0,
        request_id="req-1",
        data={
            "gamemode": "competitive",
            "games": 4,
            "winrate": 75.0,
            "kda": 1.0 / 3.0,
            "damage": 12345.67,
            "heroes": ["ana", "kiriko"],
            "parts": [{"hero": "ana", "time_played": 1800, "healing": 0.1 + 0.2}, {"nested": {"deep": [None, True]}}],
            "is_reset": False,
            "started_at": None,
        },
    ),
    PlayerEvent(type="rank_change", player_id="T-1", data={"to_division": None, "from_tier": 4, "season": 22}),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.type)
def test_player_event_bytes_are_pydantics(event: PlayerEvent) -> None:
    assert event.to_bytes() == event.model_dump_json().encode()
    assert PlayerEvent.from_bytes(event.to_bytes()) == event


def test_trusted_player_event_bytes_are_pydantics() -> None:
    values = {"event_id": "r:session:0", "type": "session", "player_id": "p", "at": 2.5, "request_id": None}
    event = PlayerEvent.trusted({**values, "data": {"games": 2, "kda": 2.25}})
    assert event == PlayerEvent(**values, data={"games": 2, "kda": 2.25})
    assert event.to_bytes() == event.model_dump_json().encode()
    assert PlayerEvent.from_bytes(event.to_bytes()) == event


def test_player_event_bytes_with_large_floats_hold_pydantics_values() -> None:
    event = PlayerEvent(event_id="big", type="session", player_id="p", at=1.0, data={"damage": 1e16})
    assert PlayerEvent.from_bytes(event.to_bytes()) == event  # msgspec writes 1e16 where pydantic writes 1e+16
    assert json.loads(event.to_bytes()) == json.loads(event.model_dump_json())
