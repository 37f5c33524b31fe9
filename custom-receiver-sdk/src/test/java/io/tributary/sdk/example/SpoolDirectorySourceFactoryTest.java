package io.tributary.sdk.example;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.core.api.ConfigException;
import io.tributary.core.api.Source;
import io.tributary.core.api.SourceFactory;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

class SpoolDirectorySourceFactoryTest {
  @Test
  void isFoundThroughServiceLoaderFromTheTestRegistration() {
    assertThat(ServiceLoader.load(SourceFactory.class).stream().map(ServiceLoader.Provider::get))
        .anySatisfy(f -> assertThat(f.type()).isEqualTo("spool-directory"));
  }

  @Test
  void createsAReceiverFromValidatedOptions() {
    SpoolDirectorySourceFactory f = new SpoolDirectorySourceFactory();
    Source s =
        f.create("in", f.options().parse(Map.of("directory", "/tmp/spool", "max-chunk-lines", 50)));
    assertThat(s).isInstanceOf(SpoolDirectoryReceiver.class);
    assertThat(((SpoolDirectoryReceiver) s).directory().toString()).isEqualTo("/tmp/spool");
  }

  @Test
  void reportsEveryProblemAtOnce() {
    SpoolDirectorySourceFactory f = new SpoolDirectorySourceFactory();
    assertThatThrownBy(
            () ->
                f.options()
                    .parse(Map.of("max-chunk-lines", 0, "scan-interval", "soon", "dir", "x")))
        .isInstanceOf(ConfigException.class)
        .satisfies(
            e ->
                assertThat(((ConfigException) e).problems())
                    .hasSize(4)
                    .anySatisfy(p -> assertThat(p).contains("max-chunk-lines"))
                    .anySatisfy(p -> assertThat(p).contains("scan-interval"))
                    .anySatisfy(p -> assertThat(p).contains("Unknown key dir"))
                    .anySatisfy(p -> assertThat(p).contains("Missing required key directory")));
  }
}
