"""Run scenarios on profiles and print the one table: fault | runs | messages | stored | lost | duplicated |
events missing | off contract | in its window | recovered by itself."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from reliability.pipeline import MissedWindowError, Pipeline
from reliability.scenarios import Scenario
from reliability.stack import Cluster, Profile

log = logging.getLogger("reliability")

HEADER = (
    "fault", "runs", "messages", "stored", "lost", "duplicated", "events missing", "off contract", "in its window",
    "recovered by itself",
)  # fmt: skip


@dataclass
class Row:
    fault: str
    profile: str
    runs: int = 0
    messages: int = 0
    stored: int = 0
    lost: int = 0
    duplicated: int = 0
    events_missing: int = 0
    off_contract: int = 0
    windowed: int = 0  # runs whose fault has a window and hit it
    missed: int = 0  # runs whose fault missed its window (the run fails)
    failed: int = 0  # runs that ended in an error (counted lost: what they sent and was not stored)
    recovered: int = 0  # runs that recovered
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        clean = self.lost == 0 and self.duplicated == 0 and self.events_missing == 0 and self.off_contract == 0
        return clean and self.runs > 0 and self.recovered == self.runs and not self.missed and not self.failed

    def cells(self) -> tuple[str, ...]:
        recovered = "yes" if self.recovered == self.runs and self.runs else f"no ({self.recovered}/{self.runs})"
        if self.missed:
            window = f"no ({self.missed}/{self.runs} missed)"
        else:
            window = "yes" if self.windowed == self.runs and self.runs else "-" if not self.windowed else "partly"
        return (
            f"{self.fault} [{self.profile}]", str(self.runs), f"{self.messages:,}", f"{self.stored:,}",
            str(self.lost), str(self.duplicated), str(self.events_missing), str(self.off_contract), window,
            recovered,
        )  # fmt: skip


def run_scenario(cluster: Cluster, scenario: Scenario) -> Row:
    row = Row(scenario.name, cluster.profile.label)
    began = time.monotonic()
    for run in range(scenario.runs):
        pipeline = Pipeline(cluster, scenario.name)
        log.info("%s [%s] run %d/%d: %s", scenario.name, cluster.profile.label, run + 1, scenario.runs, pipeline.prefix)
        try:
            pipeline.start()
            scenario.act(cluster, pipeline, run)
            outcome = pipeline.finish()
        except Exception as exc:
            log.exception("%s: the run failed", scenario.name)
            row.runs += 1
            row.missed += isinstance(exc, MissedWindowError)
            row.failed += not isinstance(exc, MissedWindowError)
            row.lost += max(0, pipeline.sent - max(0, pipeline.stored()))
            row.notes.append(f"run {run + 1} failed: {type(exc).__name__}: {exc}")
            row.notes += [f"run {run + 1}: {note}" for note in pipeline.notes]
            pipeline.close()
            continue
        problems = pipeline.close()
        c = outcome.counts
        row.runs += 1
        row.messages += c.messages
        row.stored += c.stored
        row.lost += c.lost
        row.duplicated += c.duplicated
        row.events_missing += c.events_missing
        row.off_contract += c.off_contract
        row.windowed += outcome.window is not None
        row.recovered += outcome.recovered
        row.notes += [f"run {run + 1}: {note}" for note in outcome.notes + problems]
        log.info(
            "%s run %d: %d messages, %d stored, %d lost, %d duplicated, %d events missing, recovered %s",
            scenario.name, run + 1, c.messages, c.stored, c.lost, c.duplicated, c.events_missing, outcome.recovered,
        )  # fmt: skip
    row.seconds = time.monotonic() - began
    return row


def run_all(root: Path, plan: Iterable[tuple[Profile, list[Scenario]]]) -> list[Row]:
    rows: list[Row] = []
    for profile, scenarios in plan:
        cluster = Cluster(root / profile.name, profile)
        log.info("starting %s", profile.label)
        try:
            cluster.start()
            for scenario in scenarios:
                rows.append(run_scenario(cluster, scenario))
                log.info("\n%s", render(rows[-1:]))
        finally:
            cluster.stop()
    return rows


def render(rows: list[Row]) -> str:
    """The table, in Markdown (readable in a terminal and in docs/reliability.md alike)."""
    table = [HEADER, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADER))]
    right = {1, 2, 3, 4, 5, 6, 7}

    def line(cells: tuple[str, ...]) -> str:
        padded = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(("-" * (w + 1) + ":") if i in right else ("-" * (w + 2)) for i, w in enumerate(widths)) + "|"
    return "\n".join([line(HEADER), rule, *(line(r.cells()) for r in rows)])
