"""The processor end to end on a real broker: n real-size FetchResults already on fetch-results, one
Processor consuming them into a SQLite store (poll -> parse -> store transaction -> events, dead letters and
offsets in one Kafka transaction, per batch). Prints snapshots/s, and in the same run its two limits
(issue 12: the processor >= 0.8x the plain loop, side by side):

* a bare consumer (confluent-kafka, read_committed, its own group) reading the same messages: what Kafka
  delivers to one Python process, doing nothing with them;
* issue 4's plain loop (``bench_store.reference_loop``) over the same messages: ``json.loads`` + every stats
  row into SQLite, one transaction per 500, no sessions, events, dedup or Kafka.

    .venv/bin/python bench/bench_processor.py [--quick] [-n N] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import confluent_kafka as ck

from bench_store import build_messages, reference_loop
from owstream.bus import Producer
from owstream.config import Settings
from owstream.localkafka import LocalBroker, free_port
from owstream.localkafka.jars import ensure_jars, jars_dir
from owstream.runtime.kafka import ensure_kafka
from owstream.services.processor import Processor
from owstream.store import Store

JAR_CACHE = Path.home() / ".cache" / "owstream-test"


def run(n: int = 20_000, changed: float = 1.0) -> dict[str, Any]:
    messages = build_messages(n, changed=changed)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        ensure_jars(JAR_CACHE)
        (home / "kafka" / "jars").mkdir(parents=True)
        jars_dir(home).symlink_to(jars_dir(JAR_CACHE), target_is_directory=True)
        settings = Settings(
            home=home, kafka_port=free_port(), kafka_controller_port=free_port(), kafka_partitions=3,
            store_url=f"sqlite:///{home / 'bench.db'}",
        )  # fmt: skip
        broker = LocalBroker(settings)
        broker.start()
        try:
            return {"changed_share": changed, **_measure(settings, messages)}
        finally:
            broker.stop()


def _measure(settings: Settings, messages: list[bytes]) -> dict[str, Any]:
    names = ensure_kafka(settings, start_local=False)
    producer = Producer(settings)
    t0 = time.perf_counter()
    for i, raw in enumerate(messages):
        producer.send(names.fetch_results, raw, key=f"Bench{i % 300}")
    producer.flush()
    produce_s = time.perf_counter() - t0
    producer.close()
    store = Store.open(settings.resolved_store_url)
    processor = Processor(settings, store)
    stream = processor.make_stream(threading.Event())
    stream.open()
    done = 0
    start = cpu = 0.0
    try:
        while done < len(messages):
            got = stream.step(timeout=1.0)
            if got and not start:
                start, cpu = time.perf_counter(), time.process_time()  # from the first batch: group join excluded
            done += got
        # every batch's events and offsets are committed in its transaction by the time step() returns
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    finally:
        stream.close()
        store.close()
    bare = bare_consumer_rate(settings, names.fetch_results, len(messages))
    with tempfile.TemporaryDirectory() as tmp:
        plain = reference_loop(messages, Path(tmp) / "plain.db")
    rate = len(messages) / elapsed
    return {
        "snapshots": len(messages),
        "mean_message_bytes": round(sum(map(len, messages)) / len(messages)),
        "produce_per_s": round(len(messages) / produce_s),
        "seconds": round(elapsed, 2),
        "snapshots_per_s": round(rate, 1),
        "snapshots_per_cpu_s": round(len(messages) / cpu, 1),
        "dead_lettered": processor.dead,
        "bare_consumer_per_s": round(bare, 1),
        "plain_loop_per_s": round(plain, 1),
        "vs_plain_loop": round(rate / plain, 2),
        "vs_bare_consumer": round(rate / bare, 3),
    }


def bare_consumer_rate(settings: Settings, topic: str, n: int) -> float:
    """Messages/s of a bare read_committed consumer of ``topic`` (from the first message it gets)."""
    consumer = ck.Consumer(
        {"bootstrap.servers": settings.bootstrap_servers, "group.id": f"bench-bare-{time.time_ns()}",
         "auto.offset.reset": "earliest", "enable.auto.commit": False, "isolation.level": "read_committed"}
    )  # fmt: skip
    consumer.subscribe([topic])
    got, start = 0, 0.0
    try:
        while got < n:
            batch = consumer.consume(500, 1.0)
            if batch and not start:
                start = time.perf_counter()
            got += sum(1 for m in batch if m.error() is None)
        return n / (time.perf_counter() - start)
    finally:
        consumer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2,000 snapshots instead of 20,000")
    parser.add_argument("-n", type=int, default=None)
    parser.add_argument("--changed", type=float, default=1.0, help="share of snapshots with a new session (1.0)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    figures = run(args.n or (2_000 if args.quick else 20_000), changed=args.changed)
    print(json.dumps(figures))
    rate, per_cpu = figures["snapshots_per_s"], figures["snapshots_per_cpu_s"]
    print(
        f"processor through Kafka: {rate} snapshots/s ({per_cpu} per CPU s), {figures['vs_plain_loop']}x the plain"
        f" loop, {figures['vs_bare_consumer']}x a bare consumer"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
