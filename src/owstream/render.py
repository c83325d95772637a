"""Rich rendering for the CLI's human-readable output (JSON output does not come here)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def print_kafka_status(console: Console, status: dict[str, Any]) -> None:
    broker = status["broker"]
    where = "local broker" if broker["local"] else "cluster"
    version = f"Kafka {broker['version']}" if broker["version"] else "Kafka"
    state = "reachable" if broker["reachable"] else "[red]not reachable[/red]"
    pid = f", pid {broker['pid']}" if broker["pid"] else ""
    console.print(f"{version} {where} at {broker['bootstrap']}: {state}{pid}")
    if not broker["reachable"]:
        if broker["local"]:
            console.print("start it with `owstream kafka start`")
        return
    topics = Table(title="topics", title_justify="left")
    for col in ("topic", "partitions", "end offsets", "messages"):
        topics.add_column(col, justify="left" if col == "topic" else "right")
    for t in status["topics"]:
        topics.add_row(
            t["name"], str(t["partitions"]), " ".join(map(str, t["end_offsets"])), str(t["messages"])
        )
    console.print(topics)
    if not status["topics"]:
        console.print("no owstream topics yet (they are created by `owstream kafka start` or any service)")
    groups = Table(title="consumer groups", title_justify="left")
    for col in ("group", "state", "members", "lag"):
        groups.add_column(col, justify="left" if col in ("group", "state") else "right")
    for g in status["groups"]:
        groups.add_row(g["group"], g["state"], str(g["members"]), str(g["total_lag"]))
    if status["groups"]:
        console.print(groups)
    else:
        console.print("no consumer groups yet")
