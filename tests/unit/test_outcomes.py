"""How a fetch's outcome is said: an upstream error names its real cause, never "busy" for a DNS failure."""

from __future__ import annotations

from owstream.domain.outcomes import outcome_wording

NO_DNS = (
    "OverFast cannot be reached: the host name overfast-api.tekrop.fr does not resolve (no network or DNS here, "
    "or a wrong OWSTREAM_OVERFAST_URL: https://overfast-api.tekrop.fr)"
)
BUSY = "OverFast is busy (503) for /players/A-123/summary: Blizzard is temporarily rate limiting this API."


def test_an_unreachable_overfast_is_said_with_its_cause_not_as_busy() -> None:
    wording = outcome_wording("Rook-33834", "upstream_error", error=NO_DNS)
    assert wording.failed
    assert wording.text.startswith("Rook-33834 could not be fetched: OverFast cannot be reached: the host name")
    assert "busy" not in wording.text


def test_a_busy_overfast_is_said_busy_with_when_to_retry() -> None:
    wording = outcome_wording("A-123", "upstream_error", error=BUSY, retry_after=30)
    assert "OverFast is busy (503)" in wording.text
    assert wording.text.endswith("rate limiting this API. Retry in 30 s.")  # one full stop, not two
