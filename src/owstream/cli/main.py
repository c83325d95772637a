"""The one entry point: ``owstream ...``. Thin: parse, call a function of the package, print.

Any :class:`~owstream.errors.OwstreamError` becomes one line on stderr and exit status 1.
"""

from __future__ import annotations

import json
import re
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from owstream import logs
from owstream.cli.consoles import err, out
from owstream.cli.context import client_settings, demo_hint, json_errors, wants_json_errors
from owstream.cli.kafka import kafka_app
from owstream.cli.track import track_app
from owstream.config import get_settings
from owstream.errors import ConfigError, FetchFailed, OwstreamError

app = typer.Typer(
    name="owstream",
    help="Overwatch 2 player stats streamed from the OverFast API through Apache Kafka into a lasting history.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
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


class StatsPlatform(StrEnum):  # a player's stats: one platform, or OverFast's total of both (old snapshots)
    pc = "pc"
    console = "console"
    both = "both"


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


class ExportTable(StrEnum):  # owstream.store.exports.TABLES
    snapshots = "snapshots"
    ranks = "ranks"
    overall = "overall"
    roles = "roles"
    heroes = "heroes"
    sessions = "sessions"


@app.callback()
def _root(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log at DEBUG level.")] = False,
) -> None:
    global _verbose  # noqa: PLW0603 - one flag for the whole invocation
    _verbose = verbose
    try:
        level = get_settings().log_level
    except ConfigError:  # said by the command when it reads its settings: as JSON too, with --json
        level = ""
    logs.configure("DEBUG" if verbose else level or "WARNING")


_verbose = False


def _service_logging() -> None:
    """Services log their progress: INFO unless configured otherwise."""
    if not _verbose and not get_settings().log_level:
        logs.configure("INFO")


# --- services --------------------------------------------------------------------------------------
@app.command()
def up(
    demo: Annotated[bool, typer.Option(help="Use the built-in OverFast simulator (no internet needed).")] = False,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Do not open a browser.")] = False,
    one_process: Annotated[
        bool,
        typer.Option(
            "--one-process/--process-per-service",
            help="The five Python services in one process (less memory) or one process each (as systemd runs them).",
        ),
    ] = True,
) -> None:
    """Broker (unless one is configured) + fetcher + processor + scheduler + meta + notifier + dashboard."""
    from owstream.runtime.up import run_up

    raise typer.Exit(run_up(get_settings(), demo=demo, open_browser=not no_browser, together=one_process))


@app.command()
def run(
    service: Annotated[
        list[Service],
        typer.Argument(help="The service; several share one process (`services`: the five Python ones)."),
    ],
    ready_file: Annotated[
        Path | None,
        typer.Option(
            help="Write this process's pid to this file once the service is ready (the Python services; the "
            "dashboard is ready when its /_stcore/health answers)."
        ),
    ] = None,
) -> None:
    """Services in the foreground (what `up` and Compose start): one, or several in one process."""
    _service_logging()
    settings = get_settings()
    if Service.dashboard in service:
        if len(set(service)) > 1:
            raise OwstreamError("the dashboard runs in a process of its own: `owstream run dashboard`")
        if ready_file is not None:
            raise OwstreamError(
                "--ready-file is for the Python services: the dashboard becomes Streamlit and is ready when "
                "http://<address>:<port>/_stcore/health answers ok"
            )
        from owstream.dashboard.launch import run_dashboard

        raise typer.Exit(run_dashboard(settings))
    from owstream.runtime.kafka import ensure_kafka
    from owstream.services.runner import make_service, run_foreground, run_together, service_names

    names = service_names([s.value for s in service])
    ensure_kafka(settings if len(names) > 1 else settings.for_service(names[0]), start_local=False)
    if len(names) > 1:
        services = {name: make_service(name, settings) for name in names}
        raise typer.Exit(run_together(services, ready_file=ready_file))
    run_foreground(make_service(names[0], settings), ready_file=ready_file)


# --- players ---------------------------------------------------------------------------------------
@app.command()
def fetch(
    battletag: str,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
    gamemode: Annotated[Gamemode | None, typer.Option(help="Show only this gamemode.")] = None,
    force: Annotated[bool, typer.Option(help="Fetch even if the last fetch is recent.")] = False,
    platform: Annotated[
        StatsPlatform | None, typer.Option(help="Show only this platform (default: every one, the most played first).")
    ] = None,
) -> None:
    """Request a fetch through Kafka, wait until it is stored, print the result."""
    from owstream.cli.commands import fetch_player, report
    from owstream.domain.battletag import parse_player
    from owstream.domain.outcomes import outcome_wording

    json_errors(as_json)
    tag = parse_player(battletag)
    settings = client_settings()
    with err.status(Text(f"{tag}: connecting to Kafka"), spinner="dots") as spinner:
        state = fetch_player(
            settings,
            tag,
            force=force,
            on_change=lambda st: spinner.update(Text(f"{tag}: {st.state}")),
            progress=lambda jars: spinner.update(Text(f"{tag}: {jars.describe()}")),
        )
    wording = outcome_wording(
        tag.player_id,
        state.outcome,
        error=state.error,
        retry_after=state.retry_after,
        cache_seconds=settings.overfast_cache_seconds,
        suggestion=state.suggestion,
    )
    if wording.failed:
        raise FetchFailed(wording.text, outcome=state.outcome, player_id=tag.player_id, retry_after=state.retry_after)
    if state.outcome == "skipped" and not as_json:
        err.print(wording.text, markup=False, highlight=False)
    _print_report(report(settings, tag, gamemode.value if gamemode else None, _value(platform)), as_json)


def _value(choice: StrEnum | None) -> str | None:
    return choice.value if choice is not None else None


@app.command()
def show(
    battletag: str,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
    gamemode: Annotated[Gamemode | None, typer.Option(help="Show only this gamemode.")] = None,
    season: Annotated[
        str | None,
        typer.Option(help="Only this competitive season's numbers: current, last (the app's) or a number."),
    ] = None,
    platform: Annotated[
        StatsPlatform | None, typer.Option(help="Show only this platform (default: every one, the most played first).")
    ] = None,
) -> None:
    """The latest stored data of a player, without fetching: each platform apart, the one played most first."""
    from owstream.cli.commands import report, season_report
    from owstream.domain.battletag import parse_player

    json_errors(as_json)
    tag = parse_player(battletag)
    mode = gamemode.value if gamemode else None
    if season is None:
        _print_report(report(client_settings(), tag, mode, _value(platform)), as_json)
        return
    if season not in ("current", "last") and not season.isdigit():
        raise OwstreamError(f"--season takes current, last or a season number, not {season!r}")
    _print_report(season_report(client_settings(), tag, season, mode, _value(platform)), as_json)


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

    json_errors(as_json)
    stored = meta_answer(
        client_settings(),
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

    settings = client_settings()
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
    out_path: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="The folder to write every table to (default <player>-history); with --table, the file "
            "(default <player>-<table>.csv or .parquet). Its parent folder must exist.",
        ),
    ] = None,
    table: Annotated[
        ExportTable | None, typer.Option(help="Only this table, to one file (default: every table, to a folder).")
    ] = None,
) -> None:
    """A player's history as tables: snapshots, ranks, overall, roles, heroes and sessions (UTC times)."""
    from owstream.cli.export import export_player
    from owstream.cli.render import print_export
    from owstream.domain.battletag import parse_player

    tag = parse_player(battletag)
    written = export_player(client_settings(), tag, fmt.value, out_path, table.value if table else None)
    print_export(out, tag, written)


@app.command()
def simulate(
    *,
    port: Annotated[int, typer.Option(help="Port (0: a free one).")] = 8080,
    host: Annotated[
        str, typer.Option(help="Address to bind: 127.0.0.1; 0.0.0.0 only inside a container network (compose.yaml).")
    ] = "127.0.0.1",
    players: Annotated[bool, typer.Option("--players", help="Print the simulated player ids and exit.")] = False,
    advance_every: Annotated[
        float, typer.Option(help="Seconds between refreshes of each player's stats (0: only on /_sim/advance).")
    ] = 60.0,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic players.")] = 0,
    state: Annotated[
        Path | None,
        typer.Option(help="Keep the players in this file across restarts (read at start, written after each refresh)."),
    ] = None,
) -> None:
    """Run the OverFast simulator: synthetic players whose stats advance over time."""
    from owstream import simulator

    _service_logging()
    if players:
        for pid in simulator.player_ids(seed):
            print(pid)
        return
    simulator.serve_forever(port, host=host, seed=seed, advance_every=advance_every or None, state_path=state)


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


def error_json(exc: OwstreamError) -> str:
    """The one JSON object a ``--json`` command prints on stdout for an error: its ``type`` (the outcome
    of a fetch, else the error's kind: ``invalid_battle_tag``, ``kafka_unavailable``, ...) and ``message``,
    with the player and when to try again where known."""
    kind = getattr(exc, "outcome", None) or re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__).lower()
    body: dict[str, Any] = {"type": kind, "message": str(exc)}
    for name in ("player_id", "retry_after"):
        value = getattr(exc, name, None)
        if value is not None:
            body[name] = value
    return json.dumps({"error": body}, ensure_ascii=False)


def main() -> None:
    try:
        app()
    except OwstreamError as exc:
        if wants_json_errors():
            print(error_json(exc), flush=True)
        err.print(Text.assemble(("error:", "red"), f" {exc}{demo_hint(exc)}"), highlight=False, soft_wrap=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
