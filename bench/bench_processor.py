"""The processor end to end on a real broker: n real-size FetchResults already on fetch-results, one
Processor consuming them into a SQLite store (poll -> parse -> one transaction per batch -> events ->
offsets). Prints snapshots/s. Issue 4's target: >= 2,500 snapshots/s in one process.

    .venv/bin/python bench/bench_processor.py [--quick] [-n N] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_store import build_messages
from owstream.bus import Producer, TransactionalProducer
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
    consumer = processor.consumer()
    transactional = TransactionalProducer(settings, processor.transactional_id)
    done = 0
    start = cpu = 0.0
    try:
        while done < len(messages):
            got = processor.step(consumer, transactional, timeout=1.0)
            if got and not start:
                start, cpu = time.perf_counter(), time.process_time()  # from the first batch: group join excluded
            done += got
        # every batch's events and offsets are committed in its transaction by the time step() returns
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    finally:
        consumer.close(commit=False)
        transactional.close()
        store.close()
    return {
        "snapshots": len(messages),
        "mean_message_bytes": round(sum(map(len, messages)) / len(messages)),
        "produce_per_s": round(len(messages) / produce_s),
        "seconds": round(elapsed, 2),
        "snapshots_per_s": round(len(messages) / elapsed, 1),
        "snapshots_per_cpu_s": round(len(messages) / cpu, 1),
        "dead_lettered": processor.dead,
    }


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
    print(f"processor through Kafka: {rate} snapshots/s ({per_cpu} per CPU s)")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
