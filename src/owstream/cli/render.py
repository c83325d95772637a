"""Rich rendering for the CLI's human-readable output (JSON output does not come here)."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from owstream.domain.alerts import format_for, mask_url
from owstream.domain.format import plural
from owstream.domain.heroes import hero_name
from owstream.domain.outcomes import duration, hours, utc
from owstream.domain.vocabulary import platform_name, rank_text


def print_kafka_status(console: Console, status: dict[str, Any]) -> None:
    broker = status["broker"]
    where = "local broker" if broker["local"] else "cluster"
    version = f"Kafka {broker['version']}" if broker["version"] else "Kafka"
    state = "reachable" if broker["reachable"] else "[red]not reachable[/red]"
    pid = f", pid {broker['pid']}" if broker["pid"] else ""
    console.print(f"{version} {where} at {escape(broker['bootstrap'])}: {state}{pid}")
    stack = status.get("stack")
    if stack:
        demo = " --demo" if stack["demo"] else ""
        console.print(
            f"owstream up{demo} runs from this home: pid {stack['pid']} since {stack['started_at']}, topics "
            f"{escape(stack['topic_prefix'])}.*, dashboard {escape(stack['dashboard_url'])}",
            highlight=False,
        )
    nodes = status.get("brokers") or []
    if len(nodes) > 1 or any(not n["alive"] for n in nodes):
        _print_brokers(console, nodes)
    if not broker["reachable"]:
        if broker["local"]:
            console.print("start it with `owstream kafka start`")
        return
    topics = _table("topics")
    topics.add_column("topic", overflow="fold")  # never cut: a name too long for the terminal folds
    for col in ("partitions", "replicas", "min ISR", "messages"):  # each partition's offsets: the next table
        topics.add_column(col, justify="right", no_wrap=True)
    for t in status["topics"]:
        topics.add_row(
            escape(t["name"]),
            str(t["partitions"]),
            str(t.get("replication_factor", "?")),
            _number(t.get("min_insync_replicas")),
            f"{t['messages']:,}",
        )
    console.print(topics)
    if not status["topics"]:
        console.print("no owstream topics yet (they are created by `owstream kafka start` or any service)")
    else:
        _print_partitions(console, status["topics"])
    _print_under_replicated(console, status.get("under_replicated") or [])
    groups = _table("consumer groups")
    groups.add_column("group", overflow="fold")
    for col in ("state", "members", "lag"):
        groups.add_column(col, justify="left" if col == "state" else "right", no_wrap=True)
    for g in status["groups"]:
        groups.add_row(escape(g["group"]), g["state"], str(g["members"]), str(g["total_lag"]))
    if status["groups"]:
        console.print(groups)
    else:
        console.print("no consumer groups yet")


def _print_under_replicated(console: Console, under: list[dict[str, Any]]) -> None:
    if not under:
        return
    console.print(f"[red]{len(under)} under-replicated partition(s)[/red] (fewer replicas in sync than assigned):")
    for u in under:
        console.print(
            f"  {escape(u['topic'])}[{u['partition']}]: leader {_leader(u['leader'])}, "
            f"replicas {_ids(u['replicas'])}, in sync {_ids(u['isr'])}",
            highlight=False,
        )


def _print_brokers(console: Console, nodes: list[dict[str, Any]]) -> None:
    table = _table("brokers")
    for col in ("id", "address", "roles", "alive", "pid"):
        table.add_column(col, justify="right" if col in ("id", "pid") else "left")
    for n in nodes:
        roles = {True: "broker, controller", False: "broker", None: "broker (controller?)"}[n["controller"]]
        table.add_row(
            str(n["id"]), escape(n["address"]), roles, "yes" if n["alive"] else "[red]no[/red]", _number(n.get("pid"))
        )
    console.print(table)


def _print_partitions(console: Console, topics: list[dict[str, Any]]) -> None:
    table = _table("partitions")
    table.add_column("topic", overflow="fold")
    for col in ("part", "leader", "replicas", "ISR", "offsets"):
        table.add_column(col, justify="right", no_wrap=True)
    for t in topics:
        for p in t.get("partition_details", []):
            in_sync = _ids(p["isr"])
            if len(p["isr"]) < len(p["replicas"]):
                in_sync = f"[red]{in_sync}[/red]"
            table.add_row(
                escape(t["name"]),
                str(p["partition"]),
                _leader(p["leader"]),
                _ids(p["replicas"]),
                in_sync,
                f"{_number(p['start_offset'])}-{_number(p['end_offset'])}",
            )
    console.print(table)


def _table(title: str) -> Table:
    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)


def _number(value: int | None) -> str:
    return "?" if value is None else str(value)


def _ids(ids: list[int]) -> str:
    return ",".join(map(str, ids)) or "-"


def _leader(leader: int) -> str:
    return str(leader) if leader >= 0 else "[red]none[/red]"


def _when(ts: float | None) -> str:
    return utc(ts) if ts else "never"


_hours = hours


def print_report(console: Console, data: dict[str, Any]) -> None:
    """A player's stored data: header, ranks, then per platform (the one played most first) and gamemode the
    headline numbers, a table of roles and one of the most played heroes (each sized to fit 80 columns)."""
    player = data["player"]
    title = f" — {player['title']}" if player.get("title") else ""
    console.print(
        f"[bold]{escape(player['name'] or player['player_id'])}[/bold] ({escape(player['player_id'])}){escape(title)}"
        f", endorsement {player.get('endorsement_level') or '-'}",
        highlight=False,
    )
    fresh = data.get("freshness", {})
    console.print(
        f"Blizzard last updated {_when(fresh.get('last_updated_at'))}, fetched {_when(fresh.get('fetched_at'))}",
        highlight=False,
    )
    if player.get("private"):
        console.print("[yellow]the career profile is private: no stats[/yellow]")
    _print_identity(console, data)
    for line in rank_lines(data.get("ranks") or []):
        console.print(line, highlight=False, markup=False)
    platforms = data.get("platforms") or {data.get("platform") or "both": {"gamemodes": data.get("gamemodes", {})}}
    for platform, per in platforms.items():
        if data.get("season") is not None:
            console.print(f"\n[bold]{escape(per.get('label') or platform_name(platform))}[/bold]", highlight=False)
            print_season(console, per if "since" in per else data)
        season = per.get("season_label", data.get("season_label"))
        _print_gamemodes(console, platform, per.get("gamemodes", {}), season, data.get("hero_names") or {})


def _print_identity(console: Console, data: dict[str, Any]) -> None:
    identity = data.get("identity")
    if identity and identity.get("verdict") in ("mismatch", "ambiguous"):  # a stranger was near: say so
        console.print(f"identity {identity['verdict']}: {identity.get('why') or ''}", markup=False, highlight=False)
    last = data.get("last_fetch") or {}
    if last.get("outcome") == "mismatch":
        console.print(f"last fetch: {last.get('error')}", markup=False, highlight=False, style="yellow")


def _print_gamemodes(
    console: Console, platform: str, gamemodes: dict[str, Any], season: str | None, names: dict[str, str]
) -> None:
    where = platform_name(platform)
    if platform == "both":
        where += " (OverFast's total of both, before per-platform fetches)"
    for mode, block in gamemodes.items():
        overall = block.get("overall") or {}
        heading = f"{mode}, {escape(season)}" if season is not None else mode
        games = overall.get("games_played", 0)
        console.print(
            f"\n[bold]{escape(where)} — {heading}[/bold]: {plural(games, 'game')}, {overall.get('games_won', 0)} won, "
            f"{overall.get('games_lost', 0)} lost, winrate {_percent(overall.get('winrate'))}, "
            f"KDA {_number_or_dash(overall.get('kda'))}, {_hours(overall.get('time_played'))} played",
            highlight=False,
        )
        roles = sorted(block.get("roles", {}).items(), key=lambda kv: -(kv[1].get("time_played") or 0))
        if roles:
            console.print(_stats_table("role", [(name.title(), b) for name, b in roles]))
        heroes = sorted(block.get("heroes", {}).items(), key=lambda kv: -(kv[1].get("time_played") or 0))
        if heroes:
            shown = heroes[:TOP_HEROES]
            caption = f"{len(shown)} of {plural(len(heroes), 'hero', 'heroes')}, most played first"
            table = _stats_table("hero", [(hero_name(key, names), b) for key, b in shown])
            table.caption = caption if len(shown) < len(heroes) else None
            console.print()
            console.print(table)
        if block.get("reset"):
            console.print(f"reset: {block['reset']['note']}", markup=False, highlight=False)
        session = block.get("latest_session")
        if session:
            kind = "reset (season or correction)" if session.get("is_reset") else "latest session"
            console.print(
                f"{kind}: {plural(session['games'], 'game')}, {session['wins']}-{session['losses']}, "
                f"winrate {_percent(session['winrate'] if session['games'] else None)}, "
                f"{_hours(session['time_played'])} ({_when(session['ended_at'])})",
                highlight=False,
            )


def rank_lines(ranks: list[dict[str, Any]]) -> list[str]:
    """``ranks, season 21, pc: damage Silver 5, support Grandmaster 5``: one line per platform and season."""
    grouped: dict[tuple[str, Any], list[str]] = {}
    for r in ranks:
        grouped.setdefault((r["platform"], r["season"]), []).append(
            f"{r['role']} {rank_text(r['division'], r['tier'])}"
        )
    return [
        f"ranks, season {season}, {platform}: {', '.join(roles)}" if season is not None
        else f"ranks, {platform}: {', '.join(roles)}"
        for (platform, season), roles in grouped.items()
    ]  # fmt: skip


TOP_HEROES = 8
# header, justify: short two-line headers, so that the table fits 80 columns with the longest hero name
_STAT_COLUMNS = (("games", "right"), ("winrate %", "right"), ("KDA", "right"), ("played", "right"),
                 ("elims\n/10 min", "right"), ("deaths\n/10 min", "right"))  # fmt: skip


def _stats_table(kind: str, rows: list[tuple[str, dict[str, Any]]]) -> Table:
    """One row per role (or hero): OverFast's numbers as they came, time played in hours."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, caption_justify="left")
    table.add_column(kind, overflow="fold")
    for header, justify in _STAT_COLUMNS:
        table.add_column(header, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for name, b in rows:
        avg = b.get("average", {})
        table.add_row(
            escape(name), f"{b.get('games_played', 0):,}", _number_or_dash(b.get("winrate"), "no games"),
            _number_or_dash(b.get("kda")), _hours(b.get("time_played")), _number_or_dash(avg.get("eliminations")),
            _number_or_dash(avg.get("deaths")),
        )  # fmt: skip
    return table


def _percent(value: float | None) -> str:
    """``50.0 %``; ``- (no games)`` when there is no winrate: no games is not 0 % won."""
    return "- (no games)" if value is None else f"{value} %"


def _number_or_dash(value: float | None, none: str = "-") -> str:
    return none if value is None else str(value)


def print_season(console: Console, data: dict[str, Any]) -> None:
    """What a season report counts, in words: the season, since when, and how its boundaries were counted."""
    since, until = data["since"], data["until"]
    console.print(
        f"{data['season_label']}: numbers {since['text']} until {_when(until['at'])}", markup=False, highlight=False
    )
    console.print(f"boundary: {since['boundary']}", markup=False, highlight=False)
    if until.get("boundary"):
        console.print(f"end: {until['boundary']}", markup=False, highlight=False)


def print_watchlist(console: Console, entries: list[Any]) -> None:
    if not entries:
        console.print("the watchlist is empty: add players with `owstream track add NAME#1234`")
        return
    table = Table(show_edge=False)
    table.add_column("player")
    table.add_column("added")
    table.add_column("last refreshed")
    table.add_column("alerts")
    for e in entries:
        alerts = f"{format_for(e.notify_url, e.notify_format)}: {mask_url(e.notify_url)}" if e.notify_url else "off"
        table.add_row(escape(e.player_id), _when(e.added_at), _when(e.last_fetched_at), escape(alerts))
    console.print(table)


def print_meta(console: Console, stored: Any) -> None:
    """A stored /heroes/stats answer: the combination, when, and one row per hero (most picked first)."""
    import json

    from owstream.domain.meta import Combination, meta_division

    combination = Combination(stored.gamemode, stored.platform, stored.region, meta_division(stored.division))
    ttl = stored.cache_headers.get("x-cache-ttl")
    cached = f"; OverFast caches it for {duration(float(ttl))}" if ttl and ttl.isdigit() else ""
    console.print(
        f"[bold]{escape(combination.describe())}[/bold]: OverFast's hero stats fetched {_when(stored.fetched_at)}"
        f"{escape(cached)}",
        highlight=False,
    )
    rows = sorted(json.loads(stored.heroes), key=lambda row: (-row["pickrate"], row["hero"]))
    table = Table(show_edge=False)
    for col in ("hero", "pick rate (%)", "winrate (%)"):
        table.add_column(col, justify="left" if col == "hero" else "right")
    for row in rows:
        table.add_row(escape(str(row["hero"])), str(row["pickrate"]), str(row["winrate"]))
    console.print(table)
    if not rows:
        console.print("OverFast returned no heroes for this combination")


def print_export(console: Console, tag: Any, written: Any) -> None:
    """What ``owstream export`` wrote: each file with its rows."""
    several = len(written.files) > 1
    where = f"{written.path}{'/' if several else ''}"
    console.print(f"wrote {tag}'s history to {where} (times in UTC)", markup=False, highlight=False)
    if several:
        table = Table(show_header=False, box=None, pad_edge=False)
        table.add_column(overflow="fold")
        table.add_column(justify="right", no_wrap=True)
        for path, rows in written.files.values():
            table.add_row(escape(str(path)), plural(rows, "row"))
        console.print(table)
    else:
        ((_, rows),) = written.files.values()
        console.print(plural(rows, "row"), highlight=False)
    if written.private:
        console.print("the stored profile is private: its snapshots carry no stats", highlight=False)
