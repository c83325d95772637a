#!/usr/bin/env bash
# Test stand-in for Kafka's script of this name: java with the same variables, in the same order.
base=/opt/kafka
heap=${KAFKA_HEAP_OPTS:--Xmx256M}
perf=${KAFKA_JVM_PERFORMANCE_OPTS:--server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true}
jmx=${KAFKA_JMX_OPTS:--Dcom.sun.management.jmxremote -Dcom.sun.management.jmxremote.authenticate=false -Dcom.sun.management.jmxremote.ssl=false}
log4j=${KAFKA_LOG4J_OPTS:--Dlog4j2.configurationFile=$base/config/tools-log4j2.yaml}
# shellcheck disable=SC2086 # the options are word lists, as in Kafka's script
exec java $heap $perf ${KAFKA_GC_LOG_OPTS:-} $jmx $log4j -Dkafka.logs.dir=$base/logs -cp "$base/libs/*" ${KAFKA_OPTS:-} "$@"
