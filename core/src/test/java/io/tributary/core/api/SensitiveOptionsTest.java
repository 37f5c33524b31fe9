package io.tributary.core.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Values of sensitive options, and secret-named entries of pass-through options, are never shown.
 */
class SensitiveOptionsTest {
  private static final ConfigOption<String> TOPIC = ConfigOption.string("topic").required();
  private static final ConfigOption<Map<String, String>> KAFKA = ConfigOption.prefixed("kafka.");
  private static final ConfigSpec SPEC = ConfigSpec.of(TOPIC, KAFKA);

  @Test
  void configToStringShowsValuesButMasksSecretNamedEntries() {
    Map<String, Object> raw = new LinkedHashMap<>();
    raw.put("topic", "clicks");
    raw.put("kafka.security.protocol", "SASL_SSL");
    raw.put("kafka.sasl.jaas.config", "x.Login required password=\"hunter2\";");
    raw.put("kafka.ssl.key.password", "k3y-pass");
    String shown = SPEC.parse(raw).toString();
    assertThat(shown)
        .contains("topic=clicks")
        .contains("security.protocol=SASL_SSL")
        .contains("sasl.jaas.config=******")
        .contains("ssl.key.password=******")
        .doesNotContain("hunter2")
        .doesNotContain("k3y-pass");
  }

  @Test
  void aMalformedNameValueEntryIsReportedWithoutAnySecretValueOfTheList() {
    ConfigOption<List<String>> props =
        ConfigOption.stringList("client-properties")
            .sensitiveEntries()
            .validate(
                l ->
                    l.stream().allMatch(e -> e.indexOf('=') > 0)
                        ? null
                        : "an entry is not name=value");
    ConfigSpec spec = ConfigSpec.of(props);
    List<ConfigProblem> problems =
        spec.validate(
            Map.of(
                "client-properties",
                List.of("security.protocol", "sasl.jaas.config=x required password=\"hunter2\";")));
    assertThat(problems)
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.key()).isEqualTo("client-properties");
              assertThat(p.message())
                  .isEqualTo(
                      "Invalid value [******, sasl.jaas.config] (values not shown) for client-properties: an entry is"
                          + " not name=value");
            });
  }

  @Test
  void aSensitiveOptionIsMaskedInErrorsAndToStringWhateverItsName() {
    ConfigOption<String> pin =
        ConfigOption.string("pin")
            .sensitive()
            .validate(
                v ->
                    v.length() < 8
                        ? "too short: " + v + " (expected: at least 8 characters)"
                        : null);
    ConfigSpec spec = ConfigSpec.of(TOPIC, pin);
    assertThat(spec.validate(Map.of("topic", "t", "pin", "12345")))
        .singleElement()
        .satisfies(
            p ->
                assertThat(p.message())
                    .isEqualTo(
                        "Invalid value ****** for pin: too short: ****** (expected: at least 8 characters)"));
    Config config = spec.parse(Map.of("topic", "t", "pin", "1234567890"));
    assertThat(config.toString()).isEqualTo("{topic=t, pin=******}");
    assertThat(config.secretValues()).containsExactly("1234567890");
    assertThat(config.get(pin)).isEqualTo("1234567890");
  }

  @Test
  void secretNamesCoverPasswordsKeysTokensAndSaslButNotTheirLocationsOrClasses() {
    assertThat(
            List.of(
                "sasl.jaas.config",
                "ssl.key.password",
                "ssl.keystore.password",
                "ssl.truststore.password",
                "ssl.keystore.key",
                "sasl.login.refresh.window",
                "fs.s3a.secret.key",
                "fs.s3a.access.key",
                "fs.s3a.session.token",
                "fs.azure.account.key.acct.blob.core.windows.net",
                "basic.auth.user.info.secret",
                "dfs.web.authentication.kerberos.keytab.password",
                "api-key",
                "apikey",
                "bearer-token",
                "aws_credentials"))
        .allMatch(Secrets::isSecretName);
    assertThat(
            List.of(
                "security.protocol",
                "sasl.mechanism",
                "ssl.keystore.location",
                "ssl.keystore.type",
                "fs.s3a.aws.credentials.provider",
                "fs.s3a.endpoint",
                "client.rack",
                "bootstrap.servers",
                "fs.s3a.path.style.access"))
        .noneMatch(Secrets::isSecretName);
  }

  @Test
  void scrubReplacesSecretsAndThePasswordQuotedInsideAJaasLine() {
    List<String> secrets =
        Secrets.secretValues(
            Map.of("sasl.jaas.config", "x.Login required username=\"u\" password=\"hunter2\";"));
    assertThat(Secrets.scrub("auth failed: bad password hunter2 for u", secrets))
        .isEqualTo("auth failed: bad password ****** for u");
  }

  @Test
  void aNameValueListMarkedSensitiveEntriesShowsOnlyItsHarmlessEntries() {
    ConfigOption<List<String>> props = ConfigOption.stringList("props").sensitiveEntries();
    assertThat(
            props.shown(List.of("client.rack=r1", "ssl.key.password=k3y-pass", "no equals sign")))
        .isEqualTo(List.of("client.rack=r1", "ssl.key.password=******", "******"));
    assertThat(props.secretValues(List.of("client.rack=r1", "ssl.key.password=k3y-pass")))
        .containsExactly("k3y-pass");
  }
}
