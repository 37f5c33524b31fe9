#!/usr/bin/env bash
# Kafka -> Kafka forwarding benchmark: N records of 100 bytes in an 8-partition topic, read by a plain KafkaConsumer
# poll loop (the ceiling), written by a transactional producer alone (the exactly-once write ceiling), then forwarded by the gateway process with the exactly-once `kafka` sink, with
# `kafka-at-least-once`, and by a Kafka Streams exactly_once_v2 app (stream(in).to(out)) -- each in its own JVM, same
# broker, same input. Reports records/s, peak RSS and time from launch to the first committed output of each, and the
# issue's targets as met / not met. Starts its own local KRaft broker (child JVM, 127.0.0.1, free ports).
# Usage: bench/kafka-bench.sh [records=2000000] [max-records-per-partition=50000] [batch-interval=200ms]
# Builds this checkout's reactor (bench, gateway and what they need; never `install`), so the gateway jar and the
# classpath are this worktree's (build-classpath in the same reactor run points at its target/ jars). MVN_OPTS_EXTRA=-o to build offline.
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -B ${MVN_OPTS_EXTRA:-} -DskipTests package dependency:build-classpath -Dmdep.outputFile=target/classpath.txt \
  -Dmdep.includeScope=runtime -pl bench,gateway -am
# The gateway runs as a user runs it: the distribution archive's bin/tributary launcher (its default JVM options, then
# TRIBUTARY_JAVA_OPTS=-Xmx1g like the other contenders' -Xmx1g). BENCH_GATEWAY=<a gateway jar or dist archive> runs
# another build instead (a jar: `java -Xmx1g -jar`, no launcher), e.g. for before/after runs in one session.
dist=${BENCH_GATEWAY:-$(ls gateway/target/tributary-gateway-*-dist.tar.gz | head -1)}
exec java -cp "bench/target/classes:$(cat bench/target/classpath.txt)" io.tributary.bench.KafkaForwardBench \
  "$dist" "${1:-2000000}" "${2:-50000}" "${3:-200ms}"
