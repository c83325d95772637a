"""Request -> stored latency as a user feels it, against Kafka's own produce -> consume latency on the same
broker, measured in the same run (issue 12).

One local broker (KRaft, 3 partitions a topic) and the project's simulator as an instant upstream (answers in
about a millisecond; the client's rate limit is lifted so that OverFast's pace is not what is measured).

1. **The floor**: a bare confluent-kafka producer (librdkafka defaults) sends ``--rate`` small messages a
   second for ``--seconds`` to a topic of its own; a bare consumer of the same process reads them. Latency:
   send -> received.
2. **owstream**: ``owstream run services`` (the five Python services in one process, as ``owstream up``
   runs them) on the same broker; the bench publishes ``--rate`` forced fetch requests a second, round robin
   over the simulator's players, and watches ``player-events`` as ``owstream fetch`` does (read_committed).
   Latency: request published -> its ``fetch_stored`` event received, i.e. after three hops (requests ->
   fetcher -> results -> processor -> store commit -> events), two Kafka transactions, three upstream calls
   and one store transaction. One warm-up request per player comes first (group joins, the first
   transaction, the store learning which players exist) and is not counted.

Prints p50/p95/p99/max of both and the ratios owstream/floor.

    .venv/bin/python bench/bench_latency.py [--rate 5] [--seconds 60] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import confluent_kafka as ck
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from owstream.bus import Producer, TailReader, Topics
from owstream.config import Settings
from owstream.errors import ProcessingError
from owstream.localkafka import LocalBroker, free_port
from owstream.localkafka.jars import ensure_jars, jars_dir
from owstream.messages.models import FetchRequest, new_id
from owstream.runtime.kafka import ensure_kafka
from owstream.simulator import Simulator, SimulatorServer

JAR_CACHE = Path.home() / ".cache" / "owstream-test"


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive")
    return {
        "n": len(ordered),
        "p50_ms": round(cuts[49], 1),
        "p95_ms": round(cuts[94], 1),
        "p99_ms": round(cuts[98], 1),
        "max_ms": round(ordered[-1], 1),
    }


def kafka_floor(settings: Settings, rate: float, seconds: float) -> list[float]:
    """Kafka's own send -> receive latency, ms, of ``rate`` messages a second for ``seconds``."""
    topic = f"bench-floor-{new_id()}"
    admin = AdminClient({"bootstrap.servers": settings.bootstrap_servers})
    admin.create_topics([NewTopic(topic, 3, 1)])[topic].result(timeout=30)
    consumer = ck.Consumer(
        {"bootstrap.servers": settings.bootstrap_servers, "group.id": topic, "auto.offset.reset": "earliest"}
    )
    consumer.subscribe([topic])
    producer = ck.Producer({"bootstrap.servers": settings.bootstrap_servers})
    while not consumer.assignment():  # joined: from here on, latency is the message's own
        consumer.poll(0.1)
    sent: dict[bytes, float] = {}
    latencies: list[float] = []
    count = int(rate * seconds)

    def send() -> None:
        began = time.perf_counter()
        for i in range(count):
            key = str(i).encode()
            sent[key] = time.perf_counter()
            producer.produce(topic, b"x" * 150, key=key)
            producer.poll(0)
            time.sleep(max(0.0, began + (i + 1) / rate - time.perf_counter()))
        producer.flush(10)

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    deadline = time.monotonic() + seconds + 30
    while len(latencies) < count and time.monotonic() < deadline:
        msg = consumer.poll(0.5)
        if msg is not None and msg.error() is None and (key := msg.key()) is not None:
            latencies.append((time.perf_counter() - sent[key]) * 1000)
    sender.join()
    consumer.close()
    admin.delete_topics([topic])
    return latencies


class Pipeline:
    """``owstream run services`` in a child process, and the request side of the bench."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.topics = Topics(settings.topic_prefix)
        ready = settings.home / "services.ready"
        env = {**os.environ, **settings.as_env(), "PYTHONUNBUFFERED": "1"}
        argv = [sys.executable, "-m", "owstream.cli", "run", "services", "--ready-file", str(ready)]
        log = (settings.home / "services.log").open("w")
        self.proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 120
        while not ready.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("owstream run services did not get ready: see " + str(log.name))
            time.sleep(0.05)
        self.producer = Producer(settings)
        self.events = TailReader(settings, self.topics.player_events.name)
        self.sent: dict[str, float] = {}
        self.stored: dict[str, float] = {}

    def request(self, player_id: str, *, force: bool = True) -> None:
        request = FetchRequest(player_id=player_id, request_id=new_id(), force=force, requested_at=time.time())
        assert request.request_id is not None
        self.sent[request.request_id] = time.perf_counter()
        message = self.topics.fetch_requests.message(request, key=player_id)
        self.producer.publish(message)
        self.producer.poll(0)

    def receive(self, timeout: float) -> None:
        for record in self.events.poll(timeout):
            now = time.perf_counter()
            try:
                event = self.topics.player_events.read(record)
            except ProcessingError:
                continue
            if event.type == "fetch_stored" and event.request_id in self.sent:
                self.stored.setdefault(event.request_id, now)

    def wait_all(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while len(self.stored) < len(self.sent) and time.monotonic() < deadline:
            self.receive(0.5)

    def close(self) -> None:
        self.events.close()
        self.producer.close()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def owstream_latency(settings: Settings, players: list[str], rate: float, seconds: float) -> list[float]:
    pipeline = Pipeline(settings)
    try:
        for player in players:  # warm-up, not counted
            pipeline.request(player)
        pipeline.wait_all(120)
        pipeline.sent.clear()
        pipeline.stored.clear()
        count, began = int(rate * seconds), time.perf_counter()
        for i in range(count):
            pipeline.request(players[i % len(players)])
            while True:  # read events until the next request is due
                left = began + (i + 1) / rate - time.perf_counter()
                if left <= 0:
                    break
                pipeline.receive(left)
        pipeline.wait_all(60)
        return [(pipeline.stored[r] - sent) * 1000 for r, sent in pipeline.sent.items() if r in pipeline.stored]
    finally:
        pipeline.close()


def run(rate: float = 5.0, seconds: float = 60.0) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp:
        home = Path(tmp)
        ensure_jars(JAR_CACHE)
        (home / "kafka" / "jars").mkdir(parents=True)
        jars_dir(home).symlink_to(jars_dir(JAR_CACHE), target_is_directory=True)
        simulator = Simulator(seed=0)
        with SimulatorServer(simulator) as upstream:
            settings = Settings(
                home=home, kafka_port=free_port(), kafka_controller_port=free_port(), kafka_partitions=3,
                store_url=f"sqlite:///{home / 'bench.db'}", overfast_url=upstream.url, rate_limit=1000.0,
            )  # fmt: skip
            broker = LocalBroker(settings)
            broker.start()
            try:
                ensure_kafka(settings, start_local=False)
                floor = kafka_floor(settings, rate, seconds)
                public = [p for p in simulator.player_ids() if p not in simulator.private_player_ids()]
                ours = owstream_latency(settings, public, rate, seconds)
            finally:
                broker.stop()
    sent = int(rate * seconds)
    kafka, owstream = percentiles(floor), percentiles(ours)
    return {
        "rate_per_s": rate,
        "seconds": seconds,
        "requests_lost": sent - len(ours),
        "owstream_p50_ms": owstream["p50_ms"],
        "owstream_p95_ms": owstream["p95_ms"],
        "owstream_p99_ms": owstream["p99_ms"],
        "owstream_max_ms": owstream["max_ms"],
        "kafka_p50_ms": kafka["p50_ms"],
        "kafka_p95_ms": kafka["p95_ms"],
        "kafka_p99_ms": kafka["p99_ms"],
        "kafka_max_ms": kafka["max_ms"],
        "p50_vs_kafka": round(owstream["p50_ms"] / kafka["p50_ms"], 1),
        "p99_vs_kafka": round(owstream["p99_ms"] / kafka["p99_ms"], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=5.0, help="requests a second (5)")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long each side is measured (60)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    figures = run(args.rate, args.seconds)
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
