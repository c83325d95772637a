"""The load of the compose memory test, run inside a container of the stack (`python - RATE SECONDS`, this
file on stdin): forced fetch requests for the simulator's players, RATE a second for SECONDS, through the
stack's own Kafka (issue 12's load: 5 a second). Prints how many it sent."""

from __future__ import annotations

import sys
import time

from owstream.bus import Producer, TopicNames
from owstream.config import get_settings
from owstream.messages import codec, contracts
from owstream.messages.models import FetchRequest, new_id
from owstream.simulator import player_ids


def main(rate: float, seconds: float) -> int:
    settings = get_settings()
    topic = TopicNames(settings.topic_prefix).fetch_requests
    players = player_ids()
    producer = Producer(settings)
    sent = 0
    began = time.monotonic()
    try:
        while time.monotonic() - began < seconds:
            player = players[sent % len(players)]
            request = FetchRequest(player_id=player, request_id=new_id(), force=True, requested_at=time.time())
            producer.send(topic, codec.encode(request), key=player, headers=contracts.FETCH_REQUEST.headers)
            sent += 1
            time.sleep(max(0.0, began + sent / rate - time.monotonic()))
        producer.flush_or_raise(timeout=30)
    finally:
        producer.close()
    return sent


if __name__ == "__main__":
    print(main(float(sys.argv[1]), float(sys.argv[2])))
