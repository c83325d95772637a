"""Client-side rate limit against a server that enforces it: the simulator answers 429 above N
requests per second (a leaky bucket with burst 5, like the public nginx);
a client configured for N fetches summaries from a
few threads. Acceptance (issue 3): >= 90% of N sustained over 30 s with no retry storm.

    .venv/bin/python bench/bench_ratelimit.py [--rps N] [--seconds S] [--threads T] [--quick] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from pathlib import Path
from typing import Any

from owstream.errors import OverFastError
from owstream.overfast import OverFastClient, RateLimiter
from owstream.simulator import Simulator, SimulatorServer


def run(rps: int, seconds: float = 30.0, threads: int = 4) -> dict[str, Any]:
    """Fetch summaries for ``seconds`` at ``rps`` and report the achieved rate and the retries."""
    simulator = Simulator(seed=1)
    simulator.set_rate_limit(rps)
    players = [pid for pid in simulator.player_ids() if pid not in simulator.private_player_ids()]
    retries: list[float] = []
    lock = threading.Lock()
    ok = failed = 0

    def sleep(wait: float) -> None:
        with lock:
            retries.append(wait)
        time.sleep(wait)

    with SimulatorServer(simulator) as server:
        client = OverFastClient(
            server.url,
            rate_limit=rps,
            timeout=5.0,
            max_attempts=4,
            max_backoff=5.0,
            limiter=RateLimiter(rps),  # fresh bucket: nothing left over from another run
            sleep=sleep,
        )
        deadline = time.monotonic() + seconds

        def worker(offset: int) -> None:
            nonlocal ok, failed
            index = offset
            while time.monotonic() < deadline:
                try:
                    client.summary(players[index % len(players)])
                    outcome = 1
                except OverFastError:
                    outcome = 0
                with lock:
                    ok, failed = ok + outcome, failed + (1 - outcome)
                index += 1

        started = time.monotonic()
        pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        elapsed = time.monotonic() - started
        client.close()
    achieved = ok / elapsed
    return {
        "rps_target": rps,
        "seconds": round(elapsed, 2),
        "threads": threads,
        "ok": ok,
        "failed": failed,
        "achieved_rps": round(achieved, 2),
        "percent_of_target": round(100 * achieved / rps, 1),
        "server_429": simulator.served[429],
        "client_retries": len(retries),
        "requests_served": sum(simulator.served.values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rps", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--quick", action="store_true", help="5 seconds instead of 30")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    figures = run(args.rps, 5.0 if args.quick else args.seconds, args.threads)
    for key, value in figures.items():
        print(f"{key:>20}: {value}")
    storm_free = figures["failed"] == 0 and figures["client_retries"] <= 0.05 * figures["ok"]
    verdict = figures["percent_of_target"] >= 90 and storm_free
    rule = ">= 90% of N; no request out of attempts; retries <= 5%"
    print(f"{'acceptance':>20}: {'PASS' if verdict else 'FAIL'} ({rule})")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
