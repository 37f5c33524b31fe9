package io.tributary.connector.kinesis.internal;

import software.amazon.kinesis.common.StreamConfig;
import software.amazon.kinesis.coordinator.DeletedStreamListProvider;
import software.amazon.kinesis.coordinator.streamInfo.StreamIdCache;
import software.amazon.kinesis.coordinator.streamInfo.StreamIdOnboardingState;
import software.amazon.kinesis.coordinator.streamInfo.StreamInfoMode;
import software.amazon.kinesis.leases.LeaseManagementConfig;
import software.amazon.kinesis.leases.LeaseRefresher;
import software.amazon.kinesis.leases.ShardSyncTaskManager;
import software.amazon.kinesis.lifecycle.TaskResult;
import software.amazon.kinesis.metrics.NullMetricsFactory;

/**
 * Creates the leases of a KCL application whose lease table is empty before its {@code Scheduler}
 * starts, with KCL's own shard sync, so that the Scheduler skips the wait KCL 3.5 makes on an empty
 * lease table. Not public API.
 *
 * <p>Why: KCL 3.5.1's {@code Scheduler.initialize()} finds an empty lease table on an application's
 * first start and then waits a random 1 to 30 s ({@code MIN/MAX_WAIT_TIME_FOR_LEASE_TABLE_CHECK_
 * MILLIS}, hard-coded, no setting), checking every 3 s whether another worker created leases, and
 * only then lets the leader run the first shard sync. A table that already holds leases ends that
 * wait at its first check (and KCL then skips its own first sync: the leases are there; the
 * leader's periodic shard sync keeps running as before).
 *
 * <p>How: exactly the task KCL's leader runs for that first sync ({@code
 * PeriodicShardSyncManager.syncShardsOnce} calls {@link ShardSyncTaskManager#callShardSyncTask}),
 * on a {@link ShardSyncTaskManager} made by the lease management factory of a {@link
 * LeaseManagementConfig} configured as the Scheduler's, for the Scheduler's own {@link
 * StreamConfig} (same stream, same initial position): KCL's {@code HierarchicalShardSyncer} lists
 * the shards at the initial position (ListShards with the matching ShardFilter, complete hash range
 * checked) and creates one lease per shard with the initial position as its checkpoint and the
 * shard's parents, each with a conditional put (the lease key must not exist). Two instances doing
 * this at the same time therefore create each lease once; KCL itself creates leases from several
 * workers at once too (a worker that ends a shard creates its children's leases while the leader's
 * periodic sync runs). Nothing is done when the table holds any lease.
 *
 * <p>Two differences to the Scheduler's own sync, neither about which leases are made: the task's
 * pause after a sync ({@code shardSyncTaskIdleTimeMillis}, which the factory sets to {@code
 * shardSyncIntervalMillis}, only spacing out repeated syncs) is 0 here, and no KCL metrics are
 * published for it.
 *
 * <p>Thread safety: {@link #createLeasesIfTableEmpty} may run in several threads and processes at
 * once. It blocks for the DynamoDB and Kinesis calls.
 */
public final class KclLeaseBootstrap {
  private KclLeaseBootstrap() {}

  /**
   * What {@link #createLeasesIfTableEmpty} did.
   *
   * @param synced whether the table was empty and KCL's shard sync ran
   * @param leases the leases in the table afterwards (when synced), else -1
   * @param skipped why nothing was done, or null
   */
  public record Result(boolean synced, int leases, String skipped) {}

  /**
   * When the lease table of {@code leases} holds no lease, runs KCL's shard sync for {@code stream}
   * (see the class comment).
   *
   * @param leases a lease management config set up as the Scheduler's, used for this call only (KCL
   *     caches the lease management factory in it, and its shard sync interval is set to 0 here)
   * @param stream the Scheduler's stream config (stream and initial position)
   * @throws Exception when KCL's shard sync failed (nothing or only some leases were created; the
   *     Scheduler's own first sync then creates the rest, as it would have without this)
   */
  public static Result createLeasesIfTableEmpty(LeaseManagementConfig leases, StreamConfig stream)
      throws Exception {
    if (leases.streamIdOnboardingState() != StreamIdOnboardingState.NOT_ONBOARDED
        || leases.streamInfoMode() != StreamInfoMode.DISABLED) {
      // KCL's stream id cache, initialized here (below), would then have to be the Scheduler's.
      return new Result(false, -1, "stream id onboarding or stream info tracking is configured");
    }
    leases.streamName(stream.streamIdentifier().streamName()).shardSyncIntervalMillis(0);
    try {
      ShardSyncTaskManager tasks =
          leases
              .leaseManagementFactory()
              .createShardSyncTaskManager(
                  new NullMetricsFactory(), stream, new DeletedStreamListProvider());
      LeaseRefresher refresher = tasks.leaseRefresher();
      if (!refresher.isLeaseTableEmpty()) {
        return new Result(false, -1, "the lease table holds leases");
      }
      // KCL's ListShards requests read the stream id from this JVM-wide cache, which the Scheduler
      // initializes only inside its initialize(). With NOT_ONBOARDED (checked above) the cache
      // answers "no stream id" without consulting its manager, exactly as the Scheduler's would;
      // the first initialization wins, so the Scheduler's later call leaves it as it is.
      StreamIdCache.initialize(null, StreamIdOnboardingState.NOT_ONBOARDED);
      TaskResult result = tasks.callShardSyncTask();
      if (result.getException() != null) {
        throw result.getException();
      }
      return new Result(true, refresher.listLeases().size(), null);
    } finally {
      // the config's own thread pool for asynchronous shard syncs; this one ran in the caller
      leases.executorService().shutdown();
    }
  }
}
