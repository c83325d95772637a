"""The moving parts of the population benchmark (bench_population.py): its simulated clock, the simulator behind
a counter of each player's calls, the driver that steps the scheduler from one due tick to the next, and the
processor's child process."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import unquote, urlsplit

from owstream.bus import Producer, TailReader, Topics
from owstream.config import Settings
from owstream.domain.refresh import refresh_of
from owstream.services.scheduler import Scheduler
from owstream.simulator import SimResponse, Simulator
from owstream.simulator.endpoints import endpoint_of
from owstream.store import Store
from population_measure import Seen

TICK = 5  # seconds: the scheduler's tick (Scheduler(tick=5.0))


class SimClock:
    """The simulated time every part of a phase reads; the bench moves it."""

    def __init__(self, at: float) -> None:
        self.at = at

    def now(self) -> float:
        return self.at


class Counted:
    """The simulator as the HTTP server serves it, counting each player's calls per endpoint (a player asked by
    its Blizzard id counted as itself)."""

    def __init__(self, simulator: Simulator) -> None:
        self.simulator = simulator
        self.by_player: Counter[tuple[str, str]] = Counter()  # (player id, endpoint) -> calls
        self._ids = {}
        for pid in simulator.player_ids():
            player = simulator.player(pid)
            assert player is not None
            self._ids[pid] = self._ids[player.blizzard_id] = pid

    def bound(self, url: str) -> None:
        self.simulator.bound(url)

    def handle(self, method: str, target: str, body: bytes = b"") -> SimResponse:
        parts = urlsplit(target).path.strip("/").split("/")
        if len(parts) >= 2 and parts[0] == "players":
            self.by_player[(self._ids.get(unquote(parts[1]), "?"), endpoint_of(target))] += 1
        return self.simulator.handle(method, target, body)


class Driver:
    """Moves a phase's clock from one due tick to the next, steps the scheduler, waits for its requests to be
    stored, and keeps what ``player-events`` says (each player's fetch times, the sessions)."""

    def __init__(self, scheduler: Scheduler, store: Store, settings: Settings, clock: SimClock) -> None:
        self.scheduler, self.store, self.clock = scheduler, store, clock
        self.topics = Topics(settings.topic_prefix)
        self.events = TailReader(settings, self.topics.player_events.name)  # before the first request
        self.producer = Producer(settings)
        self.fetched: dict[str, list[float]] = defaultdict(list)
        self.outcomes: Counter[str] = Counter()
        self.seen: list[Seen] = []
        self.steps = 0

    def close(self) -> None:
        self.events.close()
        self.producer.close()

    def step(self, at: float) -> int:
        """The scheduler's step at ``at``; returns once each of its requests is stored."""
        self.clock.at = at
        due = self.scheduler.step(self.producer)
        self.steps += bool(due)
        pending, deadline = set(due), time.monotonic() + 180
        while pending:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(pending)} request(s) of the step at {at} not stored in 180 s")
            for record in self.events.poll(0.5):
                event = self.topics.player_events.read(record)
                if event.type == "fetch_stored" and event.at >= at:
                    pending.discard(event.player_id)
                    self.fetched[event.player_id].append(event.at)
                    self.outcomes[event.data.outcome] += 1  # type: ignore[union-attr]
                elif event.type == "session":
                    data = event.data  # type: ignore[union-attr]
                    self.seen.append(Seen(event.player_id, event.at, data.ended_at, data.games, data.is_reset))
        return len(due)

    def next_tick(self, at: float, start: float) -> float:
        """The first tick after ``at`` at which the scheduler's rule has a player due."""
        policy, soonest = self.scheduler.policy, math.inf
        for entry in self.store.watchlist():
            last = entry.last_fetched_at
            if last is None:
                return at + TICK
            due = last + refresh_of(policy, entry.last_updated_at, at).interval
            due = last + refresh_of(policy, entry.last_updated_at, due).interval  # idle time grows meanwhile
            soonest = min(soonest, due)
        return max(at + TICK, start + math.ceil((soonest - start) / TICK - 1e-6) * TICK)


def start_processor(settings: Settings) -> subprocess.Popen[bytes]:
    """``owstream run processor`` with ``settings``, once it is ready."""
    ready = settings.home / f"{settings.topic_prefix}.ready"
    env = {**os.environ, **settings.as_env(), "PYTHONUNBUFFERED": "1"}
    log = (settings.home / f"{settings.topic_prefix}.processor.log").open("w")
    argv = [sys.executable, "-m", "owstream.cli", "run", "processor", "--ready-file", str(ready)]
    proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the processor did not get ready: see {log.name}")
        time.sleep(0.05)
    return proc


def stop_processor(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU seconds of this process (``pid`` None) or of a child still running."""
    if pid is None:
        times = os.times()
        return times.user + times.system
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
