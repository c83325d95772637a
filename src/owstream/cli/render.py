"""Rich rendering for the CLI's human-readable output (JSON output does not come here)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from owstream.domain.alerts import format_for, mask_url
from owstream.domain.heroes import hero_name
from owstream.domain.outcomes import duration, hours, utc
from owstream.domain.vocabulary import rank_text


def print_kafka_status(console: Console, status: dict[str, Any]) -> None:
    broker = status["broker"]
    where = "local broker" if broker["local"] else "cluster"
    version = f"Kafka {broker['version']}" if broker["version"] else "Kafka"
    state = "reachable" if broker["reachable"] else "[red]not reachable[/red]"
    pid = f", pid {broker['pid']}" if broker["pid"] else ""
    console.print(f"{version} {where} at {escape(broker['bootstrap'])}: {state}{pid}")
    nodes = status.get("brokers") or []
    if len(nodes) > 1 or any(not n["alive"] for n in nodes):
        _print_brokers(console, nodes)
    if not broker["reachable"]:
        if broker["local"]:
            console.print("start it with `owstream kafka start`")
        return
    topics = Table(title="topics", title_justify="left")
    for col in ("topic", "partitions", "replicas", "min in sync", "end offsets", "messages"):
        topics.add_column(col, justify="left" if col == "topic" else "right")
    for t in status["topics"]:
        topics.add_row(
            escape(t["name"]),
            str(t["partitions"]),
            str(t.get("replication_factor", "?")),
            _number(t.get("min_insync_replicas")),
            " ".join(map(_number, t["end_offsets"])),
            str(t["messages"]),
        )
    console.print(topics)
    if not status["topics"]:
        console.print("no owstream topics yet (they are created by `owstream kafka start` or any service)")
    else:
        _print_partitions(console, status["topics"])
    _print_under_replicated(console, status.get("under_replicated") or [])
    groups = Table(title="consumer groups", title_justify="left")
    for col in ("group", "state", "members", "lag"):
        groups.add_column(col, justify="left" if col in ("group", "state") else "right")
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
    table = Table(title="brokers", title_justify="left")
    for col in ("id", "address", "roles", "alive", "pid"):
        table.add_column(col, justify="right" if col in ("id", "pid") else "left")
    for n in nodes:
        roles = {True: "broker, controller", False: "broker", None: "broker (controller?)"}[n["controller"]]
        table.add_row(
            str(n["id"]), escape(n["address"]), roles, "yes" if n["alive"] else "[red]no[/red]", _number(n.get("pid"))
        )
    console.print(table)


def _print_partitions(console: Console, topics: list[dict[str, Any]]) -> None:
    table = Table(title="partitions", title_justify="left")
    for col in ("topic", "partition", "leader", "replicas", "in sync", "offsets"):
        table.add_column(col, justify="left" if col == "topic" else "right")
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
    """A player's stored data: header, ranks, then per gamemode the headline numbers, roles and top heroes."""
    player = data["player"]
    title = f" — {player['title']}" if player.get("title") else ""
    console.print(
        f"[bold]{escape(player['name'] or player['player_id'])}[/bold] ({escape(player['player_id'])}){escape(title)}",
        highlight=False,
    )
    fresh = data.get("freshness", {})
    console.print(
        f"endorsement {player.get('endorsement_level') or '-'}; Blizzard last updated "
        f"{_when(fresh.get('last_updated_at'))}; fetched {_when(fresh.get('fetched_at'))}",
        highlight=False,
    )
    if player.get("private"):
        console.print("[yellow]the career profile is private: no stats[/yellow]")
    if data.get("season") is not None:
        print_season(console, data)
    ranks = data.get("ranks") or []
    if ranks:
        parts = [
            f"{r['platform']} {r['role']} {rank_text(r['division'], r['tier'])} (season {r['season']})" for r in ranks
        ]
        console.print("ranks: " + ", ".join(parts), highlight=False, markup=False)
    for mode, block in data.get("gamemodes", {}).items():
        overall = block.get("overall") or {}
        heading = f"{mode}, {escape(data['season_label'])}" if data.get("season") is not None else mode
        console.print(
            f"\n[bold]{heading}[/bold]: {overall.get('games_played', 0)} games, {overall.get('games_won', 0)} won, "
            f"{overall.get('games_lost', 0)} lost, winrate {overall.get('winrate', 0)} %, KDA {overall.get('kda', 0)}, "
            f"{_hours(overall.get('time_played'))} played",
            highlight=False,
        )
        table = Table(title_justify="left", show_edge=False)
        for col in ("role / hero", "games", "winrate %", "KDA", "time", "elims /10 min", "deaths /10 min"):
            table.add_column(col, justify="left" if col == "role / hero" else "right")
        rows = list(block.get("roles", {}).items())
        heroes = sorted(block.get("heroes", {}).items(), key=lambda kv: -(kv[1].get("time_played") or 0))[:8]
        names = data.get("hero_names") or {}
        for key, b in [*rows, *heroes]:
            name = hero_name(key, names) if key in block.get("heroes", {}) else key
            avg = b.get("average", {})
            table.add_row(
                escape(name), str(b.get("games_played", 0)), str(b.get("winrate", 0)), str(b.get("kda", 0)),
                _hours(b.get("time_played")), str(avg.get("eliminations", 0)), str(avg.get("deaths", 0)),
            )  # fmt: skip
        console.print(table)
        if block.get("reset"):
            console.print(f"reset: {block['reset']['note']}", markup=False, highlight=False)
        session = block.get("latest_session")
        if session:
            kind = "reset (season or correction)" if session.get("is_reset") else "latest session"
            console.print(
                f"{kind}: {session['games']} games, {session['wins']}-{session['losses']}, "
                f"winrate {session['winrate']} %, {_hours(session['time_played'])} ({_when(session['ended_at'])})",
                highlight=False,
            )


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
