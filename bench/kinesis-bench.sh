#!/usr/bin/env bash
# Kinesis read benchmark (issue 8): N records of S bytes on a 4-shard stream in a local kinesis-mock (npm
# kinesis-local, child node process; dynalite for KCL's lease tables), read to the last record by (1) a plain
# GetRecords loop (the baseline), (2) a bare KCL 3 application (ShardRecordProcessor writing to files), (3) the
# gateway's `kinesis` source -> files sink, (4) the gateway's `kinesis-kcl` source -> files sink. Same run, same
# stream; prints seconds, records/s, the ratio to the GetRecords loop and peak RSS.
# Usage: bench/kinesis-bench.sh [records=200000] [record-bytes=100] [get-records-limit=10000] (every reader's records per call)
# Needs node and npm (`npm ci` in connector-kinesis/testservers, done here when node_modules is missing).
# Builds this checkout's reactor (never `install`); the peers (1, 2) run on connector-kinesis' test class path.
# MVN_OPTS_EXTRA=-o to build offline.
set -euo pipefail
cd "$(dirname "$0")/.."
servers=connector-kinesis/testservers
if [ ! -d "$servers/node_modules/kinesis-local" ] || [ ! -d "$servers/node_modules/dynalite" ]; then
  (cd "$servers" && npm ci --no-audit --no-fund)
fi
mvn -q -B ${MVN_OPTS_EXTRA:-} -DskipTests package dependency:build-classpath \
  -Dmdep.outputFile=target/kinesis-bench-classpath.txt -Dmdep.includeScope=test -pl bench,gateway,connector-kinesis -am
echo "connector-kinesis/target/test-classes:connector-kinesis/target/classes:$(cat connector-kinesis/target/kinesis-bench-classpath.txt)" \
  > connector-kinesis/target/kinesis-bench-peer-classpath.txt
jar=$(ls gateway/target/tributary-gateway-*.jar | grep -v -e sources -e original | head -1)
exec java -cp bench/target/classes io.tributary.bench.KinesisBench "$jar" \
  connector-kinesis/target/kinesis-bench-peer-classpath.txt "$servers" "${1:-200000}" "${2:-100}" "${3:-10000}"
