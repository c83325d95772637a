"""The one retry policy: backoff delays, Retry-After, and one warning per outage."""

from __future__ import annotations

import logging
import random

import pytest

from owstream.retry import Backoff, OutageWarning, retry_after_of


def test_backoff_doubles_up_to_its_cap_and_a_server_retry_after_wins_capped_too() -> None:
    plain = Backoff(base=0.5, cap=4.0, jitter="none")
    assert [plain.delay(n) for n in (1, 2, 3, 4, 5, 60, 10_000)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0]
    assert plain.delay(3, retry_after=1.5) == 1.5
    assert plain.delay(1, retry_after=100.0) == 4.0
    full = Backoff(base=1.0, cap=8.0, jitter="full", rng=random.Random(1))
    assert all(0.0 <= full.delay(4) <= 8.0 for _ in range(100))
    some = Backoff(base=5.0, cap=300.0, rng=random.Random(1))
    assert all(16.0 <= some.delay(3) <= 24.0 for _ in range(100))
    assert some.delay(30) == 300.0


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("3", 3.0), (" 2.5 ", 2.5), ("-4", 0.0), (None, None), ("", None), ("soon", None),
     ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0), ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0)],
)  # fmt: skip
def test_retry_after_reads_seconds_and_http_dates(header: str | None, seconds: float | None) -> None:
    now = 1445412480.0  # Wed, 21 Oct 2015 07:28:00 GMT
    assert retry_after_of(header, now=lambda: now) == seconds


def test_an_outage_is_warned_once_per_period_and_once_when_it_is_over(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("test.outage")
    away = OutageWarning(log, "the store", every=3600)
    with caplog.at_level(logging.DEBUG, logger="test.outage"):
        for attempt in range(50):
            away.still(f"locked ({attempt})")
        away.over()
        away.over()  # no trouble since: nothing said
    levels = [(r.levelname, r.getMessage().split(":")[0]) for r in caplog.records]
    assert levels.count(("WARNING", "the store (0 s)")) == 1
    assert [lvl for lvl, _ in levels].count("INFO") == 1 and levels[-1][1].startswith("the store")
    assert away.since is None
