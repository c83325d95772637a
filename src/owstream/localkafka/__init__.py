"""The local Apache Kafka for development, tests and CI: pinned jars from Maven Central, a Java 17+ runtime,
a single KRaft node (or a 3-node cluster) on 127.0.0.1. Production uses a cluster of its own
(``OWSTREAM_KAFKA_BOOTSTRAP``)."""

from owstream.localkafka.broker import BrokerState, LocalBroker, NodeState, free_port, free_ports

__all__ = ["BrokerState", "LocalBroker", "NodeState", "free_port", "free_ports"]
