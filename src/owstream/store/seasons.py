"""Season numbers from the stored snapshots, per platform: the reading half of :mod:`owstream.domain.seasons`.

Seasons are per platform (KIRIKO-12460 last played competitive in season 21 on pc, 16 on console): a platform's
seasons come from the changed snapshots since its stats were first stored (``snapshots.season_pc`` /
``season_console``; ``season``, the highest of both, for ``both``: OverFast's total of old snapshots, up to their
last one), with the fallback to the seasons other stored players reported; a season's numbers are that
platform's stats at its span's end minus those at its base, per gamemode, counted from zero where the gamemode's
counters went down inside the span (a session with ``is_reset``). ``platform`` None: the player's default (the
one played most). Plain data out: the CLI's ``show --season`` report and the dashboard's season records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from owstream.domain.normalize import Key, StatRow
from owstream.domain.seasons import (
    SeasonPoint,
    SeasonSpan,
    boundary_text,
    chosen_season,
    place,
    reset_text,
    season_label,
    season_rows,
    since_text,
    spans,
    until_text,
)
from owstream.domain.vocabulary import BOTH, SCOPE_HERO, SCOPE_OVERALL, SCOPE_ROLE, platform_name
from owstream.errors import UnknownSeason
from owstream.store import schema
from owstream.store.queries import current_stats, latest_session, ranks_of, stat_block
from owstream.store.report import chosen_platform, platforms_of, player_report
from owstream.store.state import stat_row_from_db


@dataclass(frozen=True)
class SeasonMode:
    """One gamemode's numbers in one season."""

    rows: dict[Key, StatRow]  # overall first, then roles and heroes played in the season
    reset_at: float | None  # fetched_at of the newest snapshot inside the span where counters went down


def first_seen(conn: Connection) -> dict[int, float]:
    """Season -> when a stored snapshot (of any player) first reported it."""
    s = schema.snapshots.c
    rows = conn.execute(select(s.season, func.min(s.fetched_at)).where(s.season.is_not(None)).group_by(s.season))
    return {int(season): float(at) for season, at in rows}


def player_points(conn: Connection, player_id: str, platform: str | None = None) -> list[SeasonPoint]:
    """The player's changed snapshots (those with stats) that count for ``platform``, oldest first: from the first
    holding its stats on (pc, console), up to the last (both: OverFast's total, which per-platform rows replaced)."""
    chosen = chosen_platform(conn, player_id, platform) or BOTH
    s, st = schema.snapshots.c, schema.stats.c
    first, last = conn.execute(
        select(func.min(st.snapshot_id), func.max(st.snapshot_id))
        .join(schema.snapshots, s.id == st.snapshot_id)
        .where(s.player_id == player_id, st.platform == chosen)
    ).one()
    if first is None:
        return []
    within = s.id <= last if chosen == BOTH else s.id >= first
    reported = {"pc": s.season_pc, "console": s.season_console}.get(chosen, s.season)
    rows = conn.execute(
        select(s.id, s.fetched_at, s.last_updated_at, reported)
        .where(s.player_id == player_id, s.changed.is_(True), within)
        .order_by(s.id)
    ).all()
    return [SeasonPoint(int(i), float(at), updated, season) for i, at, updated, season in rows]


def borrowing(points: Sequence[SeasonPoint]) -> bool:
    """Whether some snapshot reports no season (and takes one from the other players')."""
    return any(not p.reported for p in points)


def player_spans(conn: Connection, player_id: str, platform: str | None = None) -> list[SeasonSpan]:
    """The player's seasons on ``platform``, oldest first (the other players' seasons are read only when needed)."""
    points = player_points(conn, player_id, platform)
    return spans(place(points, first_seen(conn) if borrowing(points) else {}))


def pick(player_id: str, found: Sequence[SeasonSpan], choice: str) -> SeasonSpan:
    """The span a choice (``current``, ``last`` or a number) names; UnknownSeason (one line) if none."""
    seasons = [span.season for span in found]
    season = chosen_season(choice, seasons)
    if season is not None:
        return next(span for span in found if span.season == season)
    if not seasons:
        raise UnknownSeason(
            f"no season is known for {player_id}: OverFast reported none for it and no stored player shows one"
        )
    stored = ", ".join(str(n) for n in seasons)
    if choice == "last":
        raise UnknownSeason(f"only one season is stored for {player_id} ({stored}): there is no last season")
    raise UnknownSeason(f"season {choice} is not stored for {player_id}; stored seasons: {stored}")


def stats_at(
    conn: Connection, player_id: str, snapshot_id: int, gamemode: str | None, platform: str
) -> dict[str, dict[Key, StatRow]]:
    """The player's stats on one platform as of one snapshot, per gamemode."""
    out: dict[str, dict[Key, StatRow]] = {}
    for row in conn.execute(current_stats([player_id], gamemode, at=snapshot_id, platform=platform)).mappings():
        out.setdefault(row["gamemode"], {})[(row["scope"], row["key"])] = stat_row_from_db(row)
    return out


def resets(conn: Connection, player_id: str, span: SeasonSpan, platform: str) -> dict[str, float]:
    """Gamemode -> fetched_at of the newest snapshot in ``(base, end]`` where its counters went down on ``platform``."""
    se = schema.sessions.c
    rows = conn.execute(
        select(se.gamemode, func.max(se.fetched_at))
        .where(
            se.player_id == player_id,
            se.platform == platform,
            se.is_reset.is_(True),
            se.to_snapshot_id > span.base.snapshot_id,
            se.to_snapshot_id <= span.end.snapshot_id,
        )
        .group_by(se.gamemode)
    )
    return {str(mode): float(at) for mode, at in rows}


_ORDER: dict[str, int] = {SCOPE_OVERALL: 0, SCOPE_ROLE: 1, SCOPE_HERO: 2}


def season_stats(
    conn: Connection, player_id: str, span: SeasonSpan, gamemode: str | None, platform: str
) -> dict[str, SeasonMode]:
    """Per gamemode with stats on ``platform`` at the span's end: the season's numbers."""
    end = stats_at(conn, player_id, span.end.snapshot_id, gamemode, platform)
    base = stats_at(conn, player_id, span.base.snapshot_id, gamemode, platform) if span.base != span.end else end
    went_down = resets(conn, player_id, span, platform)
    out: dict[str, SeasonMode] = {}
    for mode in sorted(end):
        rows = season_rows(base.get(mode, {}), end[mode], reset=mode in went_down)
        ordered = dict(sorted(rows.items(), key=lambda kv: (_ORDER.get(kv[0][0], 3), kv[0][1])))
        out[mode] = SeasonMode(ordered, went_down.get(mode))
    return out


def describe(span: SeasonSpan) -> dict[str, Any]:
    """``season``, ``season_label``, ``since`` and ``until`` of a season report."""
    counted_in = None if span.before is None else span.start
    return {
        "season": span.season,
        "season_label": season_label(span.season),
        "since": {
            "at": span.base.fetched_at,
            "since_tracking_began": span.since_tracking_began,
            "boundary": boundary_text(span),
            "counted_in": counted_in,  # this_season | previous_season | null (the history starts here)
            "text": since_text(span),
        },
        "until": {"at": span.end.fetched_at, "boundary": until_text(span)},
    }


def season_report(
    conn: Connection, player_id: str, choice: str, gamemode: str | None = None, platform: str | None = None
) -> dict[str, Any] | None:
    """``show --json``'s shape for one season's numbers of each platform (``platforms``: each with its own
    ``season``, ``since``, ``until``, ``ranks`` and ``gamemodes``), the top level being the default platform's
    (the one asked for, else the one played most that has the season); None if the player is not stored;
    UnknownSeason if no platform has the season."""
    report = player_report(conn, player_id, gamemode, platform)
    if report is None:
        return None
    candidates = [platform] if platform is not None else (platforms_of(conn, player_id) or [BOTH])
    per: dict[str, dict[str, Any]] = {}
    missing: UnknownSeason | None = None
    for name in candidates:
        try:
            span = pick(player_id, player_spans(conn, player_id, name), choice)
        except UnknownSeason as exc:
            missing = missing or exc
            continue
        per[name] = _season_of(conn, player_id, span, gamemode, name)
    if not per:
        assert missing is not None
        raise missing
    top = next(iter(per))
    chosen = per[top]
    report["freshness"] |= chosen["freshness"]
    report |= {key: chosen[key] for key in ("ranks", "gamemodes", "season", "season_label", "since", "until")}
    report |= {"platform": top, "platform_label": chosen["label"], "platforms": per}
    return report


def _season_of(
    conn: Connection, player_id: str, span: SeasonSpan, gamemode: str | None, platform: str
) -> dict[str, Any]:
    gamemodes: dict[str, Any] = {}
    window = (span.base.snapshot_id, span.end.snapshot_id)
    for mode, numbers in season_stats(conn, player_id, span, gamemode, platform).items():
        block: dict[str, Any] = {"overall": None, "roles": {}, "heroes": {}}
        for (scope, key), row in numbers.rows.items():
            shaped = stat_block(row._asdict())
            if scope == SCOPE_OVERALL:
                block["overall"] = shaped
            else:
                block["roles" if scope == SCOPE_ROLE else "heroes"][key] = shaped
        block["latest_session"] = latest_session(conn, player_id, mode, within=window, platform=platform)
        at = numbers.reset_at
        block["reset"] = None if at is None else {"at": at, "note": reset_text(at)}
        gamemodes[mode] = block
    return {
        "label": platform_name(platform),
        **describe(span),
        "freshness": {"stats_fetched_at": span.last.fetched_at, "last_updated_at": span.last.last_updated_at},
        "ranks": ranks_of(conn, span.last.snapshot_id),
        "gamemodes": gamemodes,
    }


# --- the dashboard's season records ------------------------------------------------------------------------


@dataclass(frozen=True)
class SeasonInfo:
    """What a page says about the season it shows."""

    season: int
    label: str  # "Season 22" (with Blizzard's name where it differs)
    since: str  # "since tracking began (...)" or "since ..."
    boundary: str  # how the games before the season's first snapshot were counted
    until: str | None  # how the games after its newest snapshot were counted, when counted here
    since_tracking_began: bool
    resets: dict[str, str]  # gamemode -> note, where counters went down inside the season
    first_id: int  # the season's first snapshot
    base_id: int  # counted from (excluded)
    end_id: int  # counted up to (included)


def season_info(conn: Connection, player_id: str, span: SeasonSpan, platform: str | None = None) -> SeasonInfo:
    chosen = chosen_platform(conn, player_id, platform) or BOTH
    return SeasonInfo(
        season=span.season,
        label=season_label(span.season),
        since=since_text(span),
        boundary=boundary_text(span),
        until=until_text(span),
        since_tracking_began=span.since_tracking_began,
        resets={mode: reset_text(at) for mode, at in resets(conn, player_id, span, chosen).items()},
        first_id=span.first.snapshot_id,
        base_id=span.base.snapshot_id,
        end_id=span.end.snapshot_id,
    )


def season_records(
    conn: Connection,
    player_id: str,
    span: SeasonSpan,
    gamemode: str,
    columns: Sequence[str],
    *,
    platform: str | None = None,
) -> list[dict[str, Any]]:
    """The season's blocks of one gamemode on ``platform`` (None: the player's default) as records: ``scope``,
    ``key`` and ``columns`` (stats column names)."""
    chosen = chosen_platform(conn, player_id, platform) or BOTH
    numbers = season_stats(conn, player_id, span, gamemode, chosen).get(gamemode)
    if numbers is None:
        return []
    return [
        {"scope": scope, "key": key, **{name: getattr(row, name) for name in columns}}
        for (scope, key), row in numbers.rows.items()
    ]
