"""The alerts' words and shapes (Discord, Slack, JSON), webhook URLs checked and masked, and the notifier's
pure pieces: Retry-After, backoff, error texts without the secret."""

from __future__ import annotations

import json

import pytest

from owstream.domain import alerts
from owstream.domain.heroes import Hero
from owstream.messages.models import (
    FetchStored,
    PrivacyChanged,
    PrivacyData,
    RankChanged,
    RankChangeData,
    SessionData,
    SessionFound,
    StoredData,
)
from owstream.services.notifier import backoff
from owstream.services.webhooks import retry_after_of
from owstream.services.webhooks import scrub as _scrub

AT = 1_767_225_600.0


def rank(from_div: str | None, from_tier: int | None, to_div: str | None, to_tier: int | None) -> RankChanged:
    data = RankChangeData(platform="pc", role="support", season=14, from_division=from_div, from_tier=from_tier,
                          to_division=to_div, to_tier=to_tier)  # fmt: skip
    return RankChanged(event_id="r1:rank_change:0", player_id="TeKrop-2217", at=AT, data=data)


def session(**changes: object) -> SessionFound:
    values: dict[str, object] = {
        "gamemode": "competitive", "is_reset": False, "games": 3, "wins": 2, "losses": 1, "winrate": 66.67,
        "kda": 2.5, "time_played": 1860, "eliminations": 40, "assists": 10, "deaths": 20, "damage": 20000,
        "healing": 0, "heroes": ["soldier-76", "ana"],
    }  # fmt: skip
    values.update(changes)
    data = SessionData(**values)  # type: ignore[arg-type]
    return SessionFound(event_id="r1:session:0", player_id="TeKrop-2217", at=AT, data=data)


def test_a_rank_change_in_discords_shape() -> None:
    alert = alerts.alert_of(rank("gold", 3, "gold", 2))
    assert alert is not None
    body = alerts.body(alert, "discord")
    assert body["content"] == "TeKrop-2217's support (PC) rank went up: Gold 3 → Gold 2, season 14."
    assert body["allowed_mentions"] == {"parse": []}  # no @everyone from any text
    (embed,) = body["embeds"]
    assert embed["title"] == "TeKrop-2217: support rank went up"
    assert embed["color"] == alerts.GREEN
    assert embed["timestamp"] == "2026-01-01T00:00:00Z"
    assert [(f["name"], f["value"]) for f in embed["fields"]] == [
        ("Role", "support (PC)"), ("Before", "Gold 3"), ("Now", "Gold 2"),
    ]  # fmt: skip
    json.dumps(body)  # plain JSON


@pytest.mark.parametrize(
    ("before", "after", "moved", "color"),
    [
        (("gold", 1), ("silver", 5), "went down", alerts.RED),
        ((None, None), ("gold", 5), "changed", alerts.GREY),  # placed: no "up" from unranked
        (("master", 1), ("grandmaster", 5), "went up", alerts.GREEN),
    ],
)
def test_rank_change_direction(before: tuple, after: tuple, moved: str, color: int) -> None:  # type: ignore[type-arg]
    alert = alerts.alert_of(rank(*before, *after))
    assert alert is not None and moved in alert.text and alert.color == color


def test_a_session_says_games_wins_losses_heroes_and_platform() -> None:
    alert = alerts.alert_of(session(platform="console"))
    assert alert is not None
    assert alert.text == (
        "TeKrop-2217 played 3 competitive games on Console: 2 W - 1 L (67 % won), 31 min, heroes: Soldier 76, Ana."
    )
    assert dict(alert.fields)["W-L"] == "2-1" and dict(alert.fields)["Platform"] == "Console"
    old = alerts.alert_of(session())  # an event of an old result: OverFast's total of both, labelled so
    assert old is not None and "on PC + console:" in old.text
    catalogue = {"soldier-76": Hero("soldier-76", "Soldier: 76", "damage")}  # OverFast's /heroes, as stored
    named = alerts.alert_of(session(), catalogue)
    assert named is not None and named.text.endswith("heroes: Soldier: 76, Ana.")  # the same names as the pages
    assert alerts.alert_of(session(is_reset=True)) is None  # a counter reset is not games
    assert alerts.alert_of(session(games=0, wins=0, losses=0)) is None


def test_privacy_and_other_events() -> None:
    private = PrivacyChanged(event_id="p:privacy_change:0", player_id="TeKrop-2217", at=AT, data=PrivacyData(True))
    alert = alerts.alert_of(private)
    assert alert is not None and "now private" in alert.text
    stored = FetchStored(event_id="x", player_id="TeKrop-2217", at=AT, data=StoredData(outcome="ok"))
    assert alerts.alert_of(stored) is None


def test_slack_and_generic_json() -> None:
    alert = alerts.alert_of(session())
    assert alert is not None
    slack = alerts.body(alert, "slack")
    assert slack["text"] == alert.text and slack["attachments"][0]["color"] == "#3498db"
    generic = alerts.body(alert, "json", {"type": "session", "data": {"games": 3}})
    assert generic["type"] == "session" and generic["event"] == {"type": "session", "data": {"games": 3}}
    assert generic["fields"]["Games"] == "3"


def test_discord_limits_are_kept() -> None:
    alert = alerts.Alert(
        "e", "session", "P-1234", AT, "t" * 300, "x" * 5000, tuple((f"f{i}", "v" * 2000) for i in range(30))
    )
    body = alerts.discord_body(alert)
    assert len(body["content"]) == 2000 and len(body["embeds"][0]["title"]) == 256
    assert len(body["embeds"][0]["fields"]) == 25 and all(len(f["value"]) == 1024 for f in body["embeds"][0]["fields"])


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("https://discord.com/api/webhooks/123456/AbCd-token", "https://discord.com/api/webhooks/123456/****"),
        (
            "https://discord.com/api/webhooks/123456/tok/slack?wait=true",
            "https://discord.com/api/webhooks/123456/****?****",
        ),
        ("https://hooks.slack.com/services/T0/B0/XXXXSECRET", "https://hooks.slack.com/services/T0/B0/****"),
        ("http://127.0.0.1:8080/hook/secret", "http://127.0.0.1:8080/hook/****"),
        ("http://[2001:db8::1]:8080/hook/secret", "http://[2001:db8::1]:8080/hook/****"),
        ("https://user:pw@example.com/a?token=1", "https://****@example.com/****?****"),
        ("https://example.com", "https://example.com"),
        ("not a url", "****"),
    ],
)
def test_mask_url_hides_the_secret(url: str, masked: str) -> None:
    assert alerts.mask_url(url) == masked


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://discord.com/api/webhooks/1/t", None),
        ("http://127.0.0.1:9/x", None),
        ("ftp://example.com/x", "starts with https://"),
        ("https:///nohost", "names a host"),
        ("https://a b.com/", "no spaces"),
        ("https://example.com:99999999/", "not a URL"),
        ("", "1-2000 characters"),
    ],
)
def test_webhook_urls_are_checked(url: str, problem: str | None) -> None:
    found = alerts.webhook_problem(url)
    assert found is None if problem is None else (found is not None and problem in found)


def test_the_format_follows_the_url_unless_chosen() -> None:
    assert alerts.format_for("https://discord.com/api/webhooks/1/t") == "discord"
    assert alerts.format_for("https://hooks.slack.com/services/a/b/c") == "slack"
    assert alerts.format_for("https://example.com/x", "json") == "json"
    assert alerts.format_for("https://example.com/x", "nonsense") == "discord"


def test_retry_after_and_backoff() -> None:
    assert retry_after_of("3") == 3.0
    assert retry_after_of(None, '{"message": "rate limited", "retry_after": 0.5, "global": false}') == 0.5
    assert retry_after_of("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past: now
    assert retry_after_of(None, "not json") is None
    assert backoff(1, base=5, cap=300, retry_after=1000) == 300  # Retry-After honoured up to the bound
    assert backoff(1, base=5, cap=300, retry_after=2) == 2
    assert 4 <= backoff(1, base=5, cap=300) <= 6
    assert 16 <= backoff(3, base=5, cap=300) <= 24
    assert backoff(30, base=5, cap=300) == 300


def test_error_texts_never_carry_the_secret() -> None:
    url = "https://discord.com/api/webhooks/123/s3cr3t-token"
    scrubbed = _scrub(f"bad request for {url} (token s3cr3t-token)", url)
    assert "s3cr3t-token" not in scrubbed and "https://discord.com/api/webhooks/123/****" in scrubbed
