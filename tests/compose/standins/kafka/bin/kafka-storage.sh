#!/usr/bin/env bash
# Test stand-in for Kafka's script of this name.
exec /opt/kafka/bin/kafka-run-class.sh kafka.tools.StorageTool "$@"
