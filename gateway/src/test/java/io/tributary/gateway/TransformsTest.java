package io.tributary.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.core.api.Config;
import io.tributary.core.api.Record;
import io.tributary.core.api.SourcePosition;
import io.tributary.gateway.internal.Transforms;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class TransformsTest {
  private static Predicate<Record> filter(Map<String, Object> raw) {
    assertThat(Transforms.check("filter", raw)).isEmpty();
    Config c = Transforms.FILTER_SPEC.parse(raw);
    return Transforms.filter(c);
  }

  private static Function<Record, Record> map(Map<String, Object> raw) {
    assertThat(Transforms.check("map", raw)).isEmpty();
    return Transforms.map(Transforms.MAP_SPEC.parse(raw));
  }

  private static List<String> kept(Predicate<Record> p, String... values) {
    return Stream.of(values).map(Record::ofString).filter(p).map(Record::valueAsString).toList();
  }

  @Test
  void regexFilterKeepsValuesContainingAMatch() {
    Predicate<Record> p = filter(Map.of("regex", "ERR(OR)?\\b"));
    assertThat(kept(p, "ERROR disk", "x ERR y", "ERRORS", "warn", ""))
        .containsExactly("ERROR disk", "x ERR y");
    assertThat(kept(filter(Map.of("regex", "^a.*z$")), "abcz", "xabcz", "az"))
        .containsExactly("abcz", "az");
  }

  @Test
  void containsNotEmptyAndInvert() {
    assertThat(kept(filter(Map.of("contains", "[x]")), "a[x]b", "axb")).containsExactly("a[x]b");
    assertThat(kept(filter(Map.of("not-empty", true)), "", "a", " ")).containsExactly("a", " ");
    assertThat(kept(filter(Map.of("contains", "debug", "invert", true)), "debug: x", "info: y"))
        .containsExactly("info: y");
  }

  @Test
  void filterNeedsExactlyOneCondition() {
    assertThat(Transforms.check("filter", Map.of()))
        .singleElement()
        .asString()
        .contains("exactly one of");
    assertThat(Transforms.check("filter", Map.of("regex", "a", "contains", "b"))).hasSize(1);
    assertThat(Transforms.check("filter", Map.of("not-empty", false))).hasSize(1);
    assertThat(Transforms.FILTER_SPEC.validate(Map.of("regex", "(unclosed")))
        .singleElement()
        .satisfies(pr -> assertThat(pr.message()).contains("not a valid regular expression"));
  }

  @Test
  void mapOperations() {
    assertThat(map(Map.of("op", "trim")).apply(Record.ofString("  a b \t")).valueAsString())
        .isEqualTo("a b");
    assertThat(map(Map.of("op", "upper-case")).apply(Record.ofString("straße")).valueAsString())
        .isEqualTo("STRASSE");
    assertThat(map(Map.of("op", "lower-case")).apply(Record.ofString("ÀB")).valueAsString())
        .isEqualTo("àb");
    assertThat(
            map(Map.of("op", "prefix", "value", "> ")).apply(Record.ofString("x")).valueAsString())
        .isEqualTo("> x");
    assertThat(
            map(Map.of("op", "suffix", "value", ";")).apply(Record.ofString("x")).valueAsString())
        .isEqualTo("x;");
    assertThat(Transforms.check("map", Map.of("op", "prefix")))
        .singleElement()
        .asString()
        .contains("needs value");
    assertThat(Transforms.MAP_SPEC.validate(Map.of("op", "reverse"))).hasSize(1);
  }

  @Test
  void mapKeepsKeyTimestampAndPosition() {
    SourcePosition pos = new SourcePosition("in", "p0", 42);
    Record r =
        new Record(
            "k".getBytes(StandardCharsets.UTF_8),
            "v".getBytes(StandardCharsets.UTF_8),
            7L,
            Map.of(),
            pos);
    Record out = map(Map.of("op", "upper-case")).apply(r);
    assertThat(out.valueAsString()).isEqualTo("V");
    assertThat(out.key()).isEqualTo("k".getBytes(StandardCharsets.UTF_8));
    assertThat(out.timestamp()).isEqualTo(7L);
    assertThat(out.position()).isEqualTo(pos);
  }
}
