#!/usr/bin/env bash
# Flume benchmark (not a timed test): a Flume 1.11 agent (StressSource, N events of 100 bytes, memory channel)
# sends through its avro sink into a second agent (avro source -> file channel -> file_roll: the baseline), into
# the gateway's flume push source (WAL on, fsync always -> files), and through the tributary-flume-sink into the
# gateway's pull source. Prints events/s and MB/s side by side.
# Usage: connector-flume/flume-bench.sh [events=2000000]
# Builds this checkout's reactor (never `install`). MVN_OPTS_EXTRA=-o to build offline.
set -euo pipefail
cd "$(dirname "$0")/.."
cp_file=connector-flume/target/bench-classpath.txt
mvn -q -B ${MVN_OPTS_EXTRA:-} -DskipTests package -pl gateway,connector-flume -am
mvn -q -B ${MVN_OPTS_EXTRA:-} -DskipTests test-compile dependency:build-classpath -pl connector-flume -am \
  -Dmdep.includeScope=test -Dmdep.outputFile="$PWD/$cp_file" >/dev/null
jar=$(ls gateway/target/tributary-gateway-*.jar | grep -v -e sources -e original | head -1)
exec java -cp "connector-flume/target/test-classes:connector-flume/target/classes:$(cat "$cp_file")" \
  io.tributary.connector.flume.FlumeBench "$jar" "${1:-2000000}"
