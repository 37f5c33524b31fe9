package io.tributary.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code run} without picocli ({@link TributaryCli#quickRun}): the same options as picocli's parse
 * for the forms it takes, picocli for every other form, and picocli not even loaded on the way.
 */
class QuickRunTest {
  @TempDir Path tmp;

  private static TributaryCli.Run picocli(String... args) {
    CommandLine.ParseResult r = new CommandLine(new TributaryCli()).parseArgs(args);
    return (TributaryCli.Run) r.subcommand().commandSpec().userObject();
  }

  @Test
  void takesTheUsualFormsWithPicocliSOptions() {
    List<String[]> forms =
        List.of(
            new String[] {"run"},
            new String[] {"run", "--config", "conf/tributary.yaml"},
            new String[] {"run", "--config=conf/tributary.yaml"},
            new String[] {"run", "--config", "/etc/a b.yaml", "--log-format", "json"},
            new String[] {"run", "--log-format=text", "--config", "x.yaml"},
            new String[] {"run", "--config", "x.yaml", "--log-format", "yaml"},
            new String[] {"run", "--plugins", "p1,p2", "--plugins=p3", "--config", "x.yaml"},
            new String[] {"run", "--plugins", "/opt/plugins"},
            new String[] {"run", "--config", "a=b.yaml"});
    for (String[] args : forms) {
      TributaryCli.Run quick = TributaryCli.quickRun(args);
      TributaryCli.Run expected = picocli(args);
      assertThat(quick).as(String.join(" ", args)).isNotNull();
      assertThat(quick.options.config)
          .as(String.join(" ", args))
          .isEqualTo(expected.options.config);
      assertThat(quick.options.plugins)
          .as(String.join(" ", args))
          .isEqualTo(expected.options.plugins);
      assertThat(quick.options.help).isFalse();
      assertThat(quick.logFormat).as(String.join(" ", args)).isEqualTo(expected.logFormat);
    }
  }

  @Test
  void leavesEveryOtherFormToPicocli() {
    List<String[]> forms =
        List.of(
            new String[] {},
            new String[] {"validate", "--config", "x.yaml"},
            new String[] {"run", "--help"},
            new String[] {"run", "-h"},
            new String[] {"run", "--config", "x.yaml", "--help"},
            new String[] {"run", "--config"},
            new String[] {"run", "--config="},
            new String[] {"run", "--config", "a.yaml", "--config", "b.yaml"},
            new String[] {"run", "--log-format", "json", "--log-format", "text"},
            new String[] {"run", "--config", "--log-format", "json"},
            new String[] {"run", "--config", "@args.txt"},
            new String[] {"run", "@args.txt"},
            new String[] {"run", "x.yaml"},
            new String[] {"run", "--no-such-option", "x"},
            new String[] {"run", "--plugins", "a,,b"},
            new String[] {"run", "--plugins", ",a"},
            new String[] {"run", "--plugins", "a,"},
            new String[] {"run", "--plugins", "\"a,b\""},
            new String[] {"run", "--config", "bad\0path"},
            new String[] {"run", "--", "--config", "x.yaml"},
            new String[] {"RUN", "--config", "x.yaml"});
    for (String[] args : forms) {
      assertThat(TributaryCli.quickRun(args)).as(String.join(" ", args)).isNull();
    }
  }

  @Test
  void aRunWithAnInvalidConfigurationExitsTwoWithoutLoadingPicocli() throws Exception {
    Path bad = tmp.resolve("bad.yaml");
    Files.writeString(bad, "pipelines:\n  - id: x\n    source: { type: nope }\n    sinks: []\n");
    Path classes = tmp.resolve("classes.log");
    Path out = tmp.resolve("out.log");
    Process p =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xlog:class+load=info:file=" + classes,
                "-cp",
                System.getProperty("java.class.path"),
                TributaryCli.class.getName(),
                "run",
                "--config",
                bad.toString())
            .redirectErrorStream(true)
            .redirectOutput(out.toFile())
            .start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String output = Files.readString(out);
    assertThat(p.exitValue()).as(output).isEqualTo(TributaryCli.INVALID);
    assertThat(output).contains("Invalid value nope for pipelines[0].source.type");
    String loaded = Files.readString(classes, StandardCharsets.UTF_8);
    assertThat(loaded).contains(TributaryCli.class.getName());
    assertThat(loaded).doesNotContain(" picocli.");
  }
}
