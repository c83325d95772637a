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
from rich.console import Console

from owstream import logs
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
track_app = typer.Typer(help="The watchlist: players the scheduler refreshes.", no_args_is_help=True)
app.add_typer(kafka_app, name="kafka")
app.add_typer(track_app, name="track")

out = Console()
err = Console(stderr=True)


class Service(StrEnum):
    fetcher = "fetcher"
    processor = "processor"
    scheduler = "scheduler"
    dashboard = "dashboard"


class Gamemode(StrEnum):
    quickplay = "quickplay"
    competitive = "competitive"


class ExportFormat(StrEnum):
    csv = "csv"
    parquet = "parquet"


@app.callback()
def _root(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log at DEBUG level.")] = False,
) -> None:
    settings = get_settings()
    logs.configure("DEBUG" if verbose else settings.log_level)


# --- kafka ------------------------------------------------------------------------------------------
@kafka_app.command("start")
def kafka_start() -> None:
    """Start the local broker in the background (jars fetched once, then cached) and create the topics."""
    from owstream.bus import LocalBroker, ensure_kafka

    settings = get_settings()
    _require_local(settings)
    broker = LocalBroker(settings)
    began = time.monotonic()
    already = broker.state() is not None
    state = broker.start()
    ensure_kafka(settings, start_local=False)
    verb = "already running" if already else f"ready in {time.monotonic() - began:.1f} s"
    out.print(f"Kafka {state.version} {verb} at {state.bootstrap} (pid {state.pid}, log {broker.log_path})")


@kafka_app.command("stop")
def kafka_stop() -> None:
    """Stop the local broker (a controlled shutdown)."""
    from owstream.bus import LocalBroker

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
    """Broker address and version, topics with partitions and end offsets, consumer groups with lag."""
    from owstream.status import kafka_status as collect

    status = collect(get_settings())
    if as_json:
        print(json.dumps(status))
        return
    from owstream.render import print_kafka_status

    print_kafka_status(out, status)


def _require_local(settings: Settings) -> None:
    if not settings.uses_local_broker:
        raise OwstreamError(
            f"OWSTREAM_KAFKA_BOOTSTRAP is set ({settings.kafka_bootstrap}): owstream uses that cluster "
            "and does not run a local broker"
        )


# --- not yet built ----------------------------------------------------------------------------------
def _not_built(what: str) -> None:
    raise OwstreamError(f"`owstream {what}` is not built yet")


@app.command()
def up(
    demo: Annotated[
        bool, typer.Option(help="Use the built-in OverFast simulator (no internet needed).")
    ] = False,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Do not open a browser.")] = False,
) -> None:
    """Broker (unless one is configured) + fetcher + processor + scheduler + dashboard."""
    _not_built("up")


@app.command()
def run(service: Service) -> None:
    """Run one service in the foreground (what `up` and Docker Compose start)."""
    _not_built(f"run {service.value}")


@app.command()
def fetch(
    battletag: str,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
    gamemode: Annotated[Gamemode | None, typer.Option(help="Show only this gamemode.")] = None,
    force: Annotated[bool, typer.Option(help="Fetch even if the last fetch is recent.")] = False,
) -> None:
    """Request a fetch through Kafka, wait until it is stored, print the result."""
    _not_built("fetch")


@app.command()
def show(
    battletag: str,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
    gamemode: Annotated[Gamemode | None, typer.Option(help="Show only this gamemode.")] = None,
) -> None:
    """The latest stored data of a player, without fetching."""
    _not_built("show")


@track_app.command("add")
def track_add(battletag: str) -> None:
    """Add a player to the watchlist."""
    _not_built("track add")


@track_app.command("remove")
def track_remove(battletag: str) -> None:
    """Remove a player from the watchlist."""
    _not_built("track remove")


@track_app.command("list")
def track_list() -> None:
    """The watchlist, with when each player was last refreshed."""
    _not_built("track list")


@app.command()
def replay() -> None:
    """Rebuild the store from the fetch-results topic (offset 0 to its end)."""
    _not_built("replay")


@app.command()
def export(
    battletag: str,
    fmt: Annotated[ExportFormat, typer.Option("--format", help="csv or parquet")] = ExportFormat.csv,
    out_path: Annotated[Path, typer.Option("--out", help="File to write.")] = Path("history.csv"),
) -> None:
    """The snapshot history of a player as a table."""
    _not_built("export")


@app.command()
def simulate(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: a free one).")] = 8080,
    players: Annotated[
        bool, typer.Option("--players", help="Print the simulated player ids and exit.")
    ] = False,
) -> None:
    """Run the OverFast simulator: synthetic players whose stats advance over time."""
    _not_built("simulate")


@app.command()
def bench(
    quick: Annotated[bool, typer.Option(help="A short run of each benchmark.")] = False,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Also write the figures to this file.")
    ] = None,
) -> None:
    """The benchmark suite: prints figures."""
    _not_built("bench")


def main() -> None:
    try:
        app()
    except OwstreamError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)


def _unused(_: Any) -> None:  # pragma: no cover - keeps typing imports honest while commands grow
    return None


if __name__ == "__main__":
    main()
