"""A population of tracked players through the real pipeline, before and after issue 23, in one run: upstream
calls, ``fetch-results`` bytes and store bytes per tracked player per day, the sessions seen and how long after
Blizzard's update.

**The population.** The simulator's ``--players`` players (one of them private) play by
``owstream.simulator.population``: a tenth of them on a given day, in evening sessions of a few games, most idle
most days, 40 % idle for weeks before the start. Its answers are the simulator's, valid against OverFast's OpenAPI.
Both phases simulate the same days from the same start (2026-01-01) with the same seed: the same games at the same
simulated times.

**The pipeline.** One local broker (3 partitions a topic) started by the bench. Each phase runs in a process of
its own, both at once, with its own topics, SQLite store and simulator, and the real services:
``owstream run processor`` in a child process, a ``Fetcher`` (4 workers, as deployed) and the ``Scheduler``'s own
``step`` (what its loop calls every 5 s) choosing whom to refresh. Every tracked player is added at the start; the
first refresh of each (a new player: its search, summary and stats) is not counted; the window is everything
after it.

**The clock: simulated, and it stands still while the pipeline works.** Nothing is scaled: every interval is
the production one (OverFast's 600 s cache, the 600 s refresh, the adaptive refresh's day, week and 3,600 s,
the once-a-day look at a second platform, the identity's backoff, the simulator's game times). Instead the
scheduler, the fetcher (its freshness rule, its plan, its request expiry) and the simulator read one clock the
bench moves (``clock=``, the argument each takes). The bench sets it to the next 5-second tick at which the
scheduler's rule has someone due (empty ticks are skipped: nothing would happen in them), calls
``Scheduler.step``, and waits until every request of that step is stored (its ``fetch_stored`` event); only then
does time move on. So a step's fetches all happen at its simulated time, and a simulated day takes as long as its
steps' real work. Real: the pipeline itself (Kafka, the processor, SQLite, HTTP to the simulator on loopback), its
latency (not in the delays below, which are simulated time; ``bench --only latency`` measures it, ~45 ms), the
processor's check that no fetch time is ahead of its clock (simulated time is in the past). The meta service is
not run (58 calls an hour, whatever the population: 57 combinations and the hero catalogue).

**Before** is ``OWSTREAM_FETCH_SUMMARY_FIRST=false`` and ``OWSTREAM_REFRESH_ADAPTIVE=false``: every player
fully (summary and stats per platform) every 10 minutes; **after** the defaults. Printed side by side, per
tracked player per simulated day: upstream calls (per endpoint and per habit), results and their bytes on
``fetch-results`` (the messages, and the broker's log files: zstd batches), the store's growth on SQLite and on
PostgreSQL (the phase's ``fetch-results`` replayed into a throwaway PostgreSQL server: the window's results after
the others); the sessions seen against the play model's games; how long after a session's first game it was first
stored (players who played in the day before, and those back after a day or more idle), and every changed
snapshot's ``fetched_at - last_updated_at``; whether every stored number (stats of each platform and gamemode,
ranks, ``last_updated_at``) equals the simulator's answer; and the CPU per refresh (the phase's process but its
driving thread: the fetcher and the simulator; the processor's process).

    .venv/bin/python bench/bench_population.py [--players 100] [--days 1.5] [--seed 0] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench_latency import JAR_CACHE
from owstream.bus import Topics
from owstream.config import Settings
from owstream.localkafka import LocalBroker, free_port
from owstream.localkafka.jars import ensure_jars, jars_dir
from owstream.runtime.kafka import ensure_kafka
from owstream.services.fetcher import Fetcher
from owstream.services.runner import in_background
from owstream.services.scheduler import Scheduler
from owstream.simulator import Simulator, SimulatorServer
from owstream.simulator import data as simdata
from owstream.simulator.population import DAY, HABITS, daily_share
from owstream.store import Store
from population_measure import (
    calls_by_habit,
    log_bytes,
    minutes,
    numbers_checked,
    replayed_growth,
    result_bytes,
    truth,
)
from population_pipeline import Counted, Driver, SimClock, cpu_seconds, start_processor, stop_processor
from population_postgres import Postgres, pg_bin

PHASES = ("before", "after")
EGRESS_CALLS_PER_DAY = 27 * 86400 - 58 * 24  # one IP at 27 req/s (OverFast allows 30), less the meta's (57 + /heroes)


def phase(
    base: Settings, name: str, players: int, days: float, seed: int, start: float, *, new: bool
) -> dict[str, Any]:
    """One policy (``new``: summary first and adaptive; else neither) over ``days`` from ``start``: its raw figures."""
    began = time.perf_counter()
    with ExitStack() as stack:
        clock = SimClock(start)
        simulator = Simulator(seed=seed, players=players, clock=clock.now, play_from=start)
        counted = Counted(simulator)
        server = stack.enter_context(SimulatorServer(counted))
        settings = base.replace(
            topic_prefix=f"population-{name}",
            store_url=f"sqlite:///{base.home / f'{name}.db'}",
            overfast_url=server.url,
            instance_id=name,
            fetch_summary_first=new,
            refresh_adaptive=new,
        )
        topics = Topics(settings.topic_prefix)
        ensure_kafka(settings, start_local=False)
        store = stack.enter_context(Store.open(settings.resolved_store_url))
        for pid in simulator.player_ids():
            store.watch_add(pid, start)
        processor = start_processor(settings)
        stack.callback(stop_processor, processor)
        fetcher = Fetcher(settings, clock=clock.now)
        errors = stack.enter_context(in_background([fetcher]))
        deadline = time.monotonic() + 60
        while len(fetcher.assigned) < settings.kafka_partitions and time.monotonic() < deadline:
            time.sleep(0.05)
        driver = Driver(Scheduler(settings, store, clock=clock.now), store, settings, clock)
        stack.callback(driver.close)
        driver.step(start)  # every player's first fetch: not counted
        calls0, by_player0, sizes0 = Counter(simulator.calls), Counter(counted.by_player), store.table_sizes()
        log0, outcomes0, steps0 = (
            log_bytes(base.home, topics.fetch_results.name),
            Counter(driver.outcomes),
            driver.steps,
        )
        cpu0 = (cpu_seconds() - time.thread_time(), cpu_seconds(processor.pid), time.perf_counter())
        end, at, shown = start + days * DAY, start, start
        while at < end:
            at = min(end, driver.next_tick(at, start))
            driver.step(at)
            if at - shown >= DAY / 4 or at >= end:
                shown = at
                print(
                    f"{name}: {(at - start) / DAY:.2f} of {days:g} days, {driver.steps} steps, "
                    f"{time.perf_counter() - began:.0f} s",
                    file=sys.stderr,
                    flush=True,
                )
        # this process's CPU but the driver's (this thread: the scheduler's steps and the bench's own reading)
        now = (cpu_seconds() - time.thread_time(), cpu_seconds(processor.pid), time.perf_counter())
        cpu = tuple(b - a for a, b in zip(cpu0, now, strict=True))
        if errors():
            raise RuntimeError(f"the fetcher died: {errors()[0]!r}")
        calls, by_player = Counter(simulator.calls) - calls0, counted.by_player - by_player0
        sizes = store.table_sizes()
        checked, wrong, unasked = numbers_checked(store, simulator)
        results = result_bytes(settings, topics.fetch_results.name, start)
        log = log_bytes(base.home, topics.fetch_results.name) - log0
    fetched = {pid: [at for at in times if at > start] for pid, times in driver.fetched.items()}
    return {
        "settings": settings,
        "start": start,
        "simulator": simulator,
        "calls": calls,
        "by_player": by_player,
        "fetched": fetched,
        "habits": calls_by_habit(simulator, by_player, days),
        "outcomes": driver.outcomes - outcomes0,
        "steps": driver.steps - steps0,
        "results": results,
        "log_bytes": log,
        "cpu": cpu,
        "store_bytes": {t: sizes[t].bytes - sizes0[t].bytes for t in sizes},
        "store_rows": {t: sizes[t].rows - sizes0[t].rows for t in sizes},
        "checked": checked,
        "wrong": wrong,
        "unasked": unasked,
        "sessions": sum(1 for s in driver.seen if s.at > start),
        "truth": truth(simulator, driver.seen, driver.fetched, start, end),
        "seconds": time.perf_counter() - began,
        "public": len(simulator.player_ids()) - len(simulator.private_player_ids()),
    }


def measured(base: Settings, name: str, players: int, days: float, seed: int, start: float) -> dict[str, Any]:
    """:func:`phase` in a process of its own (both phases run at once), with its PostgreSQL growth: what it gives
    that can leave the process."""
    raw = phase(base, name, players, days, seed, start, new=name == "after")
    raw["postgres"] = postgres_per_player_day(raw, players * days)
    del raw["simulator"], raw["settings"]
    return raw


def postgres_per_player_day(raw: dict[str, Any], per: float) -> str:
    """The phase's store growth on PostgreSQL: its fetch-results replayed into a PostgreSQL store (the rows the
    processor writes), the window's results after the others."""
    if pg_bin() is None:
        return "not measured: PostgreSQL is not installed"
    with Postgres() as pg:
        growth = replayed_growth(raw["settings"].replace(store_url=pg.url), raw["start"])
    tables = ", ".join(f"{t} {v / per:,.0f}" for t, v in sorted(growth.items(), key=lambda kv: -kv[1]) if v > 0)
    return f"{sum(growth.values()) / per:,.0f} B ({tables})"


def side(before: float, after: float, unit: str = "", digits: int = 1) -> str:
    ratio = f"{before / after:.1f}x fewer" if after else "-"
    return f"before {before:,.{digits}f}{unit} | after {after:,.{digits}f}{unit} | {ratio}"


def both(b: dict[str, Any], a: dict[str, Any], say: Any) -> str:
    return f"before {say(b)} | after {say(a)}"


def figures(players: int, days: float, seed: int, start: float, raw: dict[str, dict[str, Any]]) -> dict[str, Any]:
    b, a = raw["before"], raw["after"]
    per = players * days

    def calls(p: dict[str, Any], kind: str | None = None) -> float:
        return (sum(p["calls"].values()) if kind is None else p["calls"][kind]) / per

    def refreshes(p: dict[str, Any]) -> int:
        return sum(p["outcomes"].values())

    def cpu(p: dict[str, Any]) -> str:
        fetch, process, real = p["cpu"]
        return (
            f"{fetch / refreshes(p) * 1000:.1f} ms fetcher+simulator, {process / refreshes(p) * 1000:.1f} ms "
            f"processor ({(fetch + process) / real:.2f} cores)"
        )

    ta = a["truth"]
    return {
        "players": f"{players} tracked ({b['public']} public, 1 private), {days:g} simulated days, seed {seed}",
        "simulated_from": datetime.fromtimestamp(start, UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "habits": ", ".join(f"{h.name} {h.share:.0%} (plays {h.play_days:.0%} of days)" for h in HABITS),
        "played_per_day": f"{ta.players_played_per_day / b['public']:.1%} of the public players (model: "
        f"{daily_share():.1%})",
        "calls_per_player_day": side(calls(b), calls(a)),
        "summary_calls_per_player_day": side(calls(b, "summary"), calls(a, "summary")),
        "stats_calls_per_player_day": side(calls(b, "stats"), calls(a, "stats")),
        "other_calls_in_window": both(
            b, a, lambda p: dict(p["calls"] - Counter(summary=p["calls"]["summary"], stats=p["calls"]["stats"]))
        ),
        "calls_per_player_day_by_habit": both(
            b, a, lambda p: ", ".join(f"{k} {v:.1f}" for k, v in p["habits"].items())
        ),
        "players_per_egress_ip": f"before {EGRESS_CALLS_PER_DAY / calls(b):,.0f} | after "
        f"{EGRESS_CALLS_PER_DAY / calls(a):,.0f} (27 calls/s all day, less the meta's 58 an hour)",
        "refreshes_per_player_day": side(refreshes(b) / per, refreshes(a) / per),
        "results_in_window": both(
            b, a, lambda p: f"{p['results'].counts['unchanged']} unchanged, {p['results'].counts['changed']} changed"
        ),
        "result_bytes_per_player_day": side(b["results"].total / per, a["results"].total / per, " B", 0),
        "result_log_bytes_per_player_day": side(b["log_bytes"] / per, a["log_bytes"] / per, " B", 0),
        "unchanged_result_bytes": side(b["results"].mean("unchanged"), a["results"].mean("unchanged"), " B", 0),
        "changed_result_bytes": side(b["results"].mean("changed"), a["results"].mean("changed"), " B", 0),
        "store_bytes_per_player_day": side(
            sum(b["store_bytes"].values()) / per, sum(a["store_bytes"].values()) / per, " B", 0
        ),
        "store_bytes_by_table_after": ", ".join(
            f"{t} {v / per:,.0f}" for t, v in sorted(a["store_bytes"].items(), key=lambda kv: -kv[1]) if v
        ),
        "postgres_bytes_per_player_day": both(b, a, lambda p: p["postgres"]),
        "games_played_seen": both(b, a, lambda p: f"{p['truth'].games_seen} of {p['truth'].games}"),
        "sessions_seen": both(b, a, lambda p: f"{p['sessions']} session events, {p['truth'].sessions} play sessions"),
        "first_seen_played_day_before": both(b, a, lambda p: minutes(p["truth"].regular_first_seen)),
        "first_seen_back_after_idle": both(b, a, lambda p: minutes(p["truth"].returning_first_seen)),
        "update_seen_after": both(b, a, lambda p: minutes(p["truth"].updates_seen)),
        "numbers_equal_overfast": both(b, a, lambda p: f"{p['checked'] - len(p['wrong'])} of {p['checked']} players")
        + (f" ({(b['wrong'] + a['wrong'])[:3]})" if b["wrong"] or a["wrong"] else ""),
        "platforms_never_asked": both(b, a, lambda p: str(len(p["unasked"])))
        + " (stats on a platform the summary does not name, not played there since the first fetch)",
        "cpu_per_refresh": both(b, a, cpu),
        "steps_seconds": both(b, a, lambda p: f"{p['steps']} steps in {p['seconds']:.0f} s"),
    }


def run(players: int = 100, days: float = 1.5, seed: int = 0) -> dict[str, Any]:
    start = float(simdata.BASE_TIME)  # 2026-01-01: the same games in every run, and in the past (the processor's check)
    with tempfile.TemporaryDirectory(prefix="bench-population-") as tmp:
        home = Path(tmp)
        ensure_jars(JAR_CACHE)
        (home / "kafka" / "jars").mkdir(parents=True)
        jars_dir(home).symlink_to(jars_dir(JAR_CACHE), target_is_directory=True)
        base = Settings(
            home=home,
            kafka_port=free_port(),
            kafka_controller_port=free_port(),
            kafka_partitions=3,
            rate_limit=10_000.0,
        )
        broker = LocalBroker(base)
        broker.start()
        try:
            spawn = multiprocessing.get_context("spawn")  # a fresh interpreter: no Kafka client threads forked
            with ProcessPoolExecutor(max_workers=2, mp_context=spawn) as pool:
                runs = {name: pool.submit(measured, base, name, players, days, seed, start) for name in PHASES}
                raw = {name: done.result() for name, done in runs.items()}
            return figures(players, days, seed, start, raw)
        finally:
            broker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--players", type=int, default=100, help="tracked players (100)")
    parser.add_argument("--days", type=float, default=1.5, help="simulated days measured (1.5)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    found = run(args.players, args.days, args.seed)
    print(json.dumps(found, indent=2, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(found, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
