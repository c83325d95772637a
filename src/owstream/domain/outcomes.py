"""How a fetch ended, in words: said once for the CLI (a one-line error or note) and the dashboard (a notice).

Units are said with the numbers: durations in s / min / h / days, times in UTC, time played in hours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

PRIVATE_HELP = "make it public in Overwatch 2: Options > Social > Career Profile Visibility > Public"

# In the error of a not_found answered from the store, without calling OverFast (owstream.domain.freshness).
NOT_ASKED = "OverFast was not asked again"

Level = Literal["success", "info", "warning", "error"]


@dataclass(frozen=True, slots=True)
class Wording:
    level: Level  # how the dashboard shows it; "error" and "warning" make the CLI exit 1
    text: str  # one line of plain text

    @property
    def failed(self) -> bool:
        return self.level in ("error", "warning")


def outcome_wording(
    player: str,
    outcome: str | None,
    *,
    error: str | None = None,
    retry_after: float | None = None,
    cache_seconds: float = 600,
    refetch_hint: str = "--force fetches again anyway",
    suggestion: str | None = None,
) -> Wording:
    """The words for a stored request's outcome. ``refetch_hint`` says how this interface forces a fetch;
    ``suggestion``: a BattleTag (``Name-1234``) equal to the one asked apart from case, offered, not fetched."""
    if outcome == "ok":
        return Wording("success", f"Stored: {player} was fetched from OverFast and saved.")
    if outcome == "skipped":
        return Wording(
            "info",
            f"{player} was fetched less than {duration(cache_seconds)} ago (OverFast caches players that long): "
            f"showing the stored data; {refetch_hint}.",
        )
    if outcome == "not_found":
        return _not_found(player, error, retry_after, refetch_hint, suggestion)
    if outcome == "mismatch":
        return Wording("error", f"Not {player}'s data, so nothing was stored: {error or 'another player answered'}.")
    if outcome == "private":
        return Wording(
            "warning",
            f"Private profile: {player}'s career profile is private, so only the name, title and ranks are shown. "
            f"To see stats, {PRIVATE_HELP}, then play a match and fetch again.",
        )
    return _not_served(player, outcome, error=error, retry_after=retry_after)


def _not_served(player: str, outcome: str | None, *, error: str | None, retry_after: float | None) -> Wording:
    """The words for a request that got no data: upstream trouble, or too long a wait in the queue."""
    if outcome == "expired":
        return Wording(
            "warning",
            f"Not fetched: the request for {player} waited in the queue longer than the fetchers serve a request "
            f"({error or 'the pipeline was busy or away'}). Ask again; the scheduler asks again by itself for "
            "tracked players.",
        )
    if outcome == "upstream_error":
        retry = f"Retry in {duration(retry_after)}." if retry_after else "Try again in a minute."
        # the error names the cause: busy (429/503), a name that does not resolve, a refused connection, ...
        return Wording(
            "error", f"{player} could not be fetched: {(error or 'OverFast did not deliver it').rstrip('. ')}. {retry}"
        )
    return Wording("error", f"Unexpected outcome {outcome!r} for {player}.")


def _not_found(
    player: str, error: str | None, retry_after: float | None, refetch_hint: str, suggestion: str | None
) -> Wording:
    when = f" OverFast will check Blizzard again in {duration(retry_after)}: try again then." if retry_after else ""
    if error and NOT_ASKED in error:
        when += f" ({NOT_ASKED} before that time; {refetch_hint}.)"
    if suggestion:
        return Wording(
            "error",
            f"Player not found: OverFast does not know {player}; did you mean {battletag_text(suggestion)}? "
            f"(OverFast knows that BattleTag, with other upper/lower case letters; owstream never switches to "
            f"it by itself).{when}",
        )
    return Wording(
        "error",
        f"Player not found: OverFast does not know {player}. Check the name's upper/lower case and the "
        f"number after the #.{when}",
    )


def battletag_text(player_id: str) -> str:
    """``Rook#33834`` for the player id ``Rook-33834`` (a Blizzard id as it is)."""
    name, dash, number = player_id.rpartition("-")
    return f"{name}#{number}" if dash and number.isdigit() else player_id


def duration(seconds: float | None) -> str:
    """``45 s``, ``10 min``, ``1.5 h``, ``3 days``; ``a while`` when unknown."""
    if seconds is None:
        return "a while"
    seconds = abs(seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} days"


def utc(epoch: float | None) -> str:
    """``2023-03-11 12:16 UTC``, or ``never``."""
    if epoch is None or math.isnan(epoch):
        return "never"
    return datetime.fromtimestamp(float(epoch), tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def hours(seconds: float | None) -> str:
    """Time played in hours: one decimal below 100 h, whole hours above."""
    value = (seconds or 0) / 3600
    return f"{value:,.1f} h" if value < 100 else f"{value:,.0f} h"
