"""The fetcher service: ``fetch-requests`` -> OverFast -> ``fetch-results``, a handler on the stream kernel
(:class:`owstream.bus.Stream`).

* Exactly once, where Kafka gives it: for each batch of what has arrived, the results and the requests'
  offsets are committed in one Kafka transaction (``transactional.id`` = ``<prefix>.fetcher.<instance>``,
  stable, so a restarted instance fences its dead predecessor). A fetcher killed anywhere leaves at most one
  visible result per fetch, and an answered request is not fetched again.
* Requests for the same player in one batch are coalesced into one fetch that answers them all (a request
  read twice is listed once); for a player OverFast knows, the summary and both gamemodes are asked
  concurrently, inside the process's rate limit.
* A player fetched less than the OverFast cache time ago is not fetched again unless forced: the result says
  ``skipped`` (the stored data is as fresh as OverFast's). An unknown player is not asked for again before
  OverFast's retry time (``not_found`` without a call). Both are decided from the store, so in every process
  (:mod:`owstream.domain.freshness`, :mod:`owstream.services.freshness`).
* A request older than ``request_ttl`` is not fetched: it is answered with an ``expired`` result (no silent
  drop: whoever waits hears it, the scheduler asks again).
* Progress: ``fetch_started`` goes out at once, outside the transaction (its id is stable, readers dedupe).
* Bad input never stops it: a message that is not a request is dead-lettered (in the transaction); an answer
  OverFast gets wrong becomes an ``upstream_error`` result; a Kafka outage is waited out by the kernel.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from owstream.bus import Output, Producer, Ready, Record, Stream, Topics
from owstream.config import Settings
from owstream.domain.battletag import parse_player, player_id_problem
from owstream.domain.fetchplan import Policy, Stored
from owstream.domain.freshness import LastFetches, known_answer
from owstream.domain.identity import Profile, answer_problem, case_suggestion
from owstream.domain.outcomes import duration
from owstream.errors import ClientBug, OverFastError, PlayerNotFound, ProcessingError
from owstream.messages import codec
from owstream.messages.bodies import PlayerSummary
from owstream.messages.models import FetchStarted, WireResult
from owstream.overfast.client import OverFastClient
from owstream.services.fetchplan import fetch_planned
from owstream.services.freshness import StoreFreshness
from owstream.services.identity import Identities, Identity

log = logging.getLogger(__name__)

SERVICE = "fetcher"
_NOTHING_STORED = Stored()
_POLICY = Policy()


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

    def add(self, request: Request) -> bool:
        """Take ``request``; False if this job answers a request of that id already (read twice)."""
        if any(r.request_id == request.request_id for r in self.requests):
            return False
        self.requests.append(request)
        return True

    @property
    def scheduled(self) -> bool:
        """Only the scheduler asks (nobody waits for it): planned to cost least, not to answer fastest."""
        return not self.forced and all(r.source == "scheduler" for r in self.requests)


class Fetcher:
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
        self.topics = Topics(settings.topic_prefix)
        self._stop = threading.Event()
        # its waits between attempts end when the fetcher stops, and no attempt follows (what it fetched then is
        # not published)
        self.client = client or OverFastClient.from_settings(settings, sleep=self._sleep)
        self.clock = clock
        self.request_ttl = request_ttl
        self.workers = workers
        self.policy = Policy(summary_first=settings.fetch_summary_first)
        self._last_fetch: dict[str, float] = {}  # player -> fetched_at of the last ok/private result
        self._freshness = StoreFreshness(settings)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch")
        self._progress: Producer | None = None
        self.stream: Stream | None = None
        self.fetched = 0
        self.expired = 0

    def _sleep(self, seconds: float) -> bool:
        """Wait ``seconds``; True once the fetcher stops (the client then makes no further attempt)."""
        return self._stop.wait(seconds)

    @property
    def assigned(self) -> frozenset[tuple[str, int]]:
        """The partitions this fetcher holds now (empty before it joined its group)."""
        return self.stream.assigned if self.stream is not None else frozenset()

    # --- the loop: the stream kernel's ----------------------------------------------------------------
    def run(self, stop: threading.Event, ready: Ready | None = None) -> None:
        self._stop = stop
        self.stream = Stream(
            self.settings, SERVICE, [self.topics.fetch_requests], self.handle, stop=stop, batch_size=50
        )
        self._progress = Producer(self.settings)
        log.info("fetcher: consuming %s, OverFast at %s", self.topics.fetch_requests.name, self.settings.overfast_url)
        try:
            self.stream.run(ready)
        finally:
            self._progress.close(0.0 if stop.is_set() else 10.0)
            self._pool.shutdown(wait=False, cancel_futures=True)
            self.client.close()
            self._freshness.close()
            log.info("fetcher: stopped after %d fetches (%d requests expired)", self.fetched, self.expired)

    def handle(self, records: list[Record]) -> Output:
        """One batch: its requests coalesced per player and fetched; the results to produce, and the
        dead letters of what is not a request."""
        jobs, letters, expired = self._jobs(records)
        results = list(self._pool.map(self._fetch, jobs)) if jobs else []
        topic = self.topics.fetch_results
        return Output(
            messages=[topic.message(result, key=result.player_id) for result in expired]
            + [topic.message(result, key=job.player_id) for job, result in zip(jobs, results, strict=True)],
            letters=letters,
        )

    # --- one batch --------------------------------------------------------------------------------
    def _jobs(self, records: list[Record]) -> tuple[list[_Job], list[tuple[Record, str]], list[WireResult]]:
        """(a job per player, the dead letters, the ``expired`` results of requests too old to serve)."""
        jobs: dict[str, _Job] = {}
        letters: list[tuple[Record, str]] = []
        expired: list[WireResult] = []
        answered: set[str] = set()
        now = self.clock()
        for record in records:
            try:
                request = read_request(record, self.topics)
            except ProcessingError as exc:
                letters.append((record, str(exc)))
                continue
            if request.request_id in answered:
                continue  # read twice in one batch: answered once
            waited = now - request.requested_at
            if waited > self.request_ttl:
                answered.add(request.request_id)
                expired.append(self.expired_result(request, now))
                continue
            if not jobs.setdefault(request.player_id, _Job(request.player_id)).add(request):
                continue
            self._started(request, now)
        return list(jobs.values()), letters, expired

    def expired_result(self, request: Request, now: float) -> WireResult:
        """The answer to a request that waited longer than ``request_ttl``: not fetched, said so."""
        waited = now - request.requested_at
        self.expired += 1
        log.info("request %s for %s expired (%.0f s old): answered as expired", request.request_id,
                 request.player_id, waited)  # fmt: skip
        return codec.wire_result(
            request_ids=[request.request_id], player_id=request.player_id, fetched_at=now, outcome="expired",
            error=f"waited {duration(waited)}, more than the {duration(self.request_ttl)} a request is served",
        )  # fmt: skip

    def _started(self, request: Request, now: float) -> None:
        """``fetch_started`` at once, outside the transaction (its id is stable: readers drop a second one)."""
        if self._progress is None:
            return
        started = FetchStarted(
            event_id=f"{request.request_id}:fetch_started", player_id=request.player_id, at=now,
            request_id=request.request_id,
        )  # fmt: skip
        message = self.topics.player_events.message(started, key=request.player_id)
        self._progress.publish(message)

    def _fetch(self, job: _Job) -> WireResult:
        request_ids = [r.request_id for r in job.requests]  # each listed once (_Job.add)
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


def read_request(record: Record, topics: Topics) -> Request:
    """The request in a message; ProcessingError (dead-letter it) if it is not one.

    A request needs only its ``player_id``: one without an id is named after where it is on the topic, one
    without a time takes the message's timestamp."""
    message = topics.fetch_requests.read(record)
    problem = player_id_problem(message.player_id)
    if problem is not None:
        raise ProcessingError(f"not a FetchRequest (player_id: {problem})")
    request_id = message.request_id or f"{record.topic}:{record.partition}:{record.offset}"
    requested_at = message.requested_at
    if requested_at is None:
        requested_at = record.timestamp_ms / 1000 if record.timestamp_ms else time.time()
    where = (record.topic, record.partition)
    return Request(request_id, message.player_id, message.force, requested_at, where, message.source)
