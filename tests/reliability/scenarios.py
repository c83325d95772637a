"""The faults. Each scenario starts the load, does its harm while the services work, and leaves the rest to
:meth:`Pipeline.finish` (wait, count, check every service). A killed service is started again once, at once, by
the harness, as a supervisor would (same instance id: it fences what its predecessor left open).

A kill is named after a window (with work in flight, between two commits, mid-transaction, the leader of a
partition with messages in flight): the scenario looks from outside (:mod:`reliability.windows`) and kills only
inside it, tries again a bounded number of times, and fails the run (MissedWindowError) when it never gets there;
:meth:`Pipeline.hit` notes what showed it was there."""

from __future__ import annotations

import logging
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text

from owstream.bus import Producer
from owstream.messages import contracts
from owstream.messages.models import FetchRequest
from reliability import windows
from reliability.pipeline import MissedWindowError, Pipeline
from reliability.stack import Cluster, Service
from support.env import owstream_env

log = logging.getLogger("reliability")

Act = Callable[[Cluster, Pipeline, int], None]  # cluster, pipeline, run number (0, 1, ...)


@dataclass(frozen=True)
class Scenario:
    name: str
    act: Act
    runs: int = 1


def _group(p: Pipeline, name: str) -> list[Service]:
    return [s for s in p.services if s.name == name and not s.retired]


def processor_kill(load: int, moments: tuple[float, ...], *, restart: bool = True) -> Act:
    """kill -9 of a processor once ``moment`` of the load is stored (run i takes moments[i]), at a moment its
    group has results waiting to be stored (in flight); not ``restart``: left dead, the other processor of the
    group takes its partitions over (once the group has noticed, and once the dead one's open transaction has
    timed out)."""

    def act(cluster: Cluster, p: Pipeline, run: int) -> None:
        p.send(load)
        at = moments[run % len(moments)]
        p.wait_stored(int(load * at))
        victim = p.service("processor", run % cluster.profile.processors)
        time.sleep(random.uniform(0, 0.3))  # somewhere inside a batch, not on its edge
        windows.kill_with_work(p, victim, _group(p, "processor"), windows.answered_not_stored, "results not yet stored")
        p.notes.append(f"{victim.label} killed at {p.stored()} stored")
        if restart:
            p.restart(victim)
        else:
            victim.retired = True

    return act


def processor_kill_between_commits(load: int, at: float, tries: int = 10) -> Act:
    """kill -9 of a processor between its store commit and its Kafka commit. Once ``at`` of the load is stored,
    each try freezes the processors (SIGSTOP) 2 s so that results wait for them and thaws the victim alone (the
    others of its group stay frozen: whatever the store takes now, the victim stored; the members take turns as
    the victim, since one may hold few fetch-results partitions); the moment the store
    grows the broker is frozen, so that batch's Kafka commit cannot finish any more if it had not, nor can that
    of a batch stored within the next second. Then the victim is frozen, the store read, the victim killed, the
    broker and the others thawed, and 3 s later the window is checked: requests stored at the kill whose
    ``fetch_stored`` is still not visible are the dead one's (the processor begins its Kafka transaction only
    after its store commit). None: the kill came after the commit; the victim is started again and it is tried
    again, at most ``tries`` times (MissedWindowError). A victim that stores nothing within 5 s holds no
    partition yet (just restarted, its group rebalancing): that try is let go. The caught batch is read again,
    stored as a no-op, and its events derived again from the store (store/rederive.py)."""

    def act(cluster: Cluster, p: Pipeline, run: int) -> None:
        p.send(load)
        p.wait_stored(int(load * at) + 50 * run)
        group = _group(p, "processor")
        for attempt in range(1, tries + 1):
            victim = group[(run + attempt - 1) % len(group)]  # in turn: a member may hold few fetch-results partitions
            for service in group:
                service.freeze()
            time.sleep(2.0)  # a backlog of results (the others stay frozen below 10 s, their session timeout)
            before = p.stored()
            victim.freeze(False)
            caught = False
            try:
                if windows.grows(p, before, 5.0):
                    cluster.freeze_broker()
                    try:
                        windows.grows(p, p.stored(), 1.0)  # another batch stored meanwhile: no Kafka commit for it
                        victim.freeze()
                        at_kill = windows.stored(p)
                        victim.kill9()
                        caught = True
                    finally:
                        cluster.freeze_broker(False)
            finally:
                for service in group:
                    if service.alive:
                        service.freeze(False)
            if not caught:
                held = windows.partitions_per_member(p.settings, p.names.group("processor"))
                p.notes.append(f"try {attempt}: {victim.label} stored nothing in 5 s (partitions per member: {held})")
                time.sleep(3.0)
                continue
            time.sleep(3.0)
            left = at_kill - windows.events_of(p, "fetch_stored")
            p.restart(victim)
            if left:
                p.hit(f"{victim.label} killed between its commits (try {attempt}): {len(left)} stored, not announced")
                return
            p.notes.append(f"try {attempt}: {victim.label} was killed after its Kafka commit, not between")
        raise MissedWindowError(f"no processor killed between its store and Kafka commits in {tries} tries")

    return act


def fetcher_kill(load: int, moments: tuple[float, ...], slow: bool = False, *, restart: bool = True) -> Act:
    """kill -9 of a fetcher once ``moment`` of the load is stored, at a moment its group holds requests it has
    taken (``fetch_started`` out) and not answered (two fetchers may have taken the whole load by then: 30 more
    requests are sent before each new try); ``slow``: while its fetches wait for a slow OverFast (40
    answers 1.5 s late); not ``restart``: left dead, the other fetcher takes over."""

    def act(cluster: Cluster, p: Pipeline, run: int) -> None:
        p.send(load)
        at = moments[run % len(moments)]
        p.wait_stored(int(load * at))
        if slow:
            cluster.fault(delay=1.5, count=40)
            time.sleep(1.0)
        victim = p.service("fetcher", run % cluster.profile.fetchers)
        what = "requests taken and waiting for a slow OverFast" if slow else "requests taken, not answered"
        feed = None if slow else lambda: p.send(30)  # the fetchers may have taken the whole load already
        windows.kill_with_work(p, victim, _group(p, "fetcher"), windows.taken_not_answered, what, feed=feed)
        p.notes.append(f"{victim.label} killed at {p.stored()} stored")
        if restart:
            p.restart(victim)
        else:
            victim.retired = True

    return act


def fetcher_kill_mid_transaction(load: int, tries: int = 5) -> Act:
    """kill -9 of the fetcher (the single-fetcher profile) with its results produced into a transaction that
    has not committed: once 30 % is stored, OverFast answers the next 40 requests 1.5 s late; as soon as the
    fetcher holds taken requests the broker is frozen, so when the slow answers come back (within the 2 s
    timeout) the fetcher begins its transaction and produces its results, and nothing can be acknowledged or
    committed; 3 s later it is killed and the broker thawed. In its window when requests it had taken before
    the freeze are still unanswered 3 s after the thaw (its transaction was left open, and is aborted when it
    is started again); else tried again, at most ``tries`` times."""

    def act(cluster: Cluster, p: Pipeline, run: int) -> None:
        p.send(load)
        p.wait_stored(int(load * 0.3))
        victim = p.service("fetcher")
        for attempt in range(1, tries + 1):
            cluster.fault(delay=1.5, count=40)
            deadline = time.monotonic() + 10
            taken: set[str] = set()
            while not taken and time.monotonic() < deadline:
                taken = windows.events_of(p, "fetch_started") - windows.answered(p)
            cluster.freeze_broker()
            try:
                time.sleep(3.0)  # the slow answers are back: the fetcher produces into its transaction
                victim.kill9()
            finally:
                cluster.freeze_broker(False)
            time.sleep(3.0)
            held = taken - windows.answered(p)
            p.restart(victim)
            if held:
                p.hit(f"{victim.label} killed mid-transaction (try {attempt}): {len(held)} fetched, not committed")
                return
            p.notes.append(f"try {attempt}: {victim.label} held nothing uncommitted when it was killed")
        raise MissedWindowError(f"{victim.label}: never killed mid-transaction in {tries} tries")

    return act


def both_kill(load: int) -> Act:
    """kill -9 of every fetcher and processor at the same moment, with requests taken and results not stored."""

    def act(cluster: Cluster, p: Pipeline, run: int) -> None:
        p.send(load)
        p.wait_stored(load // 3)
        victims = [s for s in p.services if s.name in ("fetcher", "processor")]
        for victim in victims:
            victim.freeze()
        try:
            taken, unstored = windows.taken_not_answered(p), windows.answered_not_stored(p)
            if not (taken or unstored):
                raise MissedWindowError(f"{p.prefix}: nothing in flight at a third stored")
            for victim in victims:
                victim.kill9()
        finally:
            for victim in victims:
                if victim.alive:
                    victim.freeze(False)
        p.hit(f"every fetcher and processor killed with {taken} requests taken and {unstored} results not stored")
        for victim in victims:
            victim.spawn()
        for victim in victims:
            victim.wait_ready()

    return act


def broker_kill(load: int, down: float = 5.0) -> Act:
    """kill -9 of the broker node leading partition 0 of fetch-results (the only node, or the chosen leader in
    the cluster) once a third of the load is stored, while the harness is still sending the last third (its
    requests in flight, not yet acknowledged); started again ``down`` seconds later on the same data. In the
    cluster another replica must take the partition's leadership over."""

    def act(cluster: Cluster, p: Pipeline, run: int) -> None:
        first = load * 2 // 3
        p.send(first)
        p.wait_stored(load // 3, timeout=600)
        topic = p.names.fetch_results
        leader = windows.leader_of(p.settings, topic, 0)
        sending = threading.Thread(target=p.send, args=(load - first,), kwargs={"flush": False}, name="sender")
        sending.start()
        while p.sent == first and sending.is_alive():
            time.sleep(0.001)
        cluster.kill_node(leader)
        in_flight = p.sent - p.acked
        stored = p.stored()
        sending.join()
        if in_flight <= 0:
            raise MissedWindowError(f"broker {leader} killed with none of the harness's requests in flight")
        if cluster.profile.brokers > 1:
            deadline = time.monotonic() + 60
            while windows.leader_of(p.settings, topic, 0) in (leader, -1):
                if time.monotonic() > deadline:
                    raise MissedWindowError(f"no new leader of {topic}[0] within 60 s of killing broker {leader}")
                time.sleep(0.5)
        p.hit(
            f"broker {leader}, leader of {topic}[0], killed at {stored} stored with {in_flight} requests of "
            "the harness in flight"
        )
        time.sleep(down)
        cluster.start_broker()

    return act


def broker_away(load: int, seconds: float) -> Act:
    """The broker stopped (every node) for ``seconds`` under load, more requests sent meanwhile, started
    again on the same data; the services' log lines during the outage are counted (once a few seconds, not
    per message)."""

    def act(cluster: Cluster, p: Pipeline, run: int) -> None:
        p.send(load)
        p.wait_stored(load // 4, timeout=600)
        cluster.stop_broker()
        began = time.time()
        p.send(200, flush=False)  # queued in the producer while Kafka is away
        time.sleep(seconds)
        cluster.start_broker()
        ended = time.time()
        lines = {s.label: s.log_lines(began, ended) for s in p.services}
        worst = max(lines.values()) / max(1.0, ended - began)
        p.notes.append(f"warnings while away ({ended - began:.0f} s): {lines}")
        if worst > 1.0:  # more than a line a second: logging per message
            p.notes.append("a service logged more than once a second while Kafka was away")
            p.noisy = True

    return act


def store_locked(load: int, seconds: float) -> Act:
    """The store locked by another session for ``seconds`` under load: SQLite BEGIN EXCLUSIVE, PostgreSQL
    LOCK TABLE ... ACCESS EXCLUSIVE on the tables the processor writes."""

    def act(cluster: Cluster, p: Pipeline, run: int) -> None:
        p.send(load)
        p.wait_stored(load // 4)
        url = p.settings.resolved_store_url
        engine = create_engine(url, connect_args={"timeout": 30} if url.startswith("sqlite") else {})
        locked = threading.Event()

        def hold() -> None:
            with engine.connect() as conn:
                if url.startswith("sqlite"):
                    conn.exec_driver_sql("BEGIN EXCLUSIVE")
                else:
                    conn.execute(text("BEGIN"))
                    conn.execute(text("LOCK TABLE raw_results, snapshots, fetch_outcomes IN ACCESS EXCLUSIVE MODE"))
                locked.set()
                time.sleep(seconds)
                conn.exec_driver_sql("ROLLBACK")

        holder = threading.Thread(target=hold, name="store-lock")
        holder.start()
        locked.wait(30)
        before = p.stored()
        p.send(300, flush=True)
        holder.join()
        engine.dispose()
        p.notes.append(f"store locked {seconds:.0f} s with {before} stored")

    return act


def store_deleted(load: int) -> Act:
    """The SQLite store's file removed under load: the processor must stop (StoreLost) before announcing what
    no file keeps, saying to run ``owstream replay``; the operator's fix (replay, then the processor started
    again) must leave every request stored and announced once."""

    def act(cluster: Cluster, p: Pipeline, run: int) -> None:
        url = p.settings.resolved_store_url
        if not url.startswith("sqlite:///"):
            p.notes.append("PostgreSQL: no file to remove (the identity row is checked by the unit tests)")
            p.send(load)
            return
        p.send(load)
        p.wait_stored(load // 3)
        path = Path(url.removeprefix("sqlite:///"))
        removed_at = p.stored()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        processors = [s for s in p.services if s.name == "processor"]
        _until(lambda: not any(s.alive for s in processors), 120, "every processor to stop on the removed store")
        said = " ".join(s.tail(30) for s in processors)
        if "owstream replay" not in said:
            raise AssertionError(f"the processor stopped without naming owstream replay: {said[-300:]}")
        p.notes.append(f"store file removed at {removed_at} stored; the processors stopped naming owstream replay")
        replay = subprocess.run(
            [sys.executable, "-m", "owstream.cli", "replay"], env=owstream_env(p.settings), capture_output=True,
            text=True, timeout=600, check=False,
        )  # fmt: skip
        if replay.returncode != 0:
            raise AssertionError(f"owstream replay failed: {replay.stderr[-500:]}")
        p.notes.append(f"replayed: {replay.stdout.strip()}")
        for processor in processors:
            p.restart(processor)

    return act


def expired_requests(load: int, old: int) -> Act:
    """``old`` requests made an hour ago (past the fetchers' 10 minutes) among ``load`` fresh ones: each old
    one is answered ``expired``, stored and announced, never dropped in silence."""

    def act(cluster: Cluster, p: Pipeline, run: int) -> None:
        p.send(load // 2)
        producer = Producer(p.settings)
        topic = contracts.FETCH_REQUEST
        ids = [f"{p.prefix}-expired-{i}" for i in range(old)]
        for i, request_id in enumerate(ids):
            player_id = cluster.players[i % len(cluster.players)]
            request = FetchRequest(
                player_id=player_id, request_id=request_id, source="reliability", requested_at=time.time() - 3600
            )
            producer.send(p.names.fetch_requests, topic.encode(request), key=player_id, headers=topic.headers)
        producer.flush_or_raise(60)
        producer.close()
        p.send(load - load // 2)

        def answered() -> bool:
            with create_engine(p.settings.resolved_store_url).connect() as conn:
                rows = conn.execute(text("SELECT request_id, outcome FROM fetch_outcomes")).all()
            outcomes = {r[0]: r[1] for r in rows if r[0] in set(ids)}
            return len(outcomes) == old and set(outcomes.values()) == {"expired"}

        _until(answered, 300, f"the {old} old requests to be answered expired")
        p.notes.append(f"{old} requests an hour old answered expired")

    return act


def stuck_transactions(load: int, frozen: float) -> Act:
    """The broker frozen (SIGSTOP: connections open, nothing answers) for ``frozen`` seconds under load, longer
    than a transactional operation may stay stuck (60 s), then continued: the fetchers' and processors'
    producers are renewed instead of waiting for ever (an abort once answered _TIMED_OUT for 10 minutes)."""

    def act(cluster: Cluster, p: Pipeline, run: int) -> None:
        p.send(load)
        p.wait_stored(load // 4, timeout=600)
        began = time.time()
        cluster.freeze_broker(True)
        try:
            p.send(100, flush=False)  # queued in the producer while Kafka does not answer
            time.sleep(frozen)
        finally:
            cluster.freeze_broker(False)
        renewed = {s.label: s.log_text(began).count("renewing the transactional producer") for s in p.services}
        p.notes.append(f"broker frozen {frozen:.0f} s; producers renewed: {renewed}")

    return act


def _until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:.0f} s for {what}")
        time.sleep(0.5)


def upstream_faults(load: int) -> Act:
    """OverFast misbehaving under load: 429 and 503 with Retry-After, 504, 500, answers slower than the
    timeout, a byte at a time, garbage, a 3 MB body, a 200,000-deep body."""

    def act(cluster: Cluster, p: Pipeline, run: int) -> None:
        faults = [
            {"status": 429, "count": 30}, {"status": 503, "count": 20, "retry_after": 1}, {"status": 504, "count": 20},
            {"status": 500, "count": 10}, {"delay": 3.0, "count": 10}, {"trickle": 6, "interval": 0.05},
            {"garbage": 10}, {"huge": 5, "size": 3_000_000}, {"deep": 5, "depth": 200_000},
        ]  # fmt: skip
        for fault in faults:
            cluster.fault(**fault)
        p.send(load)

    return act


def poison_set(load: int) -> Act:
    """Every kind of poison on both topics, between good requests."""

    def act(cluster: Cluster, p: Pipeline, run: int) -> None:
        p.send(load // 2)
        p.send_poison()
        p.send(load - load // 2)

    return act


def full(brokers: int) -> list[Scenario]:
    """The rows of ``make reliability`` for one profile."""
    rows = [
        Scenario("processor kill -9", processor_kill(800, (0.1, 0.4, 0.7)), runs=3),
        Scenario("processor kill -9 between store and Kafka commits", processor_kill_between_commits(800, 0.3), runs=3),
        Scenario("fetcher kill -9", fetcher_kill(800, (0.1, 0.4, 0.7)), runs=3),
        Scenario("fetcher kill -9 mid-fetch", fetcher_kill(400, (0.3,), slow=True), runs=2),
        Scenario("fetcher+processor kill -9", both_kill(600), runs=1),
        Scenario("broker kill -9 of a partition leader under 5,000", broker_kill(5000), runs=1),
    ]
    if brokers == 1:
        rows.append(Scenario("fetcher kill -9 mid-transaction", fetcher_kill_mid_transaction(400), runs=2))
        rows.append(Scenario("broker away 60 s", broker_away(2000, 60.0), runs=1))
        rows.append(Scenario("broker away 3 min", broker_away(1000, 180.0), runs=1))  # past every txn timeout
    else:  # two of each in their groups: one killed for good, the other takes over
        rows += [
            Scenario("processor kill -9, not restarted", processor_kill(800, (0.3,), restart=False), runs=1),
            Scenario("fetcher kill -9, not restarted", fetcher_kill(800, (0.3,), restart=False), runs=1),
        ]
    rows += [
        Scenario("store locked 45 s", store_locked(1500, 45.0), runs=1),
        Scenario("store file deleted", store_deleted(600), runs=1),
        Scenario("expired requests", expired_requests(400, 50), runs=1),
        Scenario("broker frozen 75 s mid-transaction", stuck_transactions(1000, 75.0), runs=1),
        Scenario("upstream faults", upstream_faults(600), runs=1),
        Scenario("poison messages", poison_set(200), runs=1),
    ]
    return rows


def fast() -> list[Scenario]:
    """The part that runs in ``make test``."""
    return [
        Scenario("processor kill -9", processor_kill(300, (0.3,)), runs=1),
        Scenario("fetcher kill -9", fetcher_kill(300, (0.3,)), runs=1),
        Scenario("poison messages", poison_set(60), runs=1),
        Scenario("broker away 15 s", broker_away(300, 15.0), runs=1),
    ]
