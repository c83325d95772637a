"""The KRaft cluster id given to ``kafka-storage format``: never read as an option."""

from __future__ import annotations

import base64

from owstream.localkafka.broker import new_cluster_id


def test_cluster_ids_are_uuids_that_never_start_with_a_dash() -> None:
    # one base64url id in 64 starts with "-", which the storage tool took for an option (a 1.6 % flaky start)
    ids = [new_cluster_id() for _ in range(5_000)]
    assert not [i for i in ids if i.startswith("-")]
    assert len(set(ids)) == len(ids)
    for cluster_id in ids[:100]:
        assert len(cluster_id) == 22 and len(base64.urlsafe_b64decode(cluster_id + "==")) == 16
