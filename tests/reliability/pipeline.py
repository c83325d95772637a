"""One run of a scenario: its own topics, groups, transactional ids and store on the profile's cluster, the
services as processes, the load (every id it sends kept), and at the end the counts against what was sent,
whether the fault hit the window it is named after, and whether every service is still alive."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from itertools import count as counter

from owstream.bus import Producer
from owstream.messages import codec, contracts
from owstream.messages.models import FetchRequest
from owstream.runtime.kafka import ensure_kafka
from owstream.store import Store
from reliability import poison
from reliability.count import POISON, Counts, count, read_topic, request_ids, stored_requests
from reliability.stack import Cluster, Service

log = logging.getLogger("reliability")
_runs = counter(1)
WATCHED = 4  # watchlist players: the scheduler asks for them every refresh_interval


class MissedWindowError(RuntimeError):
    """A fault did not happen where its row says it does (a kill outside its window): the run fails."""


@dataclass
class Outcome:
    counts: Counts
    alive: bool
    caught_up: bool
    quiet: bool = True  # no service logged an outage more than once a second
    notes: list[str] = field(default_factory=list)
    window: str | None = None  # what showed the fault hit its window (None: the row has no window)

    @property
    def recovered(self) -> bool:
        return self.alive and self.caught_up and self.quiet


class Pipeline:
    def __init__(self, cluster: Cluster, scenario: str) -> None:
        self.cluster = cluster
        slug = re.sub(r"[^a-z0-9]+", "-", scenario.lower()).strip("-")[:40]
        self.prefix = f"r{next(_runs)}-{slug}"
        self.dir = cluster.root / self.prefix
        self.dir.mkdir(parents=True, exist_ok=True)
        self.settings = cluster.base.replace(
            topic_prefix=self.prefix, store_url=cluster.store_url(self.prefix.replace("-", "_"))
        )
        self.names = ensure_kafka(self.settings, start_local=False)
        store = Store.open(self.settings.resolved_store_url)  # the schema, and the scheduler's watchlist
        try:
            for player_id in cluster.players[:WATCHED]:
                store.watch_add(player_id, time.time())
        finally:
            store.close()
        profile = cluster.profile
        self.services = [
            *(Service("fetcher", f"f{i}", self.settings, self.dir) for i in range(1, profile.fetchers + 1)),
            *(Service("processor", f"p{i}", self.settings, self.dir) for i in range(1, profile.processors + 1)),
            Service("scheduler", "s1", self.settings, self.dir),
        ]
        self.producer = Producer(self.settings, **{"message.max.bytes": 16 * 1024 * 1024})
        self.sent_ids: list[str] = []  # every request id the harness sent, whether or not it reached the topic
        self.poison_marks: list[str] = []  # the mark of every poison message it sent
        self.acked = 0  # requests the broker acknowledged (the others are in flight, or were dropped)
        self.first_sent: float | None = None  # when the load began (monotonic)
        self.notes: list[str] = []
        self.noisy = False
        self.window: str | None = None

    @property
    def sent(self) -> int:
        return len(self.sent_ids)

    # --- services -------------------------------------------------------------------------------------
    def start(self) -> Pipeline:
        for service in self.services:
            service.spawn()
        for service in self.services:
            service.wait_ready()
        return self

    def service(self, name: str, index: int = 0) -> Service:
        return [s for s in self.services if s.name == name][index]

    def restart(self, service: Service) -> None:
        """Start a killed instance again, with the same instance id (a supervisor's restart)."""
        service.start()

    # --- load -----------------------------------------------------------------------------------------
    def send(self, n: int, *, flush: bool = True, drop: int = 0) -> None:
        """``n`` requests, round robin over the simulated players (each with its own request id, kept). ``drop``:
        the last ones of them are kept as sent but never produced (the harness's own check that a loss at the
        first hop is counted)."""
        players = self.cluster.players
        headers = contracts.FETCH_REQUEST.headers
        if self.first_sent is None:
            self.first_sent = time.monotonic()
        for i in range(n):
            player_id = players[self.sent % len(players)]
            request = FetchRequest(
                player_id=player_id, request_id=f"{self.prefix}-{self.sent}", source="reliability",
                requested_at=time.time(),
            )  # fmt: skip
            self.sent_ids.append(str(request.request_id))
            if i < n - drop:
                value, topic = codec.encode(request), self.names.fetch_requests
                self.producer.send(topic, value, key=player_id, headers=headers, delivered=self._ack)
        if flush:
            self.flush()

    def _ack(self, failure: str | None) -> None:
        self.acked += failure is None

    def flush(self, timeout: float = 300.0) -> None:
        self.producer.flush_or_raise(timeout)

    def send_poison(self) -> None:
        def marked() -> list[tuple[str, bytes]]:
            self.poison_marks.append(f"poison-{len(self.poison_marks)}")
            return [(POISON, self.poison_marks[-1].encode())]

        for _what, value, headers in poison.for_fetcher():
            self.producer.send(self.names.fetch_requests, value, key="Poison-1234", headers=[*headers, *marked()])
        for _what, value, headers in poison.for_processor(self.cluster.sim_url, self.cluster.players[0]):
            self.producer.send(self.names.fetch_results, value, key="Poison-1234", headers=[*headers, *marked()])
        self.flush()

    def hit(self, what: str) -> None:
        """The fault hit its window; ``what`` says how that was seen (the row's notes keep it)."""
        self.window = what
        self.notes.append(f"in its window: {what}")

    def stored(self) -> int:
        """Requests of the harness whose result the store holds."""
        try:
            return len(stored_requests(self.settings.resolved_store_url))
        except Exception:  # the store is locked or away: not yet
            return -1

    def wait_stored(self, n: int, timeout: float = 300.0) -> None:
        deadline = time.monotonic() + timeout
        while self.stored() < n:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.prefix}: fewer than {n} requests stored after {timeout:.0f} s")
            time.sleep(0.1)

    # --- the end --------------------------------------------------------------------------------------
    def finish(self, catch_up: float = 300.0, settle: float = 60.0) -> Outcome:
        """Wait until every request on the topic has its stored result (bounded), then count against what was
        sent until the counts are clean or ``settle`` seconds have passed (an event stored a moment ago may not
        be committed yet)."""
        self.flush()
        wanted = request_ids(read_topic(self.settings, self.names.fetch_requests))
        deadline = time.monotonic() + catch_up
        caught_up = False
        while time.monotonic() < deadline:
            try:
                if set(wanted) <= stored_requests(self.settings.resolved_store_url):
                    caught_up = True
                    took = time.monotonic() - (self.first_sent or time.monotonic())
                    self.notes.append(f"{len(wanted)} requests answered {took:.0f} s after the load began")
                    break
            except Exception as exc:
                log.debug("store not readable yet: %s", exc)
            time.sleep(0.5)
        end = time.monotonic() + settle
        while True:
            counts = count(self.settings, self.sent_ids, self.poison_marks)
            if counts.clean or time.monotonic() > end:
                break
            time.sleep(2)
        alive = all(s.alive for s in self.services if not s.retired)
        notes = list(self.notes)
        notes.append(f"outcomes {dict(counts.outcomes)}, {counts.derived} session/rank_change events")
        if counts.progress_repeats:
            notes.append(f"{counts.progress_repeats} fetch_started sent again (progress, at least once, same id)")
        for service in self.services:
            if not service.alive and not service.retired:
                notes.append(f"{service.label} died: {service.tail()}")
        if not caught_up:
            notes.append(f"not caught up within {catch_up:.0f} s")
        notes += counts.examples
        return Outcome(counts, alive, caught_up, not self.noisy, notes, self.window)

    def close(self) -> list[str]:
        """Stop every service (SIGTERM); what did not stop cleanly."""
        problems = []
        for service in self.services:
            code = service.stop()
            if code != 0 and not service.retired:
                problems.append(f"{service.label} did not stop cleanly on SIGTERM ({code})")
        self.producer.close(5)
        return problems
