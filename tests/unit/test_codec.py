"""owstream.messages.codec: messages to plain JSON and back, the one decode path of results, and every bound it
keeps (sizes, zstd bombs, nesting, numbers, text): what fails is a one-line ProcessingError, never a crash."""

from __future__ import annotations

import copy
import json
import struct
from collections.abc import Callable
from typing import Any

import pytest
import zstandard

from owstream.bus import Record
from owstream.domain.normalize import normalize_result
from owstream.errors import ProcessingError
from owstream.messages import codec, contracts
from owstream.messages.bodies import StatBlock, StatsBlocks, StatsSummary
from owstream.messages.models import (
    FetchRequest,
    FetchStarted,
    FetchStored,
    NotFoundData,
    PlayerNotFound,
    PrivacyChanged,
    PrivacyData,
    RankChanged,
    RankChangeData,
    SessionData,
    SessionFound,
    StoredData,
)
from owstream.services.processor import parse_result
from support.results import PLAYERS, checked, encoded, ok_result, recorded


def message(edit: Callable[[dict[str, Any]], None], player: str = "TeKrop-2217") -> bytes:
    """A recorded result's JSON with ``edit`` applied."""
    value = json.loads(encoded(ok_result(player, "f1", 1.0)))
    edit(value)
    return json.dumps(value).encode()


def _hero(value: dict[str, Any], mode: str = "quickplay", hero: str = "ana") -> dict[str, Any]:
    block: dict[str, Any] = value["stats"][mode]["heroes"][hero]
    return block


def _record(value: bytes, headers: dict[str, bytes] | None = None) -> Record:
    return Record("owstream.fetch-results", 1, 42, "TeKrop-2217", value, headers or {})


# --- the wire ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("player", PLAYERS)
def test_results_travel_as_plain_json_and_decode_checked(player: str) -> None:
    value = encoded(ok_result(player, "r1", 1000.0))
    as_json = json.loads(value)  # any JSON reader reads it
    assert as_json["stats"]["competitive"] == recorded(f"players_{player}_stats_summary_competitive_all.json")
    result = codec.decode_result(value)
    assert isinstance(result.stats["quickplay"], StatsSummary)
    assert isinstance(result.stats["quickplay"].general, StatBlock)
    assert result.summary is not None and result.summary.username == as_json["summary"]["username"]
    assert codec.decode_result(codec.encode(result)) == result  # a checked result encodes to the same result


@pytest.mark.parametrize("player", PLAYERS)
def test_old_zstd_framed_values_decode_to_the_same_result(player: str) -> None:
    value = encoded(ok_result(player, "r1", 1000.0))
    old = zstandard.ZstdCompressor(level=3).compress(value)
    assert old.startswith(codec.ZSTD_MAGIC)
    assert codec.decode_result(old) == codec.decode_result(value)


def test_the_fetcher_embeds_overfast_bytes_as_they_came() -> None:
    summary = b'{"username": "TeKrop",  "avatar": null, "new_field": [1, 2]}'
    stats = {"quickplay": b'{"general": {"games_played": 1, "time_played": 60}, "maps": {"ilios": 3}}'}
    wire = codec.wire_result(
        request_ids=["q"], player_id="TeKrop-2217", fetched_at=1.0, outcome="ok", summary=summary, stats=stats
    )
    value = codec.encode(wire)
    assert summary in value and stats["quickplay"] in value  # fields this version does not know are kept
    result = codec.decode_result(value)
    assert result.summary is not None and result.summary.username == "TeKrop"
    assert result.stats["quickplay"].general == StatBlock(games_played=1, time_played=60)


def test_a_request_needs_only_a_player_id() -> None:
    request = codec.decode_request(b'{"player_id": "TeKrop-2217"}\n')
    assert request == FetchRequest(player_id="TeKrop-2217")
    assert (request.request_id, request.force, request.requested_at, request.source) == (None, False, None, "kafka")


EVENTS = [
    FetchStarted(event_id="e1", player_id="TeKrop-2217", at=1.0, request_id="r1"),
    FetchStored(
        event_id="e2",
        player_id="Jöhn-1190",
        at=1678536999.123456,
        request_id="r2",
        data=StoredData(outcome="upstream_error", error='busy "now"\n', retry_after=59.5),
    ),
    SessionFound(
        event_id="h2:session:0",
        player_id="KIRIKO-12460",
        at=9000.0,
        data=SessionData(
            gamemode="competitive",
            is_reset=False,
            games=4,
            wins=3,
            losses=1,
            winrate=75.0,
            kda=1 / 3,
            time_played=2400,
            eliminations=1e15,  # the largest total a stats block may hold
            assists=0.0,
            deaths=3.0,
            damage=12345.67,
            healing=0.1 + 0.2,
            heroes=["ana", "kiriko"],
            started_at=None,
            ended_at=5,
        ),
    ),
    RankChanged(event_id="e4", player_id="T-123", at=1.0, data=RankChangeData(platform="pc", role="tank", from_tier=4)),
    PrivacyChanged(event_id="e5", player_id="T-123", at=1.0, data=PrivacyData(private=True)),
    PlayerNotFound(event_id="e6", player_id="T-123", at=1.0, data=NotFoundData(retry_after=600.0)),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.type)
def test_every_event_type_round_trips_with_its_type_on_the_wire(event: Any) -> None:
    value = codec.encode(event)
    assert json.loads(value)["type"] == event.type
    assert codec.decode_event(value) == event


def test_events_written_by_the_previous_version_still_decode() -> None:
    old = {
        "event_id": "x:session:0",
        "type": "session",
        "player_id": "TeKrop-2217",
        "at": 2.5,
        "request_id": None,
        "data": {
            "gamemode": "quickplay", "is_reset": False, "games": 2, "wins": 1, "losses": 1, "winrate": 50.0,
            "kda": 2.25, "time_played": 600, "eliminations": 10, "assists": 2, "deaths": 4, "damage": 9000,
            "healing": 0, "heroes": ["ana"], "started_at": 1, "ended_at": 2,
        },
    }  # fmt: skip
    event = codec.decode_event(json.dumps(old).encode())
    assert isinstance(event, SessionFound) and event.data.games == 2 and event.data.heroes == ["ana"]
    started = codec.decode_event(b'{"event_id":"e","type":"fetch_started","player_id":"A-123","at":1,"data":{}}')
    assert isinstance(started, FetchStarted)


# --- bounds: what no value on a topic may do -------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "message_re"),
    [
        (lambda m: _hero(m)["total"].update(damage=-5), r"stats\.quickplay\.heroes\.ana\.total\.damage: expected"),
        (lambda m: _hero(m, "competitive", "kiriko").update(time_played=-1), r"heroes\.kiriko\.time_played"),
        (lambda m: m["stats"]["quickplay"]["roles"]["tank"]["average"].update(deaths=-0.5), r"tank\.average\.deaths"),
        (lambda m: _hero(m).update(games_played=True), r"heroes\.ana\.games_played: expected `int`, got `bool`"),
        (lambda m: m["stats"]["competitive"]["general"].update(games_won=False), r"general\.games_won"),
        (lambda m: _hero(m).update(games_won=2.5), r"heroes\.ana\.games_won: expected `int`, got `float`"),
        (lambda m: _hero(m).update(games_played="many"), r"heroes\.ana\.games_played"),
        (lambda m: _hero(m).update(games_played=10**20), r"heroes\.ana\.games_played: expected `int` <= 2147483647"),
        (lambda m: _hero(m).update(winrate=250), r"heroes\.ana\.winrate: expected `float` <= 100"),
        (lambda m: m.update(error="x" * 1_000_000), r"^not a FetchResult \(error: expected `str` of length <= 2000"),
        (lambda m: m["summary"].update(title="t" * 500), r"summary\.title"),
        (lambda m: m["stats"]["quickplay"].update(heroes=["ana"]), r"stats\.quickplay\.heroes: expected `object`"),
        (lambda m: m.pop("result_id"), r"missing required field `result_id`"),
        (lambda m: m["stats"].update(ranked={}), r"stats: invalid enum value 'ranked'"),
        (lambda m: m["summary"]["competitive"]["pc"]["support"].update(division="iron"), r"division"),
    ],
    ids=[
        "negative-total", "negative-seconds", "negative-average", "bool-count", "bool-general", "fraction-count",
        "text-count", "huge-count", "winrate-over-100", "huge-error", "long-title", "heroes-list", "no-result-id",
        "unknown-gamemode", "unknown-division",
    ],
)  # fmt: skip
def test_bad_values_are_one_line_processing_errors_naming_the_field(
    edit: Callable[[dict[str, Any]], None], message_re: str
) -> None:
    with pytest.raises(ProcessingError, match=message_re) as info:
        codec.decode_result(message(edit))
    assert "\n" not in str(info.value) and len(str(info.value)) < 500


def test_representation_is_lax_numbers_are_not() -> None:
    result = codec.decode_result(message(lambda m: _hero(m).update(games_played=12.0, time_played="600")))
    ana = result.stats["quickplay"].heroes["ana"]
    assert ana is not None and (ana.games_played, ana.time_played) == (12, 600)
    assert type(ana.games_played) is int


def test_unknown_fields_are_ignored_where_they_appear() -> None:
    def edit(m: dict[str, Any]) -> None:
        m["shard"] = 7
        m["stats"]["quickplay"]["maps"] = {"ilios": {"games_played": 3}}
        _hero(m)["mvp_cards"] = 3
        _hero(m)["total"]["objective_time"] = 12.5

    assert codec.decode_result(message(edit)) == checked(ok_result("TeKrop-2217", "f1", 1.0))


def zstd_claiming(size: int) -> bytes:
    """A 17-byte zstd frame whose header claims ``size`` bytes of content (one raw block of 1 byte)."""
    return codec.ZSTD_MAGIC + bytes([0xE0]) + struct.pack("<Q", size) + b"\x09\x00\x00x"


@pytest.mark.parametrize(
    ("value", "message_re"),
    [
        (b"this is not json", r"^not a FetchResult \(not JSON: "),
        (b"", r"^not a FetchResult \(not JSON: "),
        (b'{"player_id": "TeKrop-2217"}', r"^not a FetchResult \(.*missing required field"),
        (codec.ZSTD_MAGIC + b"\x00garbage frame", r"a zstd frame that does not decompress"),
        (zstd_claiming(64 << 30), r"a zstd frame claiming 68,719,476,736 bytes, more than the 16,777,216 allowed"),
        (b'{"shard": ' + b"[" * 200_000 + b"]" * 200_000 + b"}", r"JSON nested too deeply"),
        (b" " * (codec.MAX_VALUE + 1), r"the value has 8,388,609 bytes, more than the 8,388,608"),
        (b'{"player_id": "\xff\xfe-1234"}', r"^not a FetchResult \(a string that is not UTF-8: invalid start byte\)$"),
    ],
    ids=["text", "empty", "missing-fields", "corrupt-zstd", "zstd-bomb", "deep-nesting", "oversize", "not-utf8"],
)
def test_undecodable_values(value: bytes, message_re: str) -> None:
    with pytest.raises(ProcessingError, match=message_re):
        codec.decode_result(value)
    with pytest.raises(ProcessingError, match=message_re):
        parse_result(_record(value))


def test_a_zstd_frame_without_a_size_is_read_only_up_to_the_limit() -> None:
    big = zstandard.ZstdCompressor(write_content_size=False).compress(b" " * (codec.MAX_INFLATED + 10))
    assert len(big) < 10_000
    with pytest.raises(ProcessingError, match="holding more than"):
        codec.decode_result(big)


def test_a_truncated_zstd_frame_is_a_processing_error() -> None:
    whole = zstandard.ZstdCompressor().compress(encoded(ok_result("TeKrop-2217", "t1", 1.0)))
    with pytest.raises(ProcessingError, match="not a FetchResult"):
        parse_result(_record(whole[: len(whole) // 2]))


def test_parse_result_keeps_the_raw_value_and_origin() -> None:
    value = encoded(ok_result("TeKrop-2217", "p1", 1.0))
    sourced = parse_result(_record(value, {"schema": b"fetch-result/1", "content-type": b"application/json"}))
    assert (sourced.topic, sourced.partition, sourced.offset, sourced.raw) == ("owstream.fetch-results", 1, 42, value)
    assert sourced.result.result_id == "p1"


@pytest.mark.parametrize("header", [b"fetch-result/2", b"player-event/1", b"fetch-result", b"fetch-result/x"])
def test_a_schema_header_this_version_does_not_read_is_refused(header: bytes) -> None:
    value = encoded(ok_result("TeKrop-2217", "p1", 1.0))
    with pytest.raises(ProcessingError, match=r"schema .* is not one this version reads \(fetch-result/1"):
        parse_result(_record(value, {"schema": header}))


def test_headers_say_json_and_the_schema() -> None:
    assert contracts.FETCH_RESULT.headers == [("content-type", b"application/json"), ("schema", b"fetch-result/1")]
    assert contracts.PLAYER_EVENT.schema_id == "player-event/1"


def test_store_payloads_compress_and_decompress() -> None:
    value = encoded(ok_result("KIRIKO-12460", "c1", 1.0))
    frame = codec.compress(value)
    assert len(frame) < len(value) / 3 and codec.decompress(frame, len(value)) == value
    with pytest.raises(ProcessingError):
        codec.decompress(frame, len(value) - 1)


def test_a_copy_of_a_result_is_equal_only_when_its_blocks_are() -> None:
    first = checked(ok_result("TeKrop-2217", "a", 1.0))
    value = json.loads(encoded(ok_result("TeKrop-2217", "a", 1.0)))
    edited = copy.deepcopy(value)
    edited["stats"]["quickplay"]["heroes"]["ana"]["games_played"] += 1
    assert codec.decode_result(json.dumps(value).encode()) == first
    assert codec.decode_result(json.dumps(edited).encode()) != first


_BLOCK_EDITS = [
    (lambda m: _hero(m)["total"].update(damage=-5), r"stats\.quickplay\.heroes\.ana\.total\.damage: expected"),
    (lambda m: _hero(m, "competitive", "kiriko").update(time_played=-1), r"heroes\.kiriko\.time_played"),
    (lambda m: m["stats"]["quickplay"]["roles"]["tank"]["average"].update(deaths=-1), r"roles\.tank\.average\.deaths"),
    (lambda m: _hero(m).update(games_played=True), r"heroes\.ana\.games_played: expected `int`, got `bool`"),
    (lambda m: m["stats"]["competitive"]["general"].update(games_won=False), r"competitive\.general\.games_won"),
    (lambda m: _hero(m).update(games_played=10**20), r"heroes\.ana\.games_played: expected `int` <= 2147483647"),
    (lambda m: _hero(m).update(winrate=250), r"heroes\.ana\.winrate: expected `float` <= 100"),
    (lambda m: m["stats"]["quickplay"]["heroes"].update(ana=[1]), r"heroes\.ana: expected `object \| null`, got `arr"),
]  # fmt: skip


@pytest.mark.parametrize(("edit", "message_re"), _BLOCK_EDITS)
def test_the_processor_refuses_a_bad_block_as_a_reader_would(
    edit: Callable[[dict[str, Any]], None], message_re: str
) -> None:
    """The processor decodes stats blocks only when it uses them (StoreResult): a bad block is refused then,
    with the message a full decode gives."""
    value = message(edit)
    with pytest.raises(ProcessingError, match=message_re) as full:
        codec.decode_result(value)
    snapshot = normalize_result(codec.decode_stored(value))  # the summary and the keys checked; blocks later
    assert snapshot is not None
    with pytest.raises(ProcessingError, match=message_re) as lazy:
        for mode in snapshot.modes.values():
            mode.rows()
    assert str(lazy.value) == str(full.value)


def test_a_block_whose_string_is_not_utf8_is_refused_lazily_as_fully() -> None:
    """A block is kept as bytes by the processor's first decode and checked when it is used; a string that is
    not UTF-8 where a number belongs is a ProcessingError both ways (the full decode's search for the
    hero's name, which reads the JSON again, once let its UnicodeDecodeError through)."""
    value = message(lambda m: _hero(m)["total"].update(damage="NOT_UTF8"))
    value = value.replace(b'"NOT_UTF8"', b'"\xff\xfe"')
    with pytest.raises(ProcessingError, match=r"total\.damage: expected `float \| null`, got `str`"):
        codec.decode_result(value)
    snapshot = normalize_result(codec.decode_stored(value))
    assert snapshot is not None
    with pytest.raises(ProcessingError, match=r"heroes\.ana\.total\.damage: expected `float \| null`, got `str`"):
        for mode in snapshot.modes.values():
            mode.rows()


def test_stored_results_read_the_same_json_as_checked_ones() -> None:
    """StatsBlocks is StatsSummary with its blocks as bytes: the same fields, the same key rule."""
    assert StatsBlocks.__struct_fields__ == StatsSummary.__struct_fields__
    bad_key = message(lambda m: m["stats"]["quickplay"]["heroes"].update({"Ana <b>": None}))
    for decode in (codec.decode_result, codec.decode_stored):
        with pytest.raises(ProcessingError, match=r"stats\.quickplay: key 'Ana <b>' is not a lowercase slug"):
            decode(bad_key)


def test_a_request_whose_string_is_not_utf8_is_refused_not_raised() -> None:
    # msgspec raises UnicodeDecodeError (not a DecodeError) for bytes that are not UTF-8 inside a string: a
    # fetcher that let it through died on one such request
    with pytest.raises(ProcessingError, match=r"^not a FetchRequest \(a string that is not UTF-8: "):
        codec.decode_request(b'{"player_id": "\xff\xfe-1234"}')
