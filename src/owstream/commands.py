"""What the CLI commands do, as functions that return data (the CLI only parses and prints)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from owstream.battletag import BattleTag
from owstream.config import Settings
from owstream.errors import OwstreamError, RequestTimeout
from owstream.store import Store
from owstream.tracking import RequestState, RequestTracker

log = logging.getLogger(__name__)

PRIVATE_HELP = "make it public in Overwatch 2: Options > Social > Career Profile Visibility > Public"


def outcome_error(player_id: str, state: RequestState) -> OwstreamError | None:
    """The one-line error for an outcome the user must hear about, or None for ok/skipped."""
    if state.outcome == "not_found":
        when = f"; OverFast will check again in {_duration(state.retry_after)}" if state.retry_after else ""
        return OwstreamError(f"player {player_id} not found on OverFast (check the BattleTag's case and number){when}")
    if state.outcome == "private":
        return OwstreamError(f"{player_id}'s career profile is private: {PRIVATE_HELP}")
    if state.outcome == "upstream_error":
        retry = f"; retry in {_duration(state.retry_after)}" if state.retry_after else ""
        return OwstreamError(f"OverFast could not deliver {player_id}: {state.error or 'unavailable'}{retry}")
    return None


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "a while"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def fetch_player(
    settings: Settings,
    tag: BattleTag,
    *,
    force: bool = False,
    timeout: float = 180.0,
    on_change: Callable[[RequestState], None] | None = None,
) -> RequestState:
    """Publish a request, run the fetcher/processor in-process when none is running, wait until stored."""
    from owstream.bus import Admin, ensure_kafka
    from owstream.services import in_background, make_service

    names = ensure_kafka(settings)
    admin = Admin(settings)
    try:
        missing = [svc for svc in ("fetcher", "processor") if admin.group_members(names.group(svc)) == 0]
    finally:
        admin.close()
    if missing:
        log.info("no %s running: running them in this process", " or ".join(missing))
    with in_background([make_service(svc, settings) for svc in missing]) as died:

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


def report(settings: Settings, tag: BattleTag, gamemode: str | None = None) -> dict[str, Any]:
    store = Store.open(settings.resolved_store_url)
    try:
        data = store.player_report(tag.player_id, gamemode)
    finally:
        store.close()
    if data is None:
        raise OwstreamError(f"nothing stored for {tag} yet: fetch it with `owstream fetch {tag.player_id}`")
    return data


def replay(settings: Settings, on_progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
    """Empty the derived tables and rebuild them from fetch-results (offset 0 to its end)."""
    from owstream.bus import Admin, TopicNames, read_all
    from owstream.errors import ProcessingError
    from owstream.processor import apply_isolating, parse_result

    names = TopicNames(settings.topic_prefix)
    admin = Admin(settings)
    try:
        admin.wait_ready(10)
        infos = admin.topics([names.fetch_results])
    finally:
        admin.close()
    total = sum(t.messages for t in infos)
    store = Store.open(settings.resolved_store_url)
    done = stored = skipped = 0
    try:
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
    finally:
        store.close()
    return {"messages": done, "stored": stored, "skipped": skipped}


def export_history(settings: Settings, tag: BattleTag, fmt: str, out: Path) -> int:
    store = Store.open(settings.resolved_store_url)
    try:
        frame = store.history_frame(tag.player_id)
    finally:
        store.close()
    if frame.empty:
        raise OwstreamError(f"no history stored for {tag}: fetch it first with `owstream fetch {tag.player_id}`")
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        frame.to_parquet(out, index=False)
    else:
        frame.to_csv(out, index=False)
    return len(frame)
