"""The one entry point: ``owstream ...``. Thin: parse, call a function of the package, print.

Any :class:`~owstream.errors.OwstreamError` becomes one line on stderr and exit status 1.
"""

from __future__ import annotations

import json
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from owstream import logs
from owstream.cli.consoles import err, out
from owstream.cli.track import track_app
from owstream.config import Settings, get_settings
from owstream.errors import OwstreamError

app = typer.Typer(
    name="owstream",
    help="Overwatch 2 player stats streamed from the OverFast API through Apache Kafka into a lasting history.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
kafka_app = typer.Typer(help="The local Apache Kafka broker (KRaft, 127.0.0.1).", no_args_is_help=True)
app.add_typer(kafka_app, name="kafka")
app.add_typer(track_app, name="track")


class Service(StrEnum):
    fetcher = "fetcher"
    processor = "processor"
    scheduler = "scheduler"
    meta = "meta"
    notifier = "notifier"
    dashboard = "dashboard"
    services = "services"  # fetcher, processor, scheduler, meta and notifier in one process (`owstream up`)


class Gamemode(StrEnum):
    quickplay = "quickplay"
    competitive = "competitive"


class Platform(StrEnum):
    pc = "pc"
    console = "console"


class Region(StrEnum):
    americas = "americas"
    europe = "europe"
    asia = "asia"


class Division(StrEnum):  # OverFast's filter: grandmaster counts Champion players too
    all = "all"
    bronze = "bronze"
    silver = "silver"
    gold = "gold"
    platinum = "platinum"
    diamond = "diamond"
    master = "master"
    grandmaster = "grandmaster"


class ExportFormat(StrEnum):
    csv = "csv"
    parquet = "parquet"


@app.callback()
def _root(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log at DEBUG level.")] = False,
) -> None:
    global _verbose  # noqa: PLW0603 - one flag for the whole invocation
    _verbose = verbose
    logs.configure("DEBUG" if verbose else get_settings().log_level or "WARNING")


_verbose = False


def _service_logging() -> None:
    """Services log their progress: INFO unless configured otherwise."""
    if not _verbose and not get_settings().log_level:
        logs.configure("INFO")


# --- kafka ------------------------------------------------------------------------------------------
@kafka_app.command("start")
def kafka_start(
    brokers: Annotated[
        int | None,
        typer.Option(help="Nodes of the local cluster: 1, or 3 for replication (default OWSTREAM_KAFKA_BROKERS)."),
    ] = None,
) -> None:
    """Start the local broker (or cluster) in the background (jars fetched once, then cached) and create
    the topics."""
    from owstream.localkafka import LocalBroker
    from owstream.runtime.kafka import ensure_kafka

    settings = get_settings()
    _require_local(settings)
    already = LocalBroker(settings).state()
    if brokers is None and already is not None:
        brokers = len(already.nodes)  # the running one: start its dead nodes, if any
    if brokers is not None:
        settings = settings.replace(kafka_brokers=brokers)
    broker = LocalBroker(settings)
    began = time.monotonic()
    state = broker.start()
    ensure_kafka(settings, start_local=False)
    restarted = already is not None and len(already.nodes) == len(state.nodes) and already != state
    if already is not None and not restarted:
        verb = "already running"
    else:
        verb = f"{'restarted' if restarted else 'ready'} in {time.monotonic() - began:.1f} s"
    pids = ", ".join(str(n.pid) for n in state.nodes)
    nodes = f"{len(state.nodes)} nodes " if len(state.nodes) > 1 else ""
    out.print(
        f"Kafka {state.version} {nodes}{verb} at {state.bootstrap} (pid {pids}, log {broker.log_path})",
        markup=False,
        highlight=False,
    )


@kafka_app.command("stop")
def kafka_stop() -> None:
    """Stop the local broker, every node of it (a controlled shutdown)."""
    from owstream.localkafka import LocalBroker

    settings = get_settings()
    _require_local(settings)
    if LocalBroker(settings).stop():
        out.print("Kafka stopped")
    else:
        out.print("no local Kafka broker is running")


@kafka_app.command("status")
def kafka_status(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
) -> None:
    """Brokers, topics with partitions (offsets, leader, in-sync replicas), consumer groups with lag."""
    from owstream.runtime.status import kafka_status as collect

    status = collect(get_settings())
    if as_json:
        print(json.dumps(status))
        return
    from owstream.cli.render import print_kafka_status

    print_kafka_status(out, status)


def _require_local(settings: Settings) -> None:
    if not settings.uses_local_broker:
        raise OwstreamError(
            f"OWSTREAM_KAFKA_BOOTSTRAP is set ({settings.kafka_bootstrap}): owstream uses that cluster "
            "and does not run a local broker"
        )


# --- services --------------------------------------------------------------------------------------
@app.command()
def up(
    demo: Annotated[bool, typer.Option(help="Use the built-in OverFast simulator (no internet needed).")] = False,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Do not open a browser.")] = False,
    one_process: Annotated[
        bool,
        typer.Option(
            "--one-process/--process-per-service",
            help="The five Python services in one process (less memory) or one process each (as Compose runs them).",
        ),
    ] = True,
) -> None:
    """Broker (unless one is configured) + fetcher + processor + scheduler + meta + notifier + dashboard."""
    from owstream.runtime.up import run_up

    raise typer.Exit(run_up(get_settings(), demo=demo, open_browser=not no_browser, together=one_process))


@app.command()
def run(
    service: Service,
    ready_file: Annotated[
        Path | None,
        typer.Option(
            help="Write this process's pid to this file once the service is ready (the Python services; the "
            "dashboard is ready when its /_stcore/health answers)."
        ),
    ] = None,
) -> None:
    """One service in the foreground (what `up` and Compose start); `services`: the five Python ones in one process."""
    if service is Service.dashboard and ready_file is not None:
        raise OwstreamError(
            "--ready-file is for the Python services: the dashboard becomes Streamlit and is ready when "
            "http://<address>:<port>/_stcore/health answers ok"
        )
    _service_logging()
    settings = get_settings()
    if service is Service.dashboard:
        from owstream.dashboard.launch import run_dashboard

        raise typer.Exit(run_dashboard(settings))
    from owstream.runtime.kafka import ensure_kafka
    from owstream.services.runner import SERVICES, make_service, run_foreground, run_together

    ensure_kafka(settings, start_local=False)
    if service is Service.services:
        services = {name: make_service(name, settings) for name in SERVICES}
        raise typer.Exit(run_together(services, ready_file=ready_file))
    run_foreground(make_service(service.value, settings), ready_file=ready_file)


# --- players ---------------------------------------------------------------------------------------
@app.command()
def fetch(
    battletag: str,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
    gamemode: Annotated[Gamemode | None, typer.Option(help="Show only this gamemode.")] = None,
    force: Annotated[bool, typer.Option(help="Fetch even if the last fetch is recent.")] = False,
) -> None:
    """Request a fetch through Kafka, wait until it is stored, print the result."""
    from owstream.cli.commands import fetch_player, report
    from owstream.domain.battletag import parse_player
    from owstream.domain.outcomes import outcome_wording

    tag = parse_player(battletag)
    settings = get_settings()
    with err.status(Text(f"{tag}: connecting to Kafka"), spinner="dots") as spinner:
        state = fetch_player(
            settings, tag, force=force, on_change=lambda st: spinner.update(Text(f"{tag}: {st.state}"))
        )
    wording = outcome_wording(
        tag.player_id,
        state.outcome,
        error=state.error,
        retry_after=state.retry_after,
        cache_seconds=settings.overfast_cache_seconds,
    )
    if wording.failed:
        raise OwstreamError(wording.text)
    if state.outcome == "skipped" and not as_json:
        err.print(wording.text, markup=False, highlight=False)
    _print_report(report(settings, tag, gamemode.value if gamemode else None), as_json)


@app.command()
def show(
    battletag: str,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
    gamemode: Annotated[Gamemode | None, typer.Option(help="Show only this gamemode.")] = None,
    season: Annotated[
        str | None,
        typer.Option(help="Only this competitive season's numbers: current, last or a season number."),
    ] = None,
) -> None:
    """The latest stored data of a player, without fetching."""
    from owstream.cli.commands import report, season_report
    from owstream.domain.battletag import parse_player

    tag = parse_player(battletag)
    mode = gamemode.value if gamemode else None
    if season is None:
        _print_report(report(get_settings(), tag, mode), as_json)
        return
    if season not in ("current", "last") and not season.isdigit():
        raise OwstreamError(f"--season takes current, last or a season number, not {season!r}")
    _print_report(season_report(get_settings(), tag, season, mode), as_json)


def _print_report(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(data, ensure_ascii=False))
        return
    from owstream.cli.render import print_report

    print_report(out, data)


@app.command()
def meta(
    platform: Annotated[Platform, typer.Option(help="pc or console.")] = Platform.pc,
    region: Annotated[Region | None, typer.Option(help="Default: OWSTREAM_META_REGION (europe).")] = None,
    division: Annotated[
        Division, typer.Option(help="Competitive division (grandmaster includes Champion); all: every one.")
    ] = Division.all,
    gamemode: Annotated[Gamemode, typer.Option(help="quickplay or competitive.")] = Gamemode.competitive,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
) -> None:
    """The meta: OverFast's newest stored pick rate and winrate per hero (percent), no fetch."""
    from owstream.cli.commands import meta_answer, meta_json

    stored = meta_answer(
        get_settings(),
        gamemode=gamemode.value,
        platform=platform.value,
        region=region.value if region else None,
        division=None if division is Division.all else division.value,
    )
    if as_json:
        print(meta_json(stored))
        return
    from owstream.cli.render import print_meta

    print_meta(out, stored)


@app.command()
def replay() -> None:
    """Rebuild the store from the fetch-results topic (offset 0 to its end)."""
    from rich.progress import Progress

    from owstream.cli.commands import replay as do_replay
    from owstream.runtime.kafka import ensure_kafka

    settings = get_settings()
    ensure_kafka(settings)
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("replaying fetch-results", total=None)
        counts = do_replay(settings, lambda done, total: progress.update(task, completed=done, total=total))
    out.print(
        f"replayed {counts['messages']} messages: {counts['stored']} results stored, "
        f"{counts['skipped']} unreadable skipped"
    )


@app.command()
def export(
    battletag: str,
    fmt: Annotated[ExportFormat, typer.Option("--format", help="csv or parquet")] = ExportFormat.csv,
    out_path: Annotated[Path, typer.Option("--out", help="File to write.")] = Path("history.csv"),
) -> None:
    """The snapshot history of a player as a table."""
    from owstream.cli.export import export_history
    from owstream.domain.battletag import parse_player

    tag = parse_player(battletag)
    rows = export_history(get_settings(), tag, fmt.value, out_path)
    out.print(f"wrote {rows} rows of {tag}'s history to {out_path}", markup=False, highlight=False)


@app.command()
def simulate(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: a free one).")] = 8080,
    players: Annotated[bool, typer.Option("--players", help="Print the simulated player ids and exit.")] = False,
    advance_every: Annotated[
        float, typer.Option(help="Seconds between refreshes of each player's stats (0: only on /_sim/advance).")
    ] = 60.0,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic players.")] = 0,
) -> None:
    """Run the OverFast simulator: synthetic players whose stats advance over time."""
    from owstream import simulator

    _service_logging()
    if players:
        for pid in simulator.player_ids(seed):
            print(pid)
        return
    simulator.serve_forever(port, seed=seed, advance_every=advance_every or None)


@app.command()
def bench(
    quick: Annotated[bool, typer.Option(help="A short run of each benchmark.")] = False,
    only: Annotated[
        list[str] | None, typer.Option(help="Run only this benchmark (repeatable): latency, commands, pages, …")
    ] = None,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Also write the figures, with commit, host and date, to this file.")
    ] = None,
    record: Annotated[
        bool, typer.Option(help="Keep the figures, with commit, host and date, in docs/results/ (what docs quote).")
    ] = False,
) -> None:
    """The benchmark suite (docs/benchmarks.md): prints figures, each with its limit measured in the same run."""
    from owstream.cli.bench import run_suite
    from owstream.cli.results import Run

    run = Run("bench")
    figures = run_suite(quick=quick, only=only)
    extra: dict[str, Any] = {"quick": quick, "only": only or []}
    if json_path is not None:
        json_path.write_text(json.dumps(run.document(figures, **extra), indent=2, default=str) + "\n")
    if record:
        tag = "-".join(["quick"] * quick + list(only or []))
        out.print(f"results: {run.record(figures, tag=tag, **extra)}")


def main() -> None:
    try:
        app()
    except OwstreamError as exc:
        err.print(Text.assemble(("error:", "red"), f" {exc}"), highlight=False, soft_wrap=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
