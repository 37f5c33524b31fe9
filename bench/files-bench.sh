#!/usr/bin/env bash
# New-file listing benchmark: per listing cycle, time and memory of the `files` source to find 100 new files among
# 1,000 / 10,000 / 100,000 old ones (flat directory, flat with ordered-file-names, date=/hour= partitions; on HDFS:
# hdfs-flat, hdfs-ordered, hdfs-inotify), next to a Spark-style full re-listing measured in the same run. Old local
# files are created once under the given directory; HDFS ones (a MiniDFSCluster in the benchmark JVM) in each run.
# Usage: bench/files-bench.sh [counts=1000,10000,100000] [cycles=10] [dir=bench/target/files-bench]
#        [layouts=flat,flat-ordered,partitioned]      (add hdfs-flat,hdfs-ordered,hdfs-inotify for HDFS)
# BENCH_JAVA_OPTS adds JVM options, e.g. -Dbench.hdfs.roll=false (HDFS cases without a fresh edit segment).
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -B -DskipTests ${MVN_OFFLINE:+-o} package dependency:build-classpath -Dmdep.outputFile=target/classpath.txt \
  -Dmdep.includeScope=runtime -pl bench -am
# --add-opens: what Hadoop's MiniDFSCluster needs on Java 17 (as in connector-file's tests)
opens=""
for p in java.lang java.util java.nio sun.nio.ch java.io java.net java.lang.reflect java.util.concurrent java.security; do
  opens="$opens --add-opens java.base/$p=ALL-UNNAMED"
done
exec java -Xmx2g $opens ${BENCH_JAVA_OPTS:-} -cp "bench/target/classes:$(cat bench/target/classpath.txt)" io.tributary.bench.FileListingBench \
  "${1:-1000,10000,100000}" "${2:-10}" "${3:-bench/target/files-bench}" "${4:-flat,flat-ordered,partitioned}"
