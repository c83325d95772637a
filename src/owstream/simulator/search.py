"""The simulator's ``GET /players?name=``, answered as OverFast v4.9 answers it.

OverFast asks Blizzard's search for the part of the name before the ``-``, keeps the public players whose name
equals it (case-sensitively), and labels a single hit with the search input as its ``player_id`` when the input
holds a ``-`` -- whoever that account is (OverFast issue #382) -- several hits with their Blizzard ids
(``hex%7Chex``). Blizzard's search shows no number after the ``#``: neither does the answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from owstream.simulator import data as simdata
from owstream.simulator.data import SimPlayer

ORDER_FIELDS = ("player_id", "name", "last_updated_at")


def _invalid(name: str, value: Any, message: str) -> tuple[int, dict[str, Any]]:
    return 422, {"detail": [{"type": "value_error", "loc": ["query", name], "msg": message, "input": value}]}


def search_body(players: Sequence[SimPlayer], query: dict[str, str], base: str) -> tuple[int, dict[str, Any]]:
    """(status, body) of a search with ``query`` (``name``, ``order_by``, ``offset``, ``limit``)."""
    name = query.get("name")
    if not name:
        return 422, {"detail": [{"type": "missing", "loc": ["query", "name"], "msg": "Field required", "input": None}]}
    order = query.get("order_by", "name:asc")
    field_name, _, direction = order.partition(":")
    if field_name not in ORDER_FIELDS or direction not in ("asc", "desc"):
        pattern = "^(player_id|name|last_updated_at):(asc|desc)$"
        return _invalid("order_by", order, f"String should match pattern '{pattern}'")
    try:
        offset, limit = int(query.get("offset", "0")), int(query.get("limit", "20"))
    except ValueError:
        return _invalid("limit", query.get("limit"), "Input should be a valid integer")
    if offset < 0 or limit <= 0:
        return _invalid("limit", limit, "offset must be >= 0 and limit > 0")
    wanted = name.split("-", 1)[0]
    found = [p for p in players if p.username == wanted and not p.private]
    single = len(found) == 1 and "-" in name
    hits = [simdata.search_hit(p, name if single else p.blizzard_id.replace("|", "%7C"), base) for p in found]
    hits.sort(key=lambda hit: hit[field_name] or 0, reverse=direction == "desc")
    return 200, {"total": len(hits), "results": hits[offset : offset + limit]}
