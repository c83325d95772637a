"""``owstream track add|notify|remove|list``: the watchlist the scheduler refreshes, and its alerts."""

from __future__ import annotations

import json
import time
from enum import StrEnum
from typing import Annotated

import typer

from owstream.cli.consoles import out
from owstream.cli.context import client_settings, json_errors
from owstream.errors import OwstreamError

track_app = typer.Typer(help="The watchlist: players the scheduler refreshes.", no_args_is_help=True)


class NotifyFormat(StrEnum):
    discord = "discord"
    slack = "slack"
    json = "json"


_NOTIFY_HELP = "Send this player's alerts (rank change, new session, privacy change) to this webhook URL."
_FORMAT_HELP = "The webhook's JSON: discord (default; slack for hooks.slack.com URLs), slack or json."


@track_app.command("add")
def track_add(
    battletag: str,
    notify: Annotated[str | None, typer.Option("--notify", metavar="URL", help=_NOTIFY_HELP)] = None,
    notify_format: Annotated[NotifyFormat | None, typer.Option("--notify-format", help=_FORMAT_HELP)] = None,
) -> None:
    """Add a player to the watchlist (and, with --notify, send its alerts to a webhook)."""
    from owstream.cli.commands import set_notify
    from owstream.domain.battletag import parse_player
    from owstream.store import Store

    tag = parse_player(battletag)
    settings = client_settings()
    if notify is not None:
        from owstream.cli.commands import checked_webhook

        checked_webhook(notify, settings)  # refused before anything is written
    with Store.open(settings.resolved_store_url) as store:
        added = store.watch_add(store.aliases.history_of(tag.player_id), time.time())
    out.print(f"{tag} {'added to' if added else 'is already on'} the watchlist", markup=False, highlight=False)
    if notify is not None:
        masked = set_notify(settings, tag.player_id, notify, notify_format.value if notify_format else None)
        out.print(f"{tag}'s alerts go to {masked}", markup=False, highlight=False)


@track_app.command("notify")
def track_notify(
    battletag: str,
    url: Annotated[str | None, typer.Argument(metavar="[URL]", help="The webhook URL (http or https).")] = None,
    off: Annotated[bool, typer.Option("--off", help="Stop sending this player's alerts.")] = False,
    notify_format: Annotated[NotifyFormat | None, typer.Option("--format", help=_FORMAT_HELP)] = None,
) -> None:
    """Send a tracked player's alerts to a webhook URL, or stop them with --off."""
    from owstream.cli.commands import set_notify
    from owstream.domain.battletag import parse_player

    tag = parse_player(battletag)
    if (url is None) == (not off):
        raise OwstreamError("give a webhook URL, or --off to stop the alerts (not both)")
    masked = set_notify(client_settings(), tag.player_id, url, notify_format.value if notify_format else None)
    said = f"{tag}'s alerts go to {masked}" if masked else f"{tag} gets no alerts any more"
    out.print(said, markup=False, highlight=False)


@track_app.command("remove")
def track_remove(battletag: str) -> None:
    """Remove a player from the watchlist."""
    from owstream.domain.battletag import parse_player
    from owstream.store import Store

    tag = parse_player(battletag)
    with Store.open(client_settings().resolved_store_url) as store:
        removed = store.watch_remove(store.aliases.history_of(tag.player_id))
    if not removed:
        raise OwstreamError(f"{tag} is not on the watchlist")
    out.print(f"{tag} removed from the watchlist", markup=False, highlight=False)


@track_app.command("list")
def track_list(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
) -> None:
    """The watchlist, with when each player was last refreshed."""
    from owstream.store import Store

    json_errors(as_json)
    with Store.open(client_settings().resolved_store_url) as store:
        entries = store.watchlist()
    if as_json:
        from owstream.domain.alerts import mask_url

        rows = [
            {
                "player_id": e.player_id,
                "added_at": e.added_at,
                "last_fetched_at": e.last_fetched_at,
                "notify": mask_url(e.notify_url) if e.notify_url else None,  # the URL is a secret
                "notify_format": e.notify_format,
            }
            for e in entries
        ]
        print(json.dumps({"watchlist": rows}))
        return
    from owstream.cli.render import print_watchlist

    print_watchlist(out, entries)
