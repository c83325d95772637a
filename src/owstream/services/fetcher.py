"""The fetcher service: ``fetch-requests`` -> OverFast -> ``fetch-results``.

* Exactly once, where Kafka gives it: for each batch of what has arrived, the results and the requests'
  offsets are committed in one Kafka transaction (``transactional.id`` = ``<prefix>.fetcher.<instance>``,
  stable, so a restarted instance fences its dead predecessor). A fetcher killed anywhere leaves at most one
  visible result per fetch, and an answered request is not fetched again.
* Requests for the same player in one batch are coalesced into one fetch that answers them all; for a player
  OverFast knows, the summary and both gamemodes are asked concurrently, inside the process's rate limit.
* A player fetched less than the OverFast cache time ago is not fetched again unless forced: the result says
  ``skipped`` (the stored data is as fresh as OverFast's). An unknown player is not asked for again before
  OverFast's retry time (``not_found`` without a call). Both are decided from the store, so in every process
  (:mod:`owstream.domain.freshness`, :mod:`owstream.services.freshness`). Requests older than
  ``request_ttl`` are dropped.
* Progress: ``fetch_started`` goes out at once, outside the transaction (its id is stable, readers dedupe).
* Bad input never stops it: a message that is not a request is dead-lettered (in the transaction); an answer
  OverFast gets wrong becomes an ``upstream_error`` result; a Kafka outage is waited out, results kept.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from owstream.bus import Consumer, Producer, Record, TopicNames, TransactionalProducer, dead_letter, next_offsets
from owstream.bus.client import OUTAGE_LOG_EVERY
from owstream.config import Settings
from owstream.domain.battletag import parse_player, player_id_problem
from owstream.domain.fetchplan import Policy, Stored
from owstream.domain.freshness import LastFetches, known_answer
from owstream.domain.identity import Profile, answer_problem, case_suggestion
from owstream.errors import ClientBug, OverFastError, PlayerNotFound, ProcessingError, TransactionAborted
from owstream.messages import codec
from owstream.messages.bodies import PlayerSummary
from owstream.messages.models import FetchRequest, FetchStarted, WireResult
from owstream.overfast.client import OverFastClient
from owstream.services.fetchplan import fetch_planned
from owstream.services.freshness import StoreFreshness
from owstream.services.identity import Identities, Identity
from owstream.services.runner import Ready

log = logging.getLogger(__name__)

SERVICE = "fetcher"
_NOTHING_STORED = Stored()
_POLICY = Policy()
_RESULT_HEADERS = codec.headers("FetchResult")
_EVENT_HEADERS = codec.headers("PlayerEvent")


@dataclass(frozen=True)
class Request:
    """A request as the fetcher serves it: its id and time filled in from the message when it had none."""

    request_id: str
    player_id: str
    force: bool
    requested_at: float
    partition: tuple[str, int]  # where it came from
    source: str = "kafka"  # cli, dashboard, scheduler, kafka


@dataclass
class _Job:
    player_id: str
    requests: list[Request] = field(default_factory=list)

    @property
    def forced(self) -> bool:
        return any(r.force for r in self.requests)

    @property
    def scheduled(self) -> bool:
        """Only the scheduler asks (nobody waits for it): planned to cost least, not to answer fastest."""
        return not self.forced and all(r.source == "scheduler" for r in self.requests)


class Fetcher:
    REDO = 3  # an aborted transaction is redone this many times with the same results, then the batch read again

    def __init__(
        self,
        settings: Settings,
        *,
        client: OverFastClient | None = None,
        clock: Callable[[], float] = time.time,
        request_ttl: float = 600.0,
        workers: int = 4,
    ) -> None:
        self.settings = settings
        self.names = TopicNames(settings.topic_prefix)
        self.client = client or OverFastClient.from_settings(settings)
        self.clock = clock
        self.request_ttl = request_ttl
        self.workers = workers
        self.policy = Policy(summary_first=settings.fetch_summary_first)
        self._last_fetch: dict[str, float] = {}  # player -> fetched_at of the last ok/private result
        self._freshness = StoreFreshness(settings)
        self._consumer: Consumer | None = None
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch")
        self._stop = threading.Event()
        self._said = 0.0  # when an aborted transaction was last logged
        self.fetched = 0

    @property
    def assigned(self) -> frozenset[tuple[str, int]]:
        """The partitions this fetcher holds now (empty before it joined its group)."""
        return self._consumer.assigned if self._consumer is not None else frozenset()

    @property
    def transactional_id(self) -> str:
        return f"{self.names.group(SERVICE)}.{self.settings.instance}"

    # --- the loop ---------------------------------------------------------------------------------
    def run(self, stop: threading.Event, ready: Ready | None = None) -> None:
        self._stop = stop
        consumer = self._consumer = Consumer(
            self.settings, self.names.group(SERVICE), [self.names.fetch_requests], transactional=True
        )
        producer = TransactionalProducer(self.settings, self.transactional_id, wait=self._going_on)
        progress = Producer(self.settings)
        log.info("fetcher: consuming %s, OverFast at %s", self.names.fetch_requests, self.settings.overfast_url)
        if ready is not None:
            ready()
        try:
            while not stop.is_set():
                self.step(consumer, producer, progress)
        finally:
            producer.abort()
            producer.close()
            progress.close()
            consumer.close(commit=False)
            self._pool.shutdown(wait=False, cancel_futures=True)
            self.client.close()
            self._freshness.close()
            log.info("fetcher: stopped after %d fetches", self.fetched)

    def _going_on(self) -> bool:
        return not self._stop.is_set()

    def step(
        self, consumer: Consumer, producer: TransactionalProducer, progress: Producer, timeout: float = 0.5
    ) -> int:
        """One batch of what has arrived: fetched, then its results and offsets in one Kafka transaction."""
        records = consumer.poll_batch(max_messages=50, timeout=timeout)
        if not records:
            return 0
        jobs, letters = self._jobs(records, progress)
        results = list(self._pool.map(self._fetch, jobs)) if jobs else []
        self._publish(consumer, producer, records, list(zip(jobs, results, strict=True)), letters)
        return len(records)

    def _publish(
        self,
        consumer: Consumer,
        producer: TransactionalProducer,
        records: list[Record],
        done: list[tuple[_Job, WireResult]],
        letters: list[tuple[Record, str]],
    ) -> None:
        """Results, dead letters and offsets in one transaction. An aborted one is redone with the same results
        (no second fetch), for the partitions this fetcher still holds, up to REDO times; then the batch is
        read again (its requests fetched again): what makes the transaction fail may be mended only by polling
        the consumer, e.g. a group that forgot this member while the broker was away (UNKNOWN_MEMBER_ID)."""
        for attempt in range(1, self.REDO + 1):
            try:
                producer.begin()
                for record, why in letters:
                    dead_letter(producer, self.names.dead_letter, record, service=SERVICE, reason=why)
                for job, result in done:
                    producer.send(
                        self.names.fetch_results, codec.encode(result), key=job.player_id, headers=_RESULT_HEADERS
                    )
                producer.commit(consumer, next_offsets(records), wait=self._going_on)
                return
            except TransactionAborted as exc:
                held = consumer.assigned
                records = [r for r in records if (r.topic, r.partition) in held]
                done = [(job, result) for job, result in done if job.requests[0].partition in held]
                letters = [(r, why) for r, why in letters if (r.topic, r.partition) in held]
                self._aborted(f"fetcher: {exc}; sending its {len(done)} result(s) again (attempt {attempt})")
                if not records or self._stop.wait(0.2 * attempt):  # stopping: the requests are read again
                    return
        self._aborted(f"fetcher: {len(records)} request(s) read again after {self.REDO} aborted transactions")
        consumer.rewind(records)

    def _aborted(self, text: str) -> None:
        """A warning once every OUTAGE_LOG_EVERY seconds (the rest at DEBUG): not one per attempt."""
        now = time.monotonic()
        if now - self._said >= OUTAGE_LOG_EVERY:
            log.warning(text)
            self._said = now
        else:
            log.debug(text)

    # --- one batch --------------------------------------------------------------------------------
    def _jobs(self, records: list[Record], progress: Producer) -> tuple[list[_Job], list[tuple[Record, str]]]:
        jobs: dict[str, _Job] = {}
        letters: list[tuple[Record, str]] = []
        now = self.clock()
        for record in records:
            try:
                request = read_request(record)
            except ProcessingError as exc:
                letters.append((record, str(exc)))
                continue
            if now - request.requested_at > self.request_ttl:
                log.info("dropping a stale request for %s (%.0f s old)", request.player_id, now - request.requested_at)
                continue
            jobs.setdefault(request.player_id, _Job(request.player_id)).requests.append(request)
            started = FetchStarted(
                event_id=f"{request.request_id}:fetch_started",
                player_id=request.player_id,
                at=now,
                request_id=request.request_id,
            )
            progress.send(
                self.names.player_events, codec.encode(started), key=request.player_id, headers=_EVENT_HEADERS
            )
        return list(jobs.values()), letters

    def _fetch(self, job: _Job) -> WireResult:
        request_ids = [r.request_id for r in job.requests]
        now = self.clock()
        identities = Identities(self._freshness.store(), self.clock)
        who = identities.resolve(job.player_id)  # history and upstream id
        # decided from the store (every process) and this fetcher's memory
        last = self._freshness.last(who.history_id, LastFetches(fetched_at=self._last_fetch.get(who.history_id)))
        known = known_answer(last, now, cache_seconds=self.settings.overfast_cache_seconds, forced=job.forced)
        if known is not None:
            return codec.wire_result(
                request_ids=request_ids, player_id=who.history_id, fetched_at=now, outcome=known.outcome,
                error=known.error, retry_after=known.retry_after, suggestion=known.suggestion,
            )  # fmt: skip
        # The calls are planned from the store (owstream.domain.fetchplan): per platform the player has; for a
        # user, at once when the player is known; a player OverFast may not know gets the summary first (every
        # request for an unknown player raises OverFast's backoff for it); a scheduled refresh may stop there.
        known_player = last.fetched_at is not None and (last.not_found_at or 0.0) <= last.fetched_at
        stored = replace(self._freshness.stored(who.history_id), known=known_player)
        result = self._fetch_planned(who.upstream_id, request_ids, stored, job.scheduled)
        if result.outcome == "not_found" and who.by_blizzard_id:  # OverFast lost the Blizzard id
            who = Identity(who.requested, who.history_id, who.requested, who.alias)
            result = self._fetch_planned(job.player_id, request_ids, replace(stored, known=False), job.scheduled)
        who, result = self._checked(identities, who, result)
        if result.outcome in ("ok", "private"):
            self._last_fetch[who.history_id] = result.fetched_at
        self.fetched += 1
        return codec.with_player_id(result, who.history_id)

    def _fetch_planned(self, player_id: str, request_ids: list[str], stored: Stored, scheduled: bool) -> WireResult:
        return self.fetch_result(
            self.client, player_id, request_ids, self.clock, stored=stored, scheduled=scheduled, policy=self.policy
        )

    def _checked(self, identities: Identities, who: Identity, result: WireResult) -> tuple[Identity, WireResult]:
        """The result if the answer is the player's (the identity learned or checked again on the way), a
        ``mismatch`` saying why if it is not; a not_found BattleTag with the BattleTag to offer, if any."""
        if result.outcome == "not_found" and result.status == 404:
            offered = identities.suggest(self.client, who.requested)
            if offered is None:
                return who, result
            tag = parse_player(offered)
            error = f"{result.error or 'Player not found'}; did you mean {tag}? (OverFast knows that spelling)"
            return who, codec.amended(result, error=error[:2000], suggestion=offered)
        profile = profile_of(result)
        if profile is None:
            return who, result
        problem = answer_problem(who.requested, profile.username, by=who.upstream_id)
        if problem is None:
            return identities.learn(self.client, who, profile), result
        log.warning("%s: %s", who.requested, problem)
        if who.by_blizzard_id:
            identities.reject(who, problem)
        return who, codec.wire_result(
            request_ids=result.request_ids, player_id=result.player_id, fetched_at=result.fetched_at,
            outcome="mismatch", status=result.status, error=problem[:2000],
            suggestion=case_suggestion(who.requested, profile.username),
        )  # fmt: skip

    @staticmethod
    def fetch_result(
        client: OverFastClient,
        player_id: str,
        request_ids: list[str],
        clock: Callable[[], float] = time.time,
        *,
        stored: Stored = _NOTHING_STORED,
        scheduled: bool = False,
        policy: Policy = _POLICY,
    ) -> WireResult:
        """Fetch one player as planned from ``stored`` (owstream.services.fetchplan) and express every outcome as
        a FetchResult."""
        try:
            fetched = fetch_planned(client, player_id, stored, scheduled=scheduled, policy=policy, now=clock())
        except OverFastError as exc:
            if isinstance(exc, ClientBug):
                log.error("OverFast rejected our request for %s (a bug in owstream): %s", player_id, exc)
            return codec.wire_result(
                request_ids=request_ids,
                player_id=player_id,
                fetched_at=clock(),
                outcome="not_found" if isinstance(exc, PlayerNotFound) else "upstream_error",
                status=exc.status,
                error=str(exc)[:2000],
                retry_after=exc.retry_after,
            )
        digest = codec.digest(fetched.summary)
        same = fetched.summary_only and digest == stored.summary_digest  # the stored summary still holds
        return codec.wire_result(
            request_ids=request_ids,
            player_id=player_id,
            fetched_at=clock(),
            outcome="private" if fetched.private else "ok",
            summary=None if same else fetched.summary,
            platform_stats=fetched.platform_stats,
            summary_only=fetched.summary_only,
            summary_digest=digest,
            status=fetched.status,
            cache_headers=fetched.cache_headers,
        )


def profile_of(result: WireResult) -> Profile | None:
    """What the identity rules need of an ok or private result's summary (None for other outcomes)."""
    if result.outcome not in ("ok", "private") or result.summary is None:
        return None
    summary = codec.decode_as(bytes(result.summary), PlayerSummary)  # checked by the client already
    return Profile(summary.username, summary.last_updated_at, result.outcome == "private")


def read_request(record: Record) -> Request:
    """The request in a message; ProcessingError (dead-letter it) if it is not one.

    A request needs only its ``player_id``: one without an id is named after where it is on the topic, one
    without a time takes the message's timestamp."""
    codec.check_schema("FetchRequest", record.headers.get("schema"))
    message: FetchRequest = codec.decode_request(record.value)
    problem = player_id_problem(message.player_id)
    if problem is not None:
        raise ProcessingError(f"not a FetchRequest (player_id: {problem})")
    request_id = message.request_id or f"{record.topic}:{record.partition}:{record.offset}"
    requested_at = message.requested_at
    if requested_at is None:
        requested_at = record.timestamp_ms / 1000 if record.timestamp_ms else time.time()
    where = (record.topic, record.partition)
    return Request(request_id, message.player_id, message.force, requested_at, where, message.source)
