"""How long the commands take as a user runs them, against the interpreter's own start in the same run
(issue 12: ``--help`` and ``show`` under 0.4 s, ``fetch --force`` of a demo player under 1 s).

A local broker, the simulator as OverFast and ``owstream run services`` (as ``owstream up`` runs them) are
started first and one fetch of each simulated player is stored; then each command runs ``--runs`` times as
a new process (the console script, bytecode cached as after an install) and the median wall time is taken:

* ``python -c pass``: the floor, what any Python command costs;
* ``owstream --help``; ``owstream show PLAYER`` (a stored player, from the store); ``owstream kafka status``
  (the broker, topics, groups and lag); ``owstream fetch PLAYER --force`` (request -> fetcher -> OverFast ->
  processor -> stored -> shown, through Kafka).

    .venv/bin/python bench/bench_commands.py [--runs 5] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_latency import JAR_CACHE, Pipeline
from owstream.config import Settings
from owstream.localkafka import LocalBroker, free_port
from owstream.localkafka.jars import ensure_jars, jars_dir
from owstream.runtime.kafka import ensure_kafka
from owstream.simulator import Simulator, SimulatorServer

OWSTREAM = Path(sys.executable).with_name("owstream")


def _timed(argv: list[str], env: dict[str, str], runs: int) -> float:
    """Median wall seconds of ``runs`` runs of ``argv`` (each must succeed)."""
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - began)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return statistics.median(times)


def run(runs: int = 5) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-commands-") as tmp:
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
                return _measure(settings, simulator, runs)
            finally:
                broker.stop()


def _measure(settings: Settings, simulator: Simulator, runs: int) -> dict[str, Any]:
    public = [p for p in simulator.player_ids() if p not in simulator.private_player_ids()]
    player = public[0]
    env = {k: v for k, v in os.environ.items() if not k.startswith("OWSTREAM_") and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(settings.as_env(), NO_COLOR="1", COLUMNS="120")
    pipeline = Pipeline(settings)
    try:
        for pid in public:
            pipeline.request(pid)
        pipeline.wait_all(120)  # every player stored once: show has something to show
        # one run of each first: bytecode written, as after an install's first start
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "owstream --help": [str(OWSTREAM), "--help"],
            "owstream show": [str(OWSTREAM), "show", player],
            "owstream kafka status": [str(OWSTREAM), "kafka", "status"],
            "owstream fetch --force": [str(OWSTREAM), "fetch", player, "--force"],
        }
        for argv in commands.values():
            _timed(argv, env, 1)
        seconds = {name: _timed(argv, env, runs) for name, argv in commands.items()}
    finally:
        pipeline.close()
    floor = seconds["python -c pass"]
    figures: dict[str, Any] = {"runs": runs}
    for name, value in seconds.items():
        figures[f"{name} s"] = round(value, 3)
    for name, value in seconds.items():
        if name != "python -c pass":
            figures[f"{name} / python"] = round(value / floor, 1)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    figures = run(args.runs)
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
