"""What the CLI commands do, as functions that return data (the CLI only parses and prints)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from owstream.config import Settings
from owstream.domain.battletag import PlayerRef
from owstream.errors import NotStored, OwstreamError, RequestTimeout
from owstream.store import Store, StoredAnswer

if TYPE_CHECKING:  # the Kafka client is loaded by the commands that use Kafka, not by `show`
    from owstream.localkafka.jars import Progress
    from owstream.services.requests import RequestState

log = logging.getLogger(__name__)


def fetch_player(
    settings: Settings,
    tag: PlayerRef,
    *,
    force: bool = False,
    timeout: float = 180.0,
    on_change: Callable[[RequestState], None] | None = None,
    progress: Progress | None = None,
) -> RequestState:
    """Publish a request, run the fetcher/processor in-process when none is running, wait until stored
    (``progress``: hears the download of the Kafka jars when this starts the local broker the first time)."""
    from owstream.bus import Admin
    from owstream.runtime.kafka import ensure_kafka
    from owstream.services.requests import RequestTracker
    from owstream.services.runner import in_background, make_service

    names = ensure_kafka(settings, progress=progress)
    with Admin(settings) as admin:
        missing = [svc for svc in ("fetcher", "processor") if admin.group_members(names.group(svc)) == 0]
    if missing:
        log.info("no %s running: running them in this process", " or ".join(missing))
    # in-process services are instances of their own: they never fence a service that starts meanwhile
    own = settings.replace(instance_id=f"{settings.instance}-cli-{os.getpid()}")
    with in_background([make_service(svc, own) for svc in missing]) as died:

        def services_alive() -> None:
            errors = died()
            if errors:
                raise OwstreamError(f"an in-process service failed: {errors[0]}") from errors[0]

        tracker = RequestTracker(settings, tag.player_id, force=force, source="cli")
        if on_change is not None:
            on_change(tracker.status)  # queued
        try:
            state = tracker.wait(timeout, on_change=on_change, check=services_alive)
        finally:
            tracker.close()
    if not state.done:
        raise RequestTimeout(
            f"no answer for {tag} within {timeout:.0f} s (state: {state.state}); "
            "is the fetcher running? (`owstream kafka status` shows the consumer groups)"
        )
    return state


def checked_webhook(url: str, settings: Settings | None = None) -> str:
    """``url`` stripped, if it can be a webhook (its shape, and its host's addresses: public ones, or those
    OWSTREAM_NOTIFY_ALLOW names); else an error saying why (without the URL: a secret)."""
    from owstream.config import get_settings
    from owstream.services.webhooks import allowed_of, webhook_problem

    url = url.strip()
    problem = webhook_problem(url, allowed_of(settings or get_settings()))
    if problem is not None:
        raise OwstreamError(f"not a webhook URL: {problem}")
    return url


def set_notify(settings: Settings, player_id: str, url: str | None, fmt: str | None = None) -> str | None:
    """Set (or with None, clear) a tracked player's webhook; returns the URL masked."""
    import time

    from owstream.domain.alerts import mask_url

    checked = checked_webhook(url, settings) if url is not None else None
    with Store.open(settings.resolved_store_url) as store:
        player_id = store.aliases.history_of(player_id)
        if not store.notifications.set_target(player_id, checked, fmt, time.time()):
            raise OwstreamError(f"{player_id} is not on the watchlist: add it with `owstream track add {player_id}`")
    return mask_url(checked) if checked else None


def report(
    settings: Settings, tag: PlayerRef, gamemode: str | None = None, platform: str | None = None
) -> dict[str, Any]:
    """A player's stored data, each platform apart (``platform``: only that one)."""
    with Store.open(settings.resolved_store_url) as store:
        data = store.player_report(store.aliases.history_of(tag.player_id), gamemode, platform)
    if data is None:
        raise NotStored(f"nothing stored for {tag} yet: fetch it with `owstream fetch {tag.player_id}`")
    return data


def season_report(
    settings: Settings, tag: PlayerRef, season: str, gamemode: str | None = None, platform: str | None = None
) -> dict[str, Any]:
    """``report`` for one season: ``current``, ``last`` or a season number, of each platform."""
    with Store.open(settings.resolved_store_url) as store:
        data = store.season_report(store.aliases.history_of(tag.player_id), season, gamemode, platform)
    if data is None:
        raise NotStored(f"nothing stored for {tag} yet: fetch it with `owstream fetch {tag.player_id}`")
    return data


def replay(settings: Settings, on_progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
    """Empty the derived tables and rebuild them from fetch-results (offset 0 to its end)."""
    from owstream.bus import Admin, TopicNames, read_all
    from owstream.errors import ProcessingError
    from owstream.services.processor import apply_isolating, parse_result

    names = TopicNames(settings.topic_prefix)
    with Admin(settings) as admin:
        admin.wait_ready(10)
        infos = admin.topics([names.fetch_results])
    total = sum(t.messages for t in infos)
    done = stored = skipped = 0
    with Store.open(settings.resolved_store_url) as store:
        store.reset_derived()
        for batch in read_all(settings, names.fetch_results):
            items = []
            for record in batch:
                try:
                    items.append(parse_result(record))
                except ProcessingError:
                    skipped += 1
            _events, bad = apply_isolating(store.apply_results, items)
            stored += len(items) - len(bad)
            skipped += len(bad)
            done += len(batch)
            if on_progress is not None:
                on_progress(done, total)
    return {"messages": done, "stored": stored, "skipped": skipped}


def meta_answer(
    settings: Settings, *, gamemode: str, platform: str, region: str | None, division: str | None
) -> StoredAnswer:
    """The newest stored /heroes/stats answer of one combination (region None: ``meta_region``)."""
    from owstream.domain.meta import Combination, as_region, meta_division

    if gamemode != "competitive" and division is not None:
        raise OwstreamError("divisions are competitive only: drop --division for quickplay")
    try:
        where = as_region(region or settings.meta_region)
    except ValueError as exc:
        raise OwstreamError(str(exc) if region else f"OWSTREAM_META_REGION: {exc}") from None
    combination = Combination(gamemode, platform, where, meta_division(division))  # type: ignore[arg-type]
    with Store.open(settings.resolved_store_url) as store:
        stored = store.hero_stats(gamemode, platform, where, division)
    if stored is None:
        raise OwstreamError(
            f"no hero stats stored yet for {combination.describe()}: the meta service fetches them from OverFast "
            "every hour; run `owstream run meta` (with a processor running) or `owstream up`"
        )
    return stored


def meta_json(stored: StoredAnswer) -> str:
    """One JSON object: the combination, when it was fetched, and OverFast's rows exactly as they came."""
    import json

    head = {
        "gamemode": stored.gamemode,
        "platform": stored.platform,
        "region": stored.region,
        "division": stored.division,
        "fetched_at": stored.fetched_at,
        "status": stored.status,
        "cache_headers": stored.cache_headers,
    }
    return json.dumps(head, ensure_ascii=False)[:-1] + ', "heroes": ' + stored.heroes.decode("utf-8") + "}"
