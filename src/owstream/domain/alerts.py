"""Alerts: what a tracked player's event says in a webhook, in Discord's JSON (the default), Slack's, or a
plain JSON object. Pure: the notifier (:mod:`owstream.services.notifier`) sends what this builds.

Three events alert: a competitive rank change, a new play session (games, W-L, heroes) and a privacy
change. A session that is a counter reset (a season reset, a Blizzard correction) is not games and does not
alert. Webhook URLs are secrets (Discord's token is the part after ``/webhooks/<id>/``): :func:`mask_url`
is what every log line, error, page and listing shows of one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

from owstream.domain.heroes import Catalogue, hero_name
from owstream.domain.outcomes import duration
from owstream.domain.vocabulary import GAMEMODE_NAMES, platform_name, rank_score, rank_text
from owstream.messages.models import PlayerEvent, PrivacyChanged, RankChanged, SessionFound

Format = Literal["discord", "slack", "json"]
FORMATS: tuple[Format, ...] = get_args(Format)
ALERTING_TYPES = frozenset({"rank_change", "session", "privacy_change"})
MAX_URL = 2000
MASK = "****"

# Discord's limits (developer docs, "Embed Limits"); Slack's are larger.
_CONTENT_MAX, _TITLE_MAX, _DESCRIPTION_MAX, _FIELD_NAME_MAX, _FIELD_VALUE_MAX, _FIELDS_MAX = (
    2000, 256, 4096, 256, 1024, 25,
)  # fmt: skip
GREEN, RED, BLUE, GREY = 0x2ECC71, 0xE74C3C, 0x3498DB, 0x95A5A6


@dataclass(frozen=True, slots=True)
class Alert:
    """An event in words, before it takes a webhook's shape."""

    event_id: str
    event_type: str
    player_id: str
    at: float  # when the fetch that found it happened (unix s)
    title: str
    text: str  # one line: the whole alert (Discord's ``content``, Slack's ``text``)
    fields: tuple[tuple[str, str], ...] = ()
    color: int = BLUE


# --- URLs --------------------------------------------------------------------------------------------


def webhook_problem(url: str) -> str | None:
    """Why ``url`` cannot be a webhook (http or https with a host), or None if it can."""
    if not url or len(url) > MAX_URL:
        return f"a webhook URL has 1-{MAX_URL} characters"
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        return "a webhook URL has no spaces or control characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        return f"not a URL ({exc})"
    if parts.scheme not in ("http", "https"):
        return "a webhook URL starts with https:// (or http://)"
    if not parts.hostname:
        return "a webhook URL names a host, e.g. https://discord.com/api/webhooks/ID/TOKEN"
    return None


def mask_url(url: str) -> str:
    """``url`` without its secret: Discord's token (after ``/webhooks/<id>/``), otherwise the last path
    segment, the query, the fragment and any user:password are replaced by ``****``."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return MASK
    if parts.scheme not in ("http", "https") or not host:
        return MASK
    user = f"{MASK}@" if parts.username or parts.password else ""
    host = f"[{host}]" if ":" in host else host  # an IPv6 address, bracketed as in the URL
    segments = [s for s in parts.path.split("/") if s]
    at = segments.index("webhooks") if "webhooks" in segments else -1
    kept = segments[: at + 2] if at >= 0 and at + 2 < len(segments) else segments[:-1]  # Discord: /webhooks/<id>
    path = "".join(f"/{s}" for s in kept) + (f"/{MASK}" if len(kept) < len(segments) else "")
    if parts.query or parts.fragment:
        path += f"?{MASK}"
    return f"{parts.scheme}://{user}{host}{port}{path}"


def format_for(url: str, chosen: str | None = None) -> Format:
    """The body shape for ``url``: the chosen one, Slack's for hooks.slack.com, else Discord's."""
    if chosen in FORMATS:
        return chosen
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        host = ""
    return "slack" if host == "hooks.slack.com" else "discord"


# --- events in words -------------------------------------------------------------------------------


def alert_of(event: PlayerEvent, heroes: Catalogue | None = None) -> Alert | None:
    """The alert of an event, or None for an event that does not alert. ``heroes``: the hero catalogue
    (:meth:`owstream.store.Store.heroes`) that names them; without one, names come from the keys."""
    if isinstance(event, RankChanged):
        d = event.data
        before, after = rank_text(d.from_division, d.from_tier), rank_text(d.to_division, d.to_tier)
        old, new = rank_score(d.from_division, d.from_tier), rank_score(d.to_division, d.to_tier)
        moved = "changed" if old is None or new is None else ("went up" if new > old else "went down")
        color = GREY if moved == "changed" else (GREEN if moved == "went up" else RED)
        where = f"{d.role} ({d.platform.upper()})"
        season = f", season {d.season}" if d.season is not None else ""
        title = f"{event.player_id}: {d.role} rank {moved}"
        text = f"{event.player_id}'s {where} rank {moved}: {before} → {after}{season}."
        return _alert(event, title, text, (("Role", where), ("Before", before), ("Now", after)), color)
    if isinstance(event, SessionFound):
        s = event.data
        if s.is_reset or s.games <= 0:
            return None
        mode = GAMEMODE_NAMES.get(s.gamemode, s.gamemode)
        played = ", ".join(hero_name(h, heroes) for h in s.heroes[:5]) or "none recorded"
        games = f"{s.games} {mode.lower()} game{'s' if s.games != 1 else ''}"
        where = platform_name(s.platform)
        title = f"{event.player_id}: a new {mode.lower()} session ({where})"
        text = (
            f"{event.player_id} played {games} on {where}: {s.wins} W - {s.losses} L ({s.winrate:.0f} % won), "
            f"{duration(s.time_played)}, heroes: {played}."
        )
        fields: tuple[tuple[str, str], ...] = (
            ("Platform", where),
            ("Games", str(s.games)),
            ("W-L", f"{s.wins}-{s.losses}"),
            ("Winrate", f"{s.winrate:.2f} %"),
            ("KDA", f"{s.kda:.2f}"),
            ("Time played", duration(s.time_played)),
            ("Heroes", played),
        )
        return _alert(event, title, text, fields, BLUE)
    if isinstance(event, PrivacyChanged):
        private = event.data.private
        state = "private: its stats can no longer be fetched" if private else "public again: stats are fetched"
        title = f"{event.player_id}: career profile {'private' if private else 'public'}"
        return _alert(event, title, f"{event.player_id}'s career profile is now {state}.", (), GREY)
    return None


def _alert(event: PlayerEvent, title: str, text: str, fields: tuple[tuple[str, str], ...], color: int) -> Alert:
    return Alert(event.event_id, event.type, event.player_id, event.at, title, text, fields, color)


# --- webhook bodies ----------------------------------------------------------------------------------


def body(alert: Alert, fmt: Format, event: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The JSON body of ``alert`` for a webhook of format ``fmt`` (``event``: the event's own JSON, for
    the generic format)."""
    if fmt == "slack":
        return slack_body(alert)
    if fmt == "json":
        return json_body(alert, event)
    return discord_body(alert)


def discord_body(alert: Alert) -> dict[str, Any]:
    """Discord's execute-webhook JSON: ``content`` (the one line) and one embed; mentions are off, so no
    text can ping anyone."""
    embed = {
        "title": _cut(alert.title, _TITLE_MAX),
        "description": _cut(alert.text, _DESCRIPTION_MAX),
        "color": alert.color,
        "timestamp": _iso(alert.at),
        "fields": [
            {"name": _cut(name, _FIELD_NAME_MAX), "value": _cut(value, _FIELD_VALUE_MAX) or "-", "inline": True}
            for name, value in alert.fields[:_FIELDS_MAX]
        ],
        "footer": {"text": f"owstream · {alert.event_type}"},
    }
    return {
        "username": "owstream",
        "content": _cut(alert.text, _CONTENT_MAX),
        "embeds": [embed],
        "allowed_mentions": {"parse": []},
    }


def slack_body(alert: Alert) -> dict[str, Any]:
    """A Slack incoming-webhook message: ``text`` and one attachment with the fields, every text escaped as
    Slack asks (``&``, ``<``, ``>``): no ``<!channel>`` or ``<url|link>`` from a player id or hero key."""
    return {
        "text": slack_text(alert.text),
        "attachments": [
            {
                "color": f"#{alert.color:06x}",
                "title": slack_text(alert.title),
                "fields": [
                    {"title": slack_text(name), "value": slack_text(value), "short": True}
                    for name, value in alert.fields
                ],
                "ts": int(alert.at),
                "footer": "owstream",
            }
        ],
    }


def slack_text(text: str) -> str:
    """``text`` with Slack's control characters escaped (api.slack.com, "Escaping text")."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def json_body(alert: Alert, event: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A plain JSON object: the alert in words and the event as it is on ``player-events``."""
    return {
        "source": "owstream",
        "event_id": alert.event_id,
        "type": alert.event_type,
        "player_id": alert.player_id,
        "at": alert.at,
        "title": alert.title,
        "text": alert.text,
        "fields": dict(alert.fields),
        "event": dict(event) if event is not None else None,
    }


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).isoformat().replace("+00:00", "Z")
