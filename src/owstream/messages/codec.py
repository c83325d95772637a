"""Bytes to messages and back: the one place that encodes and decodes JSON (msgspec) and zstd frames.

Every decode bounds what it accepts, so that no value on a topic can stop a service: the size of a value
(:data:`MAX_VALUE`), the decompressed size of an old zstd-framed value (:data:`MAX_INFLATED`: a 25-byte frame
claiming 64 GiB is refused before anything is allocated), the nesting depth (msgspec's recursion limit,
reported instead of raised), strings that are not UTF-8, and every number and string the models bound. What
fails raises :class:`~owstream.errors.ProcessingError` whose message says why in one line; callers dead-letter it.

Decoding is lax about representation only: a whole float is a count (``12.0`` games is 12), a number in a
string is a number. Booleans are never counts, fractions never games.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import threading
from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec
import zstandard

from owstream.errors import ProcessingError
from owstream.messages.bodies import HeroList, HeroStat, HeroStats, HeroSummary, StatBlock
from owstream.messages.models import (
    KEPT_REQUEST_IDS,
    CheckedResult,
    FetchRequest,
    FetchResult,
    PlayerEvent,
    StoreResult,
    WireHeroStats,
    WireResult,
    new_id,
)

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"  # the first bytes of a zstd frame (never of JSON)
MAX_VALUE = 8 * 1024 * 1024  # the topics' max.message.bytes
MAX_INFLATED = 16 * 1024 * 1024  # an old zstd-framed value may hold this much JSON, no more
MAX_EVENT = 64 * 1024  # a player event's value, at most (a session with every hero is ~2 KB)
MAX_AHEAD = 300.0  # seconds a result's fetched_at may be ahead of its reader's clock

_T = TypeVar("_T")
log = logging.getLogger(__name__)
_ENCODER = msgspec.json.Encoder()
_REQUEST = msgspec.json.Decoder(FetchRequest, strict=False)
_RESULT = msgspec.json.Decoder(CheckedResult, strict=False)
_STORED = msgspec.json.Decoder(StoreResult, strict=False)
_BLOCK = msgspec.json.Decoder(StatBlock | None, strict=False)  # as StatsSummary reads one: the same errors
_EVENT = msgspec.json.Decoder(PlayerEvent, strict=False)
_ANY = msgspec.json.Decoder()
_HERO_ROWS = msgspec.json.Decoder(HeroStats, strict=False)
_HERO_ANSWER = msgspec.json.Decoder(WireHeroStats, strict=False)
_HERO_LIST = msgspec.json.Decoder(HeroList, strict=False)
_DECODERS: dict[type[Any], msgspec.json.Decoder[Any]] = {}
_WHERE = re.compile(r"^(?P<what>.*?)(?: - at (?:`key` in )?`\$(?P<path>[^`]*)`)?$", re.DOTALL)


def encode(message: Any) -> bytes:
    """A message (or any msgspec-encodable value) as compact UTF-8 JSON."""
    return _ENCODER.encode(message)


def wire_result(
    *,
    summary: bytes | None = None,
    stats: Mapping[str, bytes] | None = None,
    platform_stats: Mapping[str, Mapping[str, bytes]] | None = None,
    **fields: Any,
) -> WireResult:
    """A result as the fetcher writes it: OverFast's bodies as the bytes they came in (checked by the client),
    so that fields this version does not know stay in the history."""
    fields.setdefault("result_id", new_id())
    asked = list(dict.fromkeys(fields.get("request_ids", ())))  # a repeated id is one request
    if len(asked) > KEPT_REQUEST_IDS:  # the first ones are answered; the others' followers time out, told so in the log
        player = fields.get("player_id")
        log.warning("a fetch of %s answers %d requests: the first %d kept", player, len(asked), KEPT_REQUEST_IDS)
        asked = asked[:KEPT_REQUEST_IDS]
    fields["request_ids"] = asked
    per_platform = {
        platform: {mode: msgspec.Raw(body) for mode, body in modes.items()}
        for platform, modes in (platform_stats or {}).items()
    }
    return WireResult(
        summary=None if summary is None else msgspec.Raw(summary),
        stats={mode: msgspec.Raw(body) for mode, body in (stats or {}).items()},  # type: ignore[misc]
        platform_stats=per_platform,  # type: ignore[arg-type]
        **fields,
    )


def wire_hero_stats(heroes: bytes, **fields: Any) -> WireHeroStats:
    """An answer of ``/heroes/stats`` as the meta service writes it: OverFast's array as the bytes it came in."""
    fields.setdefault("answer_id", new_id())
    return WireHeroStats(heroes=msgspec.Raw(heroes), **fields)


def decode_request(value: bytes) -> FetchRequest:
    request: FetchRequest = _decode(_REQUEST, value, "FetchRequest")
    return request


def decode_result(value: bytes) -> CheckedResult:
    """A fetch result, its OverFast bodies checked against their models."""
    result: CheckedResult = _decode(_RESULT, value, "FetchResult")
    return result


def decode_stored(value: bytes) -> StoreResult:
    """A fetch result as the processor reads it: the summary checked, the stats blocks left as their bytes
    for :func:`decode_block` (the keys checked)."""
    result: StoreResult = _decode(_STORED, value, "FetchResult")
    return result


def decode_block(raw: msgspec.Raw | bytes, where: str) -> StatBlock:
    """One stats block of a :data:`StoreResult` checked (``null`` is not a block: absent ones are left out);
    ``where`` is its path in the result (``stats.quickplay.heroes.ana``), for the error, which reads as
    :func:`decode_result`'s would. The block lies within a result decoded already: its size and nesting are
    bounded, and it is JSON."""
    try:
        block: StatBlock | None = _BLOCK.decode(raw)
    except msgspec.ValidationError as exc:
        raise ProcessingError(f"not a FetchResult ({_reason(exc, _BLOCK, bytes(raw), within=where)})") from exc
    except msgspec.DecodeError as exc:  # not reached for a block of a decoded result
        raise ProcessingError(f"not a FetchResult ({where}: not JSON: {exc})") from exc
    except UnicodeDecodeError as exc:  # a block holds no strings, but its bytes were skipped unread before
        raise ProcessingError(f"not a FetchResult (a string that is not UTF-8: {exc.reason})") from exc
    if block is None:  # absent blocks are left out before: not reached
        raise ProcessingError(f"not a FetchResult ({where}: a null block)")
    return block


def decode_event(value: bytes) -> PlayerEvent:
    """A player event (at most :data:`MAX_EVENT` bytes: an event says little; a forged 5 MB one is refused
    before it is parsed, so it never reaches a webhook or a page)."""
    if len(value) > MAX_EVENT:
        raise ProcessingError(
            f"not a PlayerEvent (it has {len(value):,} bytes, more than the {MAX_EVENT:,} an event may have)"
        )
    event: PlayerEvent = _decode(_EVENT, value, "PlayerEvent")
    return event


def check_fetched_at(result: FetchResult[Any, Any], now: float) -> None:
    """ProcessingError for a result fetched later than ``now`` (the reader's clock) plus :data:`MAX_AHEAD`
    seconds: stored, a fetch time in the future would make its player look fresh until then (never fetched
    again). Clocks apart by less than MAX_AHEAD are told apart from a forgery."""
    if result.fetched_at > now + MAX_AHEAD:
        raise ProcessingError(
            f"not a FetchResult (fetched_at: {result.fetched_at:.0f} is {result.fetched_at - now:,.0f} s ahead of "
            f"this reader's clock; at most {MAX_AHEAD:.0f} s are allowed)"
        )


def decode_hero_rows(body: bytes) -> list[HeroStat]:
    """The body of ``GET /heroes/stats`` (an array of rows, at most MAX_HERO_ROWS) checked as HeroStat rows."""
    rows: list[HeroStat] = _decode(_HERO_ROWS, body, "hero stats array")
    return rows


def decode_heroes(body: bytes) -> list[HeroSummary]:
    """The body of ``GET /heroes`` (an array of heroes, at most MAX_HERO_ROWS) checked as HeroSummary rows."""
    heroes: list[HeroSummary] = _decode(_HERO_LIST, body, "heroes array")
    return heroes


def decode_hero_stats(value: bytes) -> tuple[WireHeroStats, list[HeroStat]]:
    """A hero-stats message: the answer with OverFast's array as it came (``bytes(answer.heroes)``), and that
    array's rows checked."""
    answer: WireHeroStats = _decode(_HERO_ANSWER, value, "HeroStatsAnswer")
    try:
        rows = decode_hero_rows(bytes(answer.heroes))
    except ProcessingError as exc:
        reason = str(exc).removeprefix("not a hero stats array (").removesuffix(")")
        where = "heroes" if reason.startswith("[") else "heroes: "
        raise ProcessingError(f"not a HeroStatsAnswer ({where}{reason})") from exc
    return answer, rows


def decode_as(value: bytes, model: type[_T]) -> _T:
    """``value`` as ``model`` (an OverFast body for the client, any other model)."""
    decoder = _DECODERS.get(model)
    if decoder is None:
        decoder = _DECODERS[model] = msgspec.json.Decoder(model, strict=False)
    result: _T = _decode(decoder, value, model.__name__)
    return result


def decode_json(value: bytes) -> Any:
    """Any JSON value (bounded like the rest); ProcessingError if it is not JSON."""
    return _decode(_ANY, value, "JSON")


def convert(data: Any, model: type[_T]) -> _T:
    """Python data (from :func:`decode_json`, or built in code) checked as ``model``."""
    try:
        return msgspec.convert(data, model, strict=False)
    except msgspec.ValidationError as exc:
        raise ProcessingError(f"not a {model.__name__} ({_reason(exc)})") from exc


def to_builtins(message: Any) -> Any:
    """A message as plain dicts, lists and numbers (what its JSON holds)."""
    return msgspec.to_builtins(message)


def _decode(decoder: msgspec.json.Decoder[Any], value: bytes, name: str) -> Any:
    data = inflate(value)
    try:
        return decoder.decode(data)
    except msgspec.ValidationError as exc:
        raise ProcessingError(f"not a {name} ({_reason(exc, decoder, data)})") from exc
    except msgspec.DecodeError as exc:
        raise ProcessingError(f"not a {name} (not JSON: {exc})") from exc
    except UnicodeDecodeError as exc:  # msgspec raises it for a string that is not UTF-8
        raise ProcessingError(f"not a {name} (a string that is not UTF-8: {exc.reason})") from exc
    except RecursionError:
        raise ProcessingError(f"not a {name} (JSON nested too deeply)") from None


def _reason(
    exc: msgspec.ValidationError, decoder: msgspec.json.Decoder[Any] | None = None, data: bytes = b"", within: str = ""
) -> str:
    """msgspec's "Expected `int` >= 0 - at `$.heroes[...].games_played`" as "heroes.ana.games_played: expected
    ..." (the keys msgspec leaves out are found again, on this slow path only); ``within``: the path of the
    decoded value inside its message."""
    match = _WHERE.match(str(exc))
    assert match is not None  # the pattern matches any text
    what, path = match["what"], (match["path"] or "").lstrip(".")
    if "[...]" in path and decoder is not None:
        path = _with_keys(decoder, data, path, str(exc)) or path
    what = what[:1].lower() + what[1:]
    path = ".".join(part for part in (within, path) if part)
    return f"{path}: {what}" if path else what


_TOKEN = re.compile(r"\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\.\.\.|\d+)\]")


def _with_keys(decoder: msgspec.json.Decoder[Any], data: bytes, path: str, error: str) -> str | None:
    """``path`` with each ``[...]`` (a dict key msgspec does not name) replaced by the key whose value alone
    gives the same error; None if that cannot be told."""
    try:
        root = _ANY.decode(data)
    except (msgspec.MsgspecError, RecursionError, UnicodeDecodeError):
        return None
    node: Any = root
    names: list[str] = []
    for field_name, index in _TOKEN.findall(path):
        if field_name:
            names.append(field_name)
            node = node.get(field_name) if isinstance(node, dict) else None
        elif index != "...":
            names[-1:] = [f"{names[-1]}[{index}]"] if names else [f"[{index}]"]
            node = node[int(index)] if isinstance(node, list) and int(index) < len(node) else None
        elif isinstance(node, dict):
            key = _failing_key(decoder, root, node, error)
            if key is None:
                return None
            names.append(key)
            node = node[key]
        else:
            return None
    return ".".join(names)


def _failing_key(decoder: msgspec.json.Decoder[Any], root: Any, node: dict[str, Any], error: str) -> str | None:
    entries = dict(node)
    try:
        for key, value in entries.items():
            node.clear()
            node[key] = value
            try:
                decoder.decode(_ENCODER.encode(root))
            except msgspec.ValidationError as exc:
                if str(exc) == error:
                    return key
    finally:
        node.clear()
        node.update(entries)
    return None


# --- zstd: old values on the topics, and the store's payload column -------------------------------------


def inflate(value: bytes) -> bytes:
    """The JSON of a value: ``value`` itself, or what an old zstd-framed value holds (at most MAX_INFLATED
    bytes). ProcessingError for a value too large or a frame that does not decompress."""
    if len(value) > MAX_VALUE:
        raise ProcessingError(f"the value has {len(value):,} bytes, more than the {MAX_VALUE:,} a message may have")
    if not value.startswith(ZSTD_MAGIC):
        return value
    return decompress(value, MAX_INFLATED)


def decompress(frame: bytes, limit: int) -> bytes:
    """The content of one zstd frame of at most ``limit`` bytes, without ever allocating more."""
    try:
        size = zstandard.frame_content_size(frame)
        if size > limit:
            raise ProcessingError(f"a zstd frame claiming {size:,} bytes, more than the {limit:,} allowed")
        with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(frame)) as reader:
            data = reader.read(limit + 1)
    except zstandard.ZstdError as exc:
        raise ProcessingError(f"a zstd frame that does not decompress: {exc}") from exc
    if len(data) > limit:
        raise ProcessingError(f"a zstd frame holding more than the {limit:,} bytes allowed")
    return bytes(data)


# The largest zstd window a stream may ask for: RFC 9659 has HTTP decoders accept 8 MiB and no more, and the
# frames owstream makes (level 1) use far less. A frame asking for more is refused, not given the memory.
MAX_WINDOW = 8 * 1024 * 1024


def zstd_reader(source: Any) -> ZstdStream:
    """The zstd stream read from ``source`` (any object with ``read(n)``) decompressed, frame after frame:
    ``read(n)`` never returns more than ``n`` bytes, so the caller bounds the output by how much it asks for.
    A window larger than :data:`MAX_WINDOW` or a stream that does not decompress raises ProcessingError."""
    reader = zstandard.ZstdDecompressor(max_window_size=MAX_WINDOW).stream_reader(source, read_across_frames=True)
    return ZstdStream(reader)


class ZstdStream:
    """``zstandard``'s stream reader with its errors as ProcessingError (callers need not import zstandard)."""

    def __init__(self, reader: Any) -> None:
        self._reader = reader

    def read(self, size: int) -> bytes:
        try:
            return bytes(self._reader.read(size))
        except zstandard.ZstdError as exc:
            raise ProcessingError(f"a zstd stream that does not decompress: {exc}") from exc


_LOCAL = threading.local()  # a compressor per thread: zstandard's are not thread-safe


def _compressor() -> zstandard.ZstdCompressor:
    compressor: zstandard.ZstdCompressor | None = getattr(_LOCAL, "compressor", None)
    if compressor is None:
        # level 1: a third of level 3's CPU for a few percent more bytes
        compressor = _LOCAL.compressor = zstandard.ZstdCompressor(level=1)
    return compressor


def compress(data: bytes) -> bytes:
    """``data`` as a zstd frame (the store's payload column; topics leave compression to the producer)."""
    return bytes(_compressor().compress(data))


def compress_many(values: list[bytes]) -> list[bytes]:
    """Each of ``values`` as a zstd frame (as :func:`compress`; a value that is a frame already, an old
    value from a topic, stays as it is), compressed on every core at once: zstd's threads run without
    the GIL, so on n cores a batch's payloads take about 1/n of the time."""
    plain = [i for i, v in enumerate(values) if not v.startswith(ZSTD_MAGIC)]
    frames = list(values)
    if len(plain) < 8:
        for i in plain:
            frames[i] = compress(values[i])
        return frames
    data: list[bytes | bytearray | memoryview] = [values[i] for i in plain]
    buffer = _compressor().multi_compress_to_buffer(data, threads=-1)
    for k, i in enumerate(plain):
        frames[i] = buffer[k].tobytes()
    return frames


def digest(body: bytes) -> str:
    """sha256 of a body's bytes, in hex: a result's ``summary_digest``."""
    return hashlib.sha256(body).hexdigest()


def amended(result: WireResult, **changes: Any) -> WireResult:
    """``result`` with some fields changed (an error reworded, a suggestion added)."""
    return msgspec.structs.replace(result, **changes)


def with_player_id(result: WireResult, player_id: str) -> WireResult:
    """``result`` stored under another player id (the history a renamed player's BattleTag belongs to)."""
    return result if result.player_id == player_id else msgspec.structs.replace(result, player_id=player_id)
