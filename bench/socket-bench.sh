#!/usr/bin/env bash
# Socket ingestion benchmark: N lines of 100 bytes sent by socat (an external client) over TCP into socat (baseline)
# and into the gateway's socket server -> rolling-file sink, WAL off and WAL on (fsync always).
# Usage: bench/socket-bench.sh [lines=2000000] [runs=2] [profile=none|jfr] [warmup-lines=lines/2]
#   warmup-lines: sent on a first connection and published before the clock starts (JIT-compiled steady state);
#   0 measures a cold gateway.
#   profile=jfr: record the gateway with JFR during each measured run (bench/target/jfr/*.jfr) and print its hottest
#   methods; bench/socket-bench.sh summary <file.jfr> prints that summary for a kept recording.
# Builds this checkout's reactor (bench, gateway and what they need; never `install`), so the gateway jar is this
# worktree's. MVN_OPTS_EXTRA=-o to build offline.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v socat >/dev/null; then
  echo "socat is needed (sender and baseline): apt-get install -y socat" >&2
  exit 2
fi
if [ "${1:-}" = summary ]; then
  exec java -cp bench/target/classes io.tributary.bench.JfrTop "${2:?usage: socket-bench.sh summary <file.jfr>}" 25
fi
mvn -q -B ${MVN_OPTS_EXTRA:-} -DskipTests package -pl bench,gateway -am
jar=$(ls gateway/target/tributary-gateway-*.jar | grep -v -e sources -e original | head -1)
lines=${1:-2000000}
exec java -cp bench/target/classes io.tributary.bench.SocketIngestBench "$jar" "$lines" "${2:-2}" "${3:-none}" \
  "${4:-$((lines / 2))}"
