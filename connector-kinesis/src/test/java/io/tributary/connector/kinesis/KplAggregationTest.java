package io.tributary.connector.kinesis;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.connector.kinesis.internal.KplAggregation;
import io.tributary.connector.kinesis.internal.KplAggregation.UserRecord;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KplAggregationTest {
  @Test
  void roundTripsRecordsKeysHashKeysAndTags() {
    List<UserRecord> in =
        List.of(
            new UserRecord("a", null, bytes("one"), Map.of()),
            new UserRecord("b", "1234", bytes("two"), Map.of("k", "v")),
            new UserRecord("a", null, new byte[300], Map.of()));
    List<UserRecord> out = KplAggregation.decode(KplAggregation.encode(in));
    assertThat(out).hasSize(3);
    assertThat(out.get(0).partitionKey()).isEqualTo("a");
    assertThat(out.get(1).explicitHashKey()).isEqualTo("1234");
    assertThat(out.get(1).tags()).containsEntry("k", "v");
    assertThat(out.get(2).partitionKey()).isEqualTo("a");
    assertThat(out.get(2).data()).hasSize(300);
    assertThat(new String(out.get(1).data(), StandardCharsets.UTF_8)).isEqualTo("two");
  }

  @Test
  void decodesTheFormatAsTheKplWritesIt() {
    // magic, then AggregatedRecord{partition_key_table:["pk"], records:[{pk_index:0, data:"hi"}]},
    // then the MD5 of the message, written out by hand from the format description
    byte[] msg = HexFormat.of().parseHex("0a02706b" + "1a06" + "0800" + "1a02" + "6869");
    byte[] md5 = md5(msg);
    byte[] data = concat(HexFormat.of().parseHex("f3899ac2"), msg, md5);
    List<UserRecord> out = KplAggregation.decode(data);
    assertThat(out).singleElement().satisfies(u -> assertThat(u.partitionKey()).isEqualTo("pk"));
    assertThat(new String(out.get(0).data(), StandardCharsets.UTF_8)).isEqualTo("hi");
  }

  @Test
  void plainDataOrABadChecksumIsNotAnAggregate() {
    assertThat(KplAggregation.decode(bytes("plain record"))).isNull();
    byte[] agg = KplAggregation.encode(List.of(new UserRecord("a", null, bytes("x"), Map.of())));
    agg[agg.length - 1] ^= 1;
    assertThat(KplAggregation.decode(agg)).isNull();
    byte[] truncated = Arrays.copyOf(agg, 10);
    assertThat(KplAggregation.decode(truncated)).isNull();
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] md5(byte[] b) {
    try {
      return java.security.MessageDigest.getInstance("MD5").digest(b);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] concat(byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) {
      n += p.length;
    }
    byte[] out = new byte[n];
    int o = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, o, p.length);
      o += p.length;
    }
    return out;
  }
}
