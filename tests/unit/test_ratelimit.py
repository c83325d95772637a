"""The token bucket against a fake clock: acquisitions are counted in fake seconds, never wall time."""

from __future__ import annotations

import itertools
import threading

import pytest

from owstream.overfast import RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def limiter(rate: float, burst: float = 1.0) -> tuple[RateLimiter, FakeClock]:
    clock = FakeClock()
    return RateLimiter(rate, burst, clock=clock, sleep=clock.sleep), clock


@pytest.mark.parametrize(("rate", "burst"), [(5, 1), (30, 1), (30, 5), (2.5, 3)])
def test_holds_its_rate_over_ten_fake_seconds(rate: float, burst: float) -> None:
    bucket, clock = limiter(rate, burst)
    start, times = clock.now, []
    while clock.now - start < 10.0:
        bucket.acquire()
        times.append(clock.now)
    granted = [t for t in times if t - start < 10.0]
    assert len(granted) == pytest.approx(rate * 10 + burst - 1, abs=1)
    # no one-second window ever holds more than rate + burst requests
    for i, t in enumerate(granted):
        in_window = sum(1 for u in granted[i:] if u < t + 1.0)
        assert in_window <= rate + burst


def test_steady_spacing_with_burst_one() -> None:
    bucket, clock = limiter(20)
    times = []
    for _ in range(50):
        bucket.acquire()
        times.append(clock.now)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) == pytest.approx(0.05)
    assert max(gaps) == pytest.approx(0.05)


def test_burst_after_idle_is_capped() -> None:
    bucket, clock = limiter(10, burst=4)
    bucket.acquire()
    clock.now += 60.0  # idle for a minute: credit does not pile up beyond the burst
    before = len(clock.slept)
    for _ in range(4):
        bucket.acquire()
    assert len(clock.slept) == before  # the burst passes at once
    bucket.acquire()
    assert clock.slept[-1] == pytest.approx(0.1)


def test_threads_get_distinct_slots() -> None:
    bucket, _clock = limiter(100)  # frozen clock: every reservation must get its own slot
    waits: list[float] = []
    lock = threading.Lock()

    def work() -> None:
        mine = [bucket.reserve() for _ in range(250)]
        with lock:
            waits.extend(mine)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    slots = sorted(round(wait * 100) for wait in waits)
    assert slots == list(range(1000))


def test_shared_instance_per_rate() -> None:
    assert RateLimiter.shared(12.0) is RateLimiter.shared(12)
    assert RateLimiter.shared(12.0) is not RateLimiter.shared(13.0)


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (5, 0.5)])
def test_rejects_nonsense(rate: float, burst: float) -> None:
    with pytest.raises(ValueError, match="must be"):
        RateLimiter(rate, burst)
