#!/usr/bin/env bash
# Socket ingestion benchmark: N lines of 100 bytes over TCP into socat (baseline) and into the gateway's socket server
# -> rolling-file sink, WAL off and on. Usage: bench/socket-bench.sh [lines=2000000] [runs=2]
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v socat >/dev/null; then
  echo "socat is needed for the baseline: apt-get install -y socat" >&2
  exit 2
fi
mvn -q -B -DskipTests package
jar=$(ls gateway/target/tributary-gateway-*.jar | grep -v -e sources -e original | head -1)
exec java -cp bench/target/classes io.tributary.bench.SocketIngestBench "$jar" "${1:-2000000}" "${2:-2}"
