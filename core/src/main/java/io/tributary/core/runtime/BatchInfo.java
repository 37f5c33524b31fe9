package io.tributary.core.runtime;

/**
 * The figures of one committed batch, as Spark's Streaming tab shows them. Kept by the pipeline for
 * its last {@value Pipeline#RECENT_BATCHES} batches ({@link Pipeline#recentBatches()}).
 *
 * <p>Thread safety: immutable.
 *
 * @param batchId the batch id ({@code offsets/N}, {@code commits/N})
 * @param batchTimeMs when the batch was scheduled to run (epoch milliseconds)
 * @param records records read into the batch
 * @param bytes bytes of keys and values read into the batch
 * @param schedulingDelayMs how long the batch waited after its scheduled time before it started
 * @param processingTimeMs from its start to its commit written
 * @param totalDelayMs {@code schedulingDelayMs + processingTimeMs}: from its scheduled time to its
 *     commit
 * @param committedAtMs when {@code commits/N} was written (epoch milliseconds)
 */
public record BatchInfo(
    long batchId,
    long batchTimeMs,
    long records,
    long bytes,
    long schedulingDelayMs,
    long processingTimeMs,
    long totalDelayMs,
    long committedAtMs) {}
