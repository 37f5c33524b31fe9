#!/usr/bin/env bash
# Spark benchmark: Spark's own sources against the Tributary ones inside the same local[2] Spark session
# (io.tributary.spark.bench.SparkSourceBench, in connector-spark's test sources so that Spark stays out of this
# module): new-file discovery per micro-batch with 1,000 / 10,000 / 100,000 old files (Spark's file source vs the
# Tributary files source), and a Kafka topic read to its end (Spark's Kafka source vs the Tributary kafka source,
# broker from testing-kafka). Prints ratios; asserts nothing.
# Usage: bench/spark-bench.sh [counts=1000,10000,100000] [cycles=10] [kafka-records=1000000] [runs=2]
#        [dir=connector-spark/target/spark-bench]
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -B -DskipTests ${MVN_OFFLINE:+-o} test-compile dependency:build-classpath \
  -Dmdep.outputFile=target/test-classpath.txt -Dmdep.includeScope=test -pl connector-spark -am
opens="-Djdk.reflect.useDirectMethodHandle=false -Dio.netty.tryReflectionSetAccessible=true"
for p in java.lang java.lang.invoke java.lang.reflect java.io java.net java.nio java.util java.util.concurrent \
  java.util.concurrent.atomic jdk.internal.ref sun.nio.ch sun.nio.cs sun.security.action sun.util.calendar; do
  opens="$opens --add-opens=java.base/$p=ALL-UNNAMED"
done
cp="connector-spark/target/test-classes:connector-spark/target/classes:$(cat connector-spark/target/test-classpath.txt)"
exec java -Xmx3g $opens ${BENCH_JAVA_OPTS:-} -cp "$cp" io.tributary.spark.bench.SparkSourceBench \
  "${1:-1000,10000,100000}" "${2:-10}" "${3:-1000000}" "${4:-2}" "${5:-connector-spark/target/spark-bench}"
