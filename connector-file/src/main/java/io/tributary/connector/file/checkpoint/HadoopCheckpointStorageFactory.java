package io.tributary.connector.file.checkpoint;

import io.tributary.connector.file.internal.hadoop.HadoopFileSystems;
import io.tributary.connector.file.internal.hadoop.PublishMode;
import io.tributary.core.api.Config;
import io.tributary.core.api.ConfigOption;
import io.tributary.core.api.ConfigSpec;
import io.tributary.core.checkpoint.CheckpointStorage;
import io.tributary.core.checkpoint.CheckpointStorageFactory;
import java.io.IOException;
import java.net.URI;
import java.util.Set;

/**
 * Checkpoint storage for {@code hdfs://}, {@code webhdfs://}, {@code viewfs://} and {@code s3a://}
 * locations ({@link HadoopCheckpointStorage}), found by core through {@link
 * java.util.ServiceLoader}.
 *
 * <pre>
 * pipelines:
 *   - id: clicks
 *     checkpoint: s3a://my-bucket/checkpoints/clicks
 *     checkpoint-options: { hadoop.fs.s3a.endpoint: http://127.0.0.1:9000, hadoop.fs.s3a.path.style.access: true }
 *     wal-dir: /var/lib/tributary/wal/clicks   # needed for a receiver with the write-ahead log
 * </pre>
 *
 * <p>Thread safety: stateless.
 */
public final class HadoopCheckpointStorageFactory implements CheckpointStorageFactory {
  public static final ConfigOption<PublishMode> PUBLISH =
      ConfigOption.enumValue("publish", PublishMode.class)
          .defaultValue(PublishMode.AUTO)
          .description(
              "How a checkpoint file is written atomically: rename (temp + rename with overwrite; HDFS),"
                  + " direct (single PUT on close; s3a), auto (direct on object stores, rename elsewhere).");
  public static final ConfigSpec SPEC = ConfigSpec.of(PUBLISH, HadoopFileSystems.HADOOP);

  @Override
  public Set<String> schemes() {
    return Set.of("hdfs", "webhdfs", "viewfs", "s3a");
  }

  @Override
  public ConfigSpec options() {
    return SPEC;
  }

  @Override
  public CheckpointStorage create(URI location, Config options) throws IOException {
    return new HadoopCheckpointStorage(
        location, options.get(HadoopFileSystems.HADOOP), options.get(PUBLISH));
  }
}
