/**
 * Checkpoint storage on HDFS and S3 ({@link
 * io.tributary.connector.file.checkpoint.HadoopCheckpointStorage}), found by core's {@link
 * io.tributary.core.checkpoint.CheckpointStorageFactory} SPI for {@code hdfs://}, {@code
 * webhdfs://}, {@code viewfs://} and {@code s3a://} locations.
 */
package io.tributary.connector.file.checkpoint;
