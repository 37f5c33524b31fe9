package io.tributary.core.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.core.api.ConfigException;
import io.tributary.core.api.ConfigProblem;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointStorageFactoryTest {
  @Test
  void plainPathsAndFileUrisAreLocalOtherSchemesAreNot() {
    assertThat(CheckpointStorageFactory.isLocal("./data/cp")).isTrue();
    assertThat(CheckpointStorageFactory.isLocal("/var/lib/cp")).isTrue();
    assertThat(CheckpointStorageFactory.isLocal("file:/var/lib/cp")).isTrue();
    assertThat(CheckpointStorageFactory.isLocal("C:\\data\\cp")).isTrue();
    assertThat(CheckpointStorageFactory.isLocal("hdfs://nn:8020/cp")).isFalse();
    assertThat(CheckpointStorageFactory.isLocal("s3a://bucket/cp")).isFalse();
  }

  @Test
  void opensALocalStorageForAPathOrAFileUri(@TempDir Path dir) throws Exception {
    try (CheckpointStorage s =
        CheckpointStorageFactory.open(dir.resolve("a").toString(), Map.of())) {
      assertThat(s).isInstanceOf(LocalCheckpointStorage.class);
      s.writeAtomically("offsets/1", "x".getBytes(StandardCharsets.UTF_8));
    }
    try (CheckpointStorage s =
        CheckpointStorageFactory.open(dir.resolve("a").toUri().toString(), Map.of())) {
      assertThat(s.read("offsets/1"))
          .hasValueSatisfying(
              b -> assertThat(new String(b, StandardCharsets.UTF_8)).isEqualTo("x"));
    }
  }

  @Test
  void aSchemeWithoutFactoryOnTheClasspathIsAConfigProblemNamingIt() {
    assertThat(CheckpointStorageFactory.validate("nosuch://host/cp", Map.of()))
        .extracting(ConfigProblem::message)
        .singleElement()
        .asString()
        .contains(
            "Invalid value nosuch://host/cp for checkpoint",
            "no checkpoint storage for scheme nosuch");
    assertThatThrownBy(() -> CheckpointStorageFactory.open("nosuch://host/cp", Map.of()))
        .isInstanceOf(ConfigException.class);
  }

  @Test
  void aLocalCheckpointTakesNoOptions() {
    assertThat(CheckpointStorageFactory.validate("/tmp/cp", Map.of("hadoop.fs.defaultFS", "x")))
        .extracting(ConfigProblem::key)
        .containsExactly("hadoop.fs.defaultFS");
  }
}
