package io.tributary.connector.kinesis;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.ChildShard;
import software.amazon.awssdk.services.kinesis.model.GetRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.Shard;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;

/**
 * The {@code kinesis-kcl} source across a split and a merge on kinesalite, through the wrapper
 * {@code testservers/kinesalite-server.js}, which adds the {@code ChildShards} kinesalite 3.3.3
 * leaves out of a closed shard's last GetRecords. Without them KCL retries that GetRecords for ever
 * ("GetRecords response is not valid"), the parent never ends and no child lease is made. The same
 * scenario as {@link KinesisKclReshardIT} (every record once, per key in order, children after
 * their parents), then: the parent's and the children's last GetRecords carry the ChildShards AWS
 * would send, and KCL's lease table shows it ended each parent from them: the parent checkpointed
 * at SHARD_END with its children recorded ({@code childShardIds}, which KCL takes only from a
 * GetRecords' ChildShards), a lease for each child with its parents. it/'s KinesisKclGatewayCrashIT
 * relies on this wrapper.
 */
class KinesaliteKclReshardIT {
  private final LocalDynamo dynamo = LocalDynamo.get();
  @TempDir Path dir;

  @Test
  void splitAndMergeOnKinesaliteChildLeasesComeFromTheWrappersChildShards() throws Exception {
    String stream = "kcl-reshard-kinesalite-" + System.nanoTime();
    try (LocalKinesalite kinesalite = LocalKinesalite.start();
        KinesisClient k = LocalKinesis.client(kinesalite.endpoint());
        DynamoDbClient d = dynamo.client()) {
      List<Shard> shards =
          KinesisKclReshardIT.splitAndMergeWhileReading(
              k, kinesalite.endpoint(), dynamo, stream, dir);
      Shard parent = shards.get(0);
      Shard child0 = shards.get(1);
      Shard child1 = shards.get(2);
      Shard merged = shards.get(3);

      assertThat(lastPageChildren(k, stream, parent.shardId()))
          .as("ChildShards of the split parent")
          .containsExactlyInAnyOrder(
              ChildShard.builder()
                  .shardId(child0.shardId())
                  .parentShards(parent.shardId())
                  .hashKeyRange(child0.hashKeyRange())
                  .build(),
              ChildShard.builder()
                  .shardId(child1.shardId())
                  .parentShards(parent.shardId())
                  .hashKeyRange(child1.hashKeyRange())
                  .build());
      ChildShard mergedChild =
          ChildShard.builder()
              .shardId(merged.shardId())
              .parentShards(merged.parentShardId(), merged.adjacentParentShardId())
              .hashKeyRange(merged.hashKeyRange())
              .build();
      for (Shard child : List.of(child0, child1)) {
        assertThat(lastPageChildren(k, stream, child.shardId()))
            .as("ChildShards of merged parent %s", child.shardId())
            .containsExactly(mergedChild);
      }

      Map<String, Map<String, AttributeValue>> leases = new TreeMap<>();
      d.scanPaginator(b -> b.tableName("app-" + stream))
          .items()
          .forEach(
              i -> {
                if (i.containsKey("leaseKey") && i.get("leaseKey").s().startsWith("shardId-")) {
                  leases.put(i.get("leaseKey").s(), i);
                }
              });
      // KCL records a parent's children (childShardIds) only from the ChildShards of a GetRecords
      // (the parent's last one, or its lease cleanup's); its shard sync from ListShards does not.
      assertThat(leases).as("lease of the split parent").containsKey(parent.shardId());
      assertThat(leases.get(parent.shardId()).get("checkpoint").s()).isEqualTo("SHARD_END");
      assertThat(leases.get(parent.shardId()).get("childShardIds").ss())
          .containsExactlyInAnyOrder(child0.shardId(), child1.shardId());
      for (Shard child : List.of(child0, child1)) {
        assertThat(leases)
            .as("lease of split child %s", child.shardId())
            .containsKey(child.shardId());
        Map<String, AttributeValue> lease = leases.get(child.shardId());
        assertThat(lease.get("parentShardId").ss()).containsExactly(parent.shardId());
        assertThat(lease.get("checkpoint").s()).isEqualTo("SHARD_END");
        assertThat(lease.get("childShardIds").ss()).containsExactly(merged.shardId());
      }
      assertThat(leases).as("lease of the merged shard").containsKey(merged.shardId());
      assertThat(leases.get(merged.shardId()).get("parentShardId").ss())
          .containsExactlyInAnyOrder(child0.shardId(), child1.shardId());
    }
  }

  /** The ChildShards of the GetRecords page that ends a closed shard (read from its start). */
  private static List<ChildShard> lastPageChildren(KinesisClient k, String stream, String shard) {
    String it =
        k.getShardIterator(
                b ->
                    b.streamName(stream)
                        .shardId(shard)
                        .shardIteratorType(ShardIteratorType.TRIM_HORIZON))
            .shardIterator();
    for (int page = 0; page < 100; page++) {
      String from = it;
      GetRecordsResponse r = k.getRecords(b -> b.shardIterator(from));
      if (r.nextShardIterator() == null) {
        return r.childShards();
      }
      assertThat(r.childShards()).as("ChildShards on a page with a next iterator").isEmpty();
      it = r.nextShardIterator();
    }
    throw new AssertionError("shard " + shard + " did not end within 100 pages");
  }
}
