/**
 * Sinks that publish batches as files on any Hadoop file system: {@link
 * io.tributary.connector.file.sink.HadoopFileSink} (sink type {@code hadoop-files}), exactly-once
 * by batch-id naming and atomic publish (rename on HDFS and local file systems, a write visible
 * only when complete on S3).
 */
package io.tributary.connector.file.sink;
