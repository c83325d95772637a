"""The local broker's memory with each JVM and Kafka setting, side by side in one run: one single-node broker
per variant, started in a fresh home, measured idle and while a load flows, then stopped.

Per variant: the JVM's PSS (``owstream.processes.pss_of``: smaps_rollup) and thread count 10 s after it is
ready (idle), the highest PSS sampled every 0.2 s during the load and the PSS 5 s after it; the JVM's CPU
seconds and the wall time of the load; the heap, metaspace and code cache the JVM reports (jcmd) after it.
The load: n real-size FetchResults (about 13 KB each) produced uncompressed (idempotent, acks=all: every
byte crosses the broker's heap, the worst case), 100 transactions of 10 more, then every message consumed
by a consumer group. A variant fails if a message is lost or the JVM dies (an OutOfMemoryError kills it).

    .venv/bin/python bench/bench_broker_memory.py [--quick] [-n N] [--variants a,b,...] [--json PATH]

docs/broker.md shows the figures of one run and why the defaults are what they are.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import confluent_kafka as ck

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_store import build_messages
from owstream.bus import Consumer, Producer
from owstream.config import Settings
from owstream.errors import OwstreamError
from owstream.localkafka import LocalBroker, broker, free_port
from owstream.localkafka.cluster import SMALL_MACHINE
from owstream.localkafka.jars import ensure_jars, jars_dir
from owstream.localkafka.java import find_java
from owstream.processes import pss_of, threads_of
from owstream.runtime.kafka import ensure_kafka

JAR_CACHE = Path.home() / ".cache" / "owstream-test"
MIB = 1024 * 1024

G1 = ["-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20"]
SERIAL = ["-XX:+UseSerialGC"]
HEADLESS = ["-Djava.awt.headless=true"]
C1 = ["-XX:TieredStopAtLevel=1"]
LEAN = [
    *C1,
    "-XX:ReservedCodeCacheSize=32m",
    "-XX:MaxMetaspaceSize=96m",
    "-Xss512k",
    "-Djdk.nio.maxCachedBufferSize=262144",
]
# Kafka's own defaults of what localkafka.cluster.SMALL_MACHINE changes: every variant starts from these.
KAFKA_DEFAULTS = {
    "log.cleaner.dedupe.buffer.size": str(128 * MIB),
    "log.cleaner.threads": "1",
    "num.network.threads": "3",
    "num.io.threads": "8",
    "background.threads": "10",
    "group.coordinator.threads": "4",
    "num.recovery.threads.per.data.dir": "2",
    "num.replica.fetchers": "1",
}
# The log cleaner's dedupe buffer is allocated on the heap at start: 128 MiB by default.
SMALL_DEDUPE = {"log.cleaner.dedupe.buffer.size": str(8 * MIB)}
SMALL = dict(SMALL_MACHINE)  # the dedupe buffer and the thread counts owstream uses


@dataclass(frozen=True)
class Variant:
    what: str
    jvm: list[str]
    heap: str = "-Xms32m -Xmx192m"
    properties: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)


VARIANTS: dict[str, Variant] = {
    "kafka-script": Variant("kafka-server-start.sh's heap (1 GiB), G1", [*G1, *HEADLESS], "-Xms1g -Xmx1g"),
    "before": Variant("owstream before: G1, heap 32-192 MiB, Kafka's defaults", [*G1, *HEADLESS]),
    "g1-dedupe": Variant("G1, dedupe buffer 8 MiB", [*G1, *HEADLESS], properties=SMALL_DEDUPE),
    "g1-small": Variant("G1, SMALL_MACHINE (dedupe 8 MiB, fewer Kafka threads)", [*G1, *HEADLESS], properties=SMALL),
    "serial-small": Variant("SerialGC, SMALL_MACHINE", [*SERIAL, *HEADLESS], properties=SMALL),
    "serial-c1": Variant("serial-small + C1 only", [*SERIAL, *C1, *HEADLESS], properties=SMALL),
    "serial-lean": Variant(
        "serial-c1 + code cache 32m, metaspace 96m, -Xss512k, NIO buffer cache 256 KiB",
        [*SERIAL, *LEAN, *HEADLESS],
        properties=SMALL,
    ),
    "serial-lean-arena2": Variant(
        "serial-lean with MALLOC_ARENA_MAX=2",
        [*SERIAL, *LEAN, *HEADLESS],
        properties=SMALL,
        env={"MALLOC_ARENA_MAX": "2"},
    ),
    "serial-lean-64": Variant(
        "serial-lean, heap 16-64 MiB", [*SERIAL, *LEAN, *HEADLESS], "-Xms16m -Xmx64m", properties=SMALL
    ),
    "chosen": Variant(
        "owstream's defaults now (localkafka JVM_FLAGS, SMALL_MACHINE, kafka_heap_opts)",
        list(broker.JVM_FLAGS),
        Settings().kafka_heap_opts,
        dict(SMALL_MACHINE),
    ),
}


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _jcmd(pid: int) -> dict[str, float]:
    """Heap and metaspace committed/used and code cache used (MiB), as the JVM reports them."""
    jcmd = find_java().resolve().parent / "jcmd"
    if not jcmd.exists():
        return {}
    out: dict[str, float] = {}
    heap = subprocess.run([str(jcmd), str(pid), "GC.heap_info"], capture_output=True, text=True, check=False).stdout
    generations = re.findall(r"total (\d+)K, used (\d+)K", heap)  # G1: one heap; Serial: young and old
    if generations:
        out["heap_committed_mib"] = sum(int(t) for t, _ in generations) / 1024
        out["heap_used_mib"] = sum(int(u) for _, u in generations) / 1024
    if m := re.search(r"Metaspace\s+used (\d+)K, committed (\d+)K", heap):
        out["metaspace_used_mib"], out["metaspace_committed_mib"] = int(m[1]) / 1024, int(m[2]) / 1024
    code = subprocess.run([str(jcmd), str(pid), "Compiler.codecache"], capture_output=True, text=True, check=False)
    used = re.findall(r"\bused=(\d+)Kb", code.stdout)  # one per code heap segment
    if used:
        out["codecache_used_mib"] = sum(map(int, used)) / 1024
    return {k: round(v, 1) for k, v in out.items()}


class Sampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.peak_threads = pid, 0, 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, pss_of(self.pid))
            self.peak_threads = max(self.peak_threads, threads_of(self.pid))
            self.done.wait(0.2)


def _load(settings: Settings, messages: list[bytes]) -> int:
    """Produce the load and consume it all; return the messages consumed."""
    names = ensure_kafka(settings, start_local=False)
    topic = names.fetch_results
    producer = Producer(settings, **{"compression.type": "none"})
    for i, raw in enumerate(messages):
        producer.send(topic, raw, key=f"Bench{i % 300}")
    producer.flush(timeout=300)
    tx = ck.Producer({"bootstrap.servers": settings.bootstrap_servers, "transactional.id": "bench-memory",
                      "compression.type": "none", "message.max.bytes": 8 * MIB})  # fmt: skip
    tx.init_transactions(60)
    for t in range(100):
        tx.begin_transaction()
        for k in range(10):
            tx.produce(topic, messages[(t * 10 + k) % len(messages)], key=f"Tx{k}")
        tx.commit_transaction(60)
    want = len(messages) + 1000
    consumer = Consumer(settings, names.group("bench"), [topic])
    got = 0
    deadline = time.monotonic() + 300
    try:
        while got < want and time.monotonic() < deadline:
            batch = consumer.poll_batch(1000, timeout=0.5)
            got += len(batch)
            consumer.store(batch)
    finally:
        consumer.close()
    return got


def measure(name: str, variant: Variant, messages: list[bytes], idle_s: float = 10.0) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix=f"bench-mem-{name}-"))
    ensure_jars(JAR_CACHE)
    (home / "kafka" / "jars").mkdir(parents=True)
    jars_dir(home).symlink_to(jars_dir(JAR_CACHE), target_is_directory=True)
    settings = Settings(home=home, kafka_port=free_port(), kafka_controller_port=free_port(),
                        kafka_heap_opts=variant.heap, topic_prefix="bench")  # fmt: skip
    saved_flags, saved_env = list(broker.JVM_FLAGS), dict(os.environ)
    broker.JVM_FLAGS[:] = variant.jvm
    os.environ.update(variant.env)
    local = LocalBroker(settings, properties=KAFKA_DEFAULTS | variant.properties)
    began = time.monotonic()
    try:
        state = local.start(timeout=180)
    except OwstreamError as exc:
        return {"what": variant.what, "ok": False, "error": str(exc)[:300]}
    finally:
        broker.JVM_FLAGS[:] = saved_flags
        os.environ.clear()
        os.environ.update(saved_env)
    started_s = time.monotonic() - began
    pid = state.pid
    try:
        time.sleep(idle_s)  # a measurement interval: the broker settles after its start
        idle_pss, idle_threads = pss_of(pid), threads_of(pid)
        sampler = Sampler(pid)
        sampler.start()
        cpu0, t0 = _cpu_seconds(pid), time.monotonic()
        got = _load(settings, messages)
        load_s, load_cpu = time.monotonic() - t0, _cpu_seconds(pid) - cpu0
        sampler.done.set()
        sampler.join()
        time.sleep(5)
        survived = pss_of(pid) > 0
        figures = {
            "what": variant.what,
            "start_s": round(started_s, 1),
            "idle_pss_mib": round(idle_pss / MIB),
            "idle_threads": idle_threads,
            "load_peak_pss_mib": round(sampler.peak / MIB),
            "load_peak_threads": sampler.peak_threads,
            "after_pss_mib": round(pss_of(pid) / MIB),
            "load_s": round(load_s, 1),
            "load_jvm_cpu_s": round(load_cpu, 1),
            "consumed": got,
            "ok": survived and got == len(messages) + 1000,
            **_jcmd(pid),
        }
        figures["oom"] = "OutOfMemoryError" in (home / "kafka" / "broker.log").read_text(errors="replace")
        return figures
    finally:
        local.stop()
        shutil.rmtree(home, ignore_errors=True)


def run(n: int = 20_000, variants: list[str] | None = None) -> dict[str, Any]:
    messages = build_messages(n)
    out: dict[str, Any] = {"messages": n, "bytes_each": round(sum(map(len, messages)) / n)}
    for name in variants or list(VARIANTS):
        print(f"{name}: {VARIANTS[name].what}", file=sys.stderr, flush=True)
        out[name] = measure(name, VARIANTS[name], messages)
        print(f"  {json.dumps(out[name])}", file=sys.stderr, flush=True)
    return out


def summary(figures: dict[str, Any]) -> dict[str, Any]:
    """One line per variant, for ``owstream bench``."""
    return {
        name: f"idle {v['idle_pss_mib']} MiB ({v['idle_threads']} threads), load peak {v['load_peak_pss_mib']} MiB, "
        f"{'ok' if v['ok'] else 'FAILED'}"
        if "idle_pss_mib" in v
        else v.get("error", "failed")
        for name, v in figures.items()
        if isinstance(v, dict)
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 messages and the before/chosen variants")
    parser.add_argument("-n", type=int, default=20_000)
    parser.add_argument("--variants", default="", help=f"comma-separated, of {', '.join(VARIANTS)}")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    chosen = [v for v in args.variants.split(",") if v] or (["before", "chosen"] if args.quick else None)
    figures = run(2_000 if args.quick else args.n, chosen)
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
