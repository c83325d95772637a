"""``owstream kafka start|stop|status``: the local Apache Kafka broker (or 3-node cluster)."""

from __future__ import annotations

import json
import time
from typing import Annotated

import typer

from owstream.cli.consoles import err, out
from owstream.cli.context import client_settings, json_errors
from owstream.config import Settings, get_settings
from owstream.errors import OwstreamError

kafka_app = typer.Typer(help="The local Apache Kafka broker (KRaft, 127.0.0.1).", no_args_is_help=True)


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
    from owstream.runtime.kafka import JarReporter, ensure_kafka

    settings = client_settings()  # with `owstream up` running from this home: its broker, on its ports
    _require_local(settings)
    already = LocalBroker(settings).state()
    if brokers is None and already is not None:
        brokers = len(already.nodes)  # the running one: start its dead nodes, if any
    if brokers is not None:
        settings = settings.replace(kafka_brokers=brokers)
    broker = LocalBroker(settings)
    began = time.monotonic()
    with JarReporter(err) as jars:
        state = broker.start(progress=jars)
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
    """Brokers, topics with partitions (offsets, leader, in-sync replicas), consumer groups with lag; and
    the stack `owstream up` runs from this home, if one does."""
    from owstream.cli.context import applied
    from owstream.runtime.status import kafka_status as collect

    json_errors(as_json)
    status = collect(client_settings())
    stack = applied().stack
    status["stack"] = None if stack is None else json.loads(stack.to_json())
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
