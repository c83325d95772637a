"""Counting from outside, against what was sent: the harness keeps the id of every request and poison message
it sends; kcat reads each topic from the beginning (``isolation.level=read_committed``), plain SQL reads the
store. Nothing of owstream's own readers is used.

* the **messages** of a run are the requests the harness sent (their ids kept by the sender, whether or not
  they reached the topic), the scheduler's requests (found on ``fetch-requests``: the harness does not send
  them) and the poison messages the harness sent (each marked with a header ``reliability: poison-<n>``, the
  services ignore it);
* a request is **stored** when the store's ``fetch_outcomes`` has a row for it;
* it is **lost** unless it is on ``fetch-requests`` exactly once, exactly one visible result on ``fetch-results``
  answers it, the store holds that result for it, and exactly one ``fetch_stored`` event of that result for it
  is visible (a request that never reached the topic is lost at the first hop); a poison message is lost
  unless it is on its topic and one dead letter names its topic, partition and offset;
* **duplicated** counts requests on the topic twice, answered by more than one visible result or stored with
  more than one result, result ids visible twice, event ids visible more than once (derived events;
  ``fetch_started`` is progress, sent outside the transaction and at least once by design: readers
  deduplicate it by its id, so it is counted apart), and poison messages dead-lettered more than once;
* **events missing** counts the events the store's tables say exist (a ``session`` per sessions row, a
  ``rank_change`` per rank_changes row, a ``not_found`` per not-found result, a ``fetch_stored`` per
  fetch_outcomes row) that are not visible on ``player-events``;
* **off contract** counts the messages the services wrote that break the JSON Schema their ``schema`` header
  names, or that carry another topic's schema (tests/support/contracts.py): every topic, every run.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import create_engine, text

from owstream.bus import TopicNames
from owstream.config import Settings
from support.contracts import problems_of

KCAT = shutil.which("kcat") or "/usr/bin/kcat"
POISON = "reliability"  # the header that marks what the harness sent as poison: poison-<n>
Source = tuple[str, int, int]  # topic, partition, offset


@dataclass(frozen=True)
class Message:
    topic: str
    partition: int
    offset: int
    headers: dict[str, str]
    payload: Any  # the JSON value, or None if the payload is not JSON
    text: str | None = None  # the payload as kcat printed it

    @property
    def source(self) -> Source:
        return (self.topic, self.partition, self.offset)

    @property
    def poison(self) -> bool:
        return POISON in self.headers

    @property
    def request_id(self) -> str:
        """The id of a request: its ``request_id``, or ``<topic>:<partition>:<offset>`` (as the fetcher names it)."""
        given = self.payload.get("request_id") if isinstance(self.payload, dict) else None
        return str(given) if given else f"{self.topic}:{self.partition}:{self.offset}"

    def off_contract(self) -> list[str]:
        where = f"{self.topic}[{self.partition}]@{self.offset}"
        return problems_of(where, self.topic, self.headers, self.text)


def read_topic(settings: Settings, topic: str, timeout: float = 90.0) -> list[Message]:
    """Every committed message of ``topic`` (kcat -C -o beginning -e -J, read_committed)."""
    proc = subprocess.run(
        [KCAT, "-b", settings.bootstrap_servers, "-X", "isolation.level=read_committed", "-C", "-t", topic,
         "-o", "beginning", "-e", "-J", "-q", "-X", "fetch.message.max.bytes=16777216"],
        capture_output=True, timeout=timeout, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(f"kcat could not read {topic}: {proc.stderr.decode(errors='replace')[-300:]}")
    out = []
    for raw in proc.stdout.splitlines():
        if not raw.strip():
            continue
        envelope = json.loads(raw.decode("utf-8", "surrogateescape"))
        pairs = envelope.get("headers") or []
        headers = {str(pairs[i]): str(pairs[i + 1]) for i in range(0, len(pairs) - 1, 2)}
        try:
            payload = json.loads(envelope["payload"]) if envelope.get("payload") is not None else None
        except (ValueError, TypeError, RecursionError):
            payload = None
        out.append(
            Message(envelope["topic"], envelope["partition"], envelope["offset"], headers, payload, envelope["payload"])
        )
    return out


def request_ids(messages: Iterable[Message]) -> list[str]:
    """The ids of the (non-poison) requests among ``messages``."""
    return [m.request_id for m in messages if not m.poison]


@dataclass
class Counts:
    messages: int = 0
    stored: int = 0
    lost: int = 0
    duplicated: int = 0
    events_missing: int = 0
    off_contract: int = 0  # messages the services wrote that break their schema
    progress_repeats: int = 0  # fetch_started events visible more than once (at-least-once by design)
    outcomes: Counter[str] = field(default_factory=Counter)  # stored results by outcome
    derived: int = 0  # session and rank_change events the store says exist
    examples: list[str] = field(default_factory=list)  # a few of the problems, for the log

    @property
    def clean(self) -> bool:
        return self.lost == 0 and self.duplicated == 0 and self.events_missing == 0 and self.off_contract == 0

    def problem(self, text: str) -> None:
        if len(self.examples) < 8:
            self.examples.append(text)


def store_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = create_engine(url)
    queries = {
        "outcomes": "SELECT request_id, result_id, outcome FROM fetch_outcomes",
        "raw": "SELECT result_id FROM raw_results",
        "sessions": "SELECT s.result_id, count(*) FROM sessions x JOIN snapshots s ON s.id = x.to_snapshot_id "
        "GROUP BY s.result_id",
        "ranks": "SELECT s.result_id, count(*) FROM rank_changes x JOIN snapshots s ON s.id = x.snapshot_id "
        "GROUP BY s.result_id",
    }
    try:
        with engine.connect() as conn:
            return {name: [tuple(row) for row in conn.execute(text(sql))] for name, sql in queries.items()}
    finally:
        engine.dispose()


def stored_requests(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {row[0] for row in conn.execute(text("SELECT DISTINCT request_id FROM fetch_outcomes"))}
    finally:
        engine.dispose()


def count(settings: Settings, sent: list[str], poison_sent: list[str]) -> Counts:
    """The counts of one run: ``sent`` the ids of the requests the harness sent, ``poison_sent`` the marks of the
    poison messages it sent (``poison-<n>``)."""
    names = TopicNames(settings.topic_prefix)
    topics = {topic: read_topic(settings, topic) for topic in names.all()}
    requests, results = topics[names.fetch_requests], topics[names.fetch_results]
    events, letters = topics[names.player_events], topics[names.dead_letter]
    rows = store_rows(settings.resolved_store_url)
    on_topic = Counter(m.request_id for m in requests if not m.poison)
    scheduled = sorted(set(on_topic) - set(sent))  # the scheduler's: only the topic knows them
    counts = Counts(messages=len(sent) + len(scheduled) + len(poison_sent))
    for messages in topics.values():
        for m in messages:
            broken = [] if m.poison else m.off_contract()
            counts.off_contract += bool(broken)
            for line in broken[:1]:
                counts.problem(f"off contract: {line}")
    results = [m for m in results if not m.poison]

    visible: dict[str, set[str]] = defaultdict(set)  # request -> result ids answering it
    result_seen: Counter[str] = Counter()
    for m in results:
        body = m.payload if isinstance(m.payload, dict) else {}
        rid = str(body.get("result_id"))
        result_seen[rid] += 1
        for request in body.get("request_ids") or []:
            visible[str(request)].add(rid)
    stored: dict[str, set[str]] = defaultdict(set)
    for request, rid, _outcome in rows["outcomes"]:
        stored[request].add(rid)
    ids: Counter[str] = Counter()
    announced: dict[str, set[str]] = defaultdict(set)  # request -> result ids of its fetch_stored events
    for m in events:
        body = m.payload if isinstance(m.payload, dict) else {}
        event_id = str(body.get("event_id"))
        if body.get("type") == "fetch_started":
            counts.progress_repeats += event_id in ids
        ids[event_id] += 1
        if body.get("type") == "fetch_stored":
            announced[str(body.get("request_id"))].add(event_id.split(":fetch_stored:", 1)[0])

    for request in [*sent, *scheduled]:
        answers, kept, told = visible.get(request, set()), stored.get(request, set()), announced.get(request, set())
        seen = f"{request}: on the topic {on_topic[request]}x, results {sorted(answers)}, stored {sorted(kept)}, "
        seen += f"announced {sorted(told)}"
        if on_topic[request] > 1 or len(answers) > 1 or len(kept) > 1 or len(told) > 1:
            counts.duplicated += 1
            counts.problem(seen)
        elif on_topic[request] != 1 or len(answers) != 1 or kept != answers or told != answers:
            counts.lost += 1
            counts.problem(seen)
        if kept:
            counts.stored += 1
    twice = [rid for rid, n in result_seen.items() if n > 1]
    counts.duplicated += len(twice) + sum(
        n - 1 for event_id, n in ids.items() if n > 1 and ":fetch_started" not in event_id
    )
    for event_id, n in ids.items():
        if n > 1 and ":fetch_started" not in event_id:
            counts.problem(f"event {event_id} visible {n} times")
    if twice:
        counts.problem(f"results visible twice: {twice[:3]}")

    expected: set[str] = set()
    for rid, n in rows["sessions"]:
        expected |= {f"{rid}:session:{i}" for i in range(n)}
    for rid, n in rows["ranks"]:
        expected |= {f"{rid}:rank_change:{i}" for i in range(n)}
    counts.derived = len(expected)
    counts.outcomes = Counter(outcome for _r, _rid, outcome in rows["outcomes"])
    not_found = {rid for _request, rid, outcome in rows["outcomes"] if outcome == "not_found"}
    expected |= {f"{rid}:not_found:0" for rid in not_found}
    missing = sorted(expected - set(ids))
    missing += [f"fetch_stored of {rid} for {r}" for r, rid, _o in rows["outcomes"] if rid not in announced.get(r, ())]
    counts.events_missing = len(missing)
    for item in missing[:3]:
        counts.problem(f"event missing: {item}")
    _count_poison(counts, poison_sent, [*requests, *topics[names.fetch_results]], letters)
    return counts


def poison_sources(messages: Iterable[Message]) -> dict[str, list[Source]]:
    """Where each poison message the harness sent is, by its mark."""
    found: dict[str, list[Source]] = defaultdict(list)
    for m in messages:
        if m.poison:
            found[m.headers[POISON]].append(m.source)
    return found


def _count_poison(counts: Counts, sent: list[str], messages: list[Message], letters: list[Message]) -> None:
    where = poison_sources(messages)
    sources = Counter(
        (str(b.get("source_topic")), int(b.get("source_partition", -1)), int(b.get("source_offset", -1)))
        for b in (m.payload for m in letters)
        if isinstance(b, dict)
    )
    for mark in sent:
        found = where.get(mark, [])
        if len(found) != 1:
            counts.lost += not found
            counts.duplicated += len(found) > 1
            counts.problem(f"poison {mark} is on its topic {len(found)} times")
            continue
        source = found[0]
        if sources[source] == 0:
            counts.lost += 1
            counts.problem(f"poison {mark} at {source} has no dead letter")
        elif sources[source] > 1:
            counts.duplicated += 1
            counts.problem(f"poison {mark} at {source} dead-lettered {sources[source]} times")
        else:
            counts.stored += 1
