"""What readers bound in what they consume, piece by piece (the whole story on the real broker is
tests/integration/test_forged.py): request ids per result, fetch times ahead of the reader's clock, the
size of an event, and Slack's control characters in an alert."""

from __future__ import annotations

import time

import pytest

from owstream.domain import alerts
from owstream.errors import ProcessingError
from owstream.messages import codec
from owstream.messages.models import KEPT_REQUEST_IDS, FetchStored, StoredData


def test_a_fetch_answering_more_requests_than_a_result_may_carry_keeps_the_first_ones() -> None:
    asked = [f"r{i}" for i in range(150)] + ["r0", "r1"]
    wire = codec.wire_result(request_ids=asked, player_id="TeKrop-2217", fetched_at=1.0, outcome="skipped")
    assert wire.request_ids == [f"r{i}" for i in range(KEPT_REQUEST_IDS)]
    assert codec.decode_result(codec.encode(wire)).request_ids == wire.request_ids  # readers take it


def test_a_fetch_time_ahead_of_the_readers_clock_is_refused_beyond_the_allowance() -> None:
    now = time.time()
    near = codec.wire_result(request_ids=["a"], player_id="TeKrop-2217", fetched_at=now + 200, outcome="skipped")
    codec.check_fetched_at(near, now)  # clocks a little apart
    far = codec.wire_result(request_ids=["a"], player_id="TeKrop-2217", fetched_at=now + 900, outcome="skipped")
    with pytest.raises(ProcessingError, match=r"900 s ahead of this reader's clock; at most 300 s"):
        codec.check_fetched_at(far, now)


def test_an_event_larger_than_an_event_can_be_is_refused_before_it_is_parsed() -> None:
    event = FetchStored(
        event_id="e", player_id="TeKrop-2217", at=1.0, request_id="r", data=StoredData(outcome="ok", error="x" * 1000)
    )
    assert codec.decode_event(codec.encode(event)) == event
    padded = codec.encode(event)[:-1] + b" " * codec.MAX_EVENT + b"}"
    with pytest.raises(ProcessingError, match=r"more than the 65,536 an event may have"):
        codec.decode_event(padded)


def test_slack_alerts_escape_what_slack_would_read_as_commands() -> None:
    alert = alerts.Alert("e", "session", "x", 1.0, "<!channel> title", "<https://evil|click> & more", (("A&B", "<b>"),))
    body = alerts.slack_body(alert)
    assert body["text"] == "&lt;https://evil|click&gt; &amp; more"
    attachment = body["attachments"][0]
    assert attachment["title"] == "&lt;!channel&gt; title"
    assert attachment["fields"] == [{"title": "A&amp;B", "value": "&lt;b&gt;", "short": True}]
