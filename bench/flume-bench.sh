#!/usr/bin/env bash
# Flume ingestion benchmark (issue 9): one real Flume 1.11 agent (StressSource -> memory channel) delivering N events
# of S bytes into (1) a second Flume agent (avro source -> file channel -> file_roll), the durable way Flume users do
# it today, (2) the gateway's flume push source (WAL fsync always -> files), (3) the gateway's flume pull source
# polling the agent's tributary-flume-sink. Same run, same machine; prints events/s, MB/s and ratios.
# Usage: bench/flume-bench.sh [events=2000000] [event-bytes=100]
# Builds this checkout's reactor (never `install`); the agents run on connector-flume's test class path (Flume 1.11
# from Maven Central and the tributary-flume-sink jar). MVN_OPTS_EXTRA=-o to build offline.
set -euo pipefail
cd "$(dirname "$0")/.."
# one reactor invocation, so tributary-flume-sink on the agents' class path is this checkout's, never ~/.m2's
mvn -q -B ${MVN_OPTS_EXTRA:-} -DskipTests package dependency:build-classpath -Dmdep.outputFile=target/flume-classpath.txt \
  -Dmdep.includeScope=test -pl bench,gateway,connector-flume -am
jar=$(ls gateway/target/tributary-gateway-*.jar | grep -v -e sources -e original | head -1)
exec java -cp bench/target/classes io.tributary.bench.FlumeIngestBench "$jar" connector-flume/target/flume-classpath.txt \
  "${1:-2000000}" "${2:-100}"
