package io.tributary.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tributary.core.runtime.PipelineState;
import java.io.StringReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.logging.Level;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

/**
 * The status page in a real headless browser (Debian's {@code chromium} through {@code
 * chromium-driver}): loads without console errors, draws one point per batch that matches {@code
 * /pipelines/{id}}, and shows a failed pipeline's cause. Screenshots go to {@code
 * target/screenshots/}.
 */
class StatusPageBrowserIT {
  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final Path DRIVER = Path.of("/usr/bin/chromedriver");
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path tmp;

  private static ChromeDriver browser(Path profile) {
    ChromeOptions o = new ChromeOptions();
    o.setBinary(CHROMIUM.toString());
    o.addArguments(
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,2200",
        "--user-data-dir=" + profile);
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, Level.ALL);
    o.setCapability("goog:loggingPrefs", logs);
    ChromeDriverService service =
        new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile()).build();
    return new ChromeDriver(service, o);
  }

  @Test
  void chartsMatchTheApiAndAFailedPipelineShowsItsCause() throws Exception {
    Assumptions.assumeTrue(
        Files.isExecutable(CHROMIUM) && Files.isExecutable(DRIVER),
        "needs Debian's chromium and chromium-driver (.ci/run installs them)");
    String yaml =
        """
        pipelines:
          - id: clicks
            settings: { batch-interval: 100ms, direct.max-records-per-partition: 7 }
            checkpoint: %s
            source: { type: test-sequence, count: 140, prefix: click- }
            sinks: [ { type: files, path: %s } ]
          - id: broken
            settings: { batch-interval: 50ms }
            checkpoint: %s
            source: { type: test-sequence, count: 5 }
            sinks: [ { type: test-failing, message: "warehouse refused the batch <b>" } ]
        admin: { host: 127.0.0.1, port: 0 }
        """
            .formatted(tmp.resolve("c1"), tmp.resolve("out"), tmp.resolve("c2"));
    Path shots = Path.of("target", "screenshots");
    Files.createDirectories(shots);
    try (Gateway gw = new Gateway(GatewayConfig.parse(new StringReader(yaml), "page.yaml"))) {
      gw.start(); // no awaitStopOrFailure: the failed pipeline stays on the page
      int port = gw.adminPort();
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  gw.pipelines().get(0).status().recordsIn() == 140
                      && gw.pipelines().get(1).status().state() == PipelineState.FAILED);
      String base = "http://127.0.0.1:" + port;
      ChromeDriver driver = browser(Files.createDirectory(tmp.resolve("profile")));
      try {
        driver.get(base + "/");
        int polls = polls(driver);
        // A poll that started after all traffic: its figures are final.
        await().atMost(Duration.ofSeconds(30)).until(() -> polls(driver) >= polls + 1);

        JsonNode api =
            JSON.readTree(
                HttpClient.newHttpClient()
                    .send(
                        HttpRequest.newBuilder(URI.create(base + "/pipelines/clicks")).build(),
                        HttpResponse.BodyHandlers.ofString())
                    .body());
        Map<Long, Long> expected = new TreeMap<>();
        Map<Long, Long> expectedRecords = new TreeMap<>();
        for (JsonNode b : api.get("batches")) {
          expected.put(b.get("batchId").asLong(), b.get("processingTimeMs").asLong());
          expectedRecords.put(b.get("batchId").asLong(), b.get("records").asLong());
        }
        assertThat(expectedRecords.values().stream().mapToLong(Long::longValue).sum())
            .isEqualTo(140);
        assertThat(points(driver, "clicks", "Processing time")).isEqualTo(expected);
        assertThat(points(driver, "clicks", "Input rate").keySet()).isEqualTo(expected.keySet());
        assertThat(points(driver, "clicks", "Total delay").keySet()).isEqualTo(expected.keySet());
        Object rows =
            driver.executeScript(
                "return document.querySelectorAll(\"section[data-id='clicks'] table.batches"
                    + " tr:not(:first-child)\").length");
        assertThat(((Number) rows).intValue()).isEqualTo(Math.min(20, expected.size()));

        Object failure =
            driver.executeScript(
                "return document.querySelector(\"section[data-id='broken'] .failure-box\")"
                    + ".textContent");
        assertThat(failure.toString()).contains("warehouse refused the batch <b>");
        assertThat(driver.executeScript("return document.getElementById('health').textContent"))
            .isEqualTo("DOWN");

        Files.write(shots.resolve("status-page.png"), driver.getScreenshotAs(OutputType.BYTES));
        ((JavascriptExecutor) driver)
            .executeScript(
                "document.querySelector(\"section[data-id='broken']\").scrollIntoView()");
        Files.write(
            shots.resolve("status-page-failed.png"), driver.getScreenshotAs(OutputType.BYTES));

        List<LogEntry> errors =
            driver.manage().logs().get(LogType.BROWSER).getAll().stream()
                .filter(e -> e.getLevel().intValue() >= Level.WARNING.intValue())
                .toList();
        assertThat(errors).as("browser console warnings and errors").isEmpty();
      } finally {
        driver.quit();
      }
    }
  }

  @Test
  void receiversAndQuarantineShowOnThePage() throws Exception {
    Assumptions.assumeTrue(
        Files.isExecutable(CHROMIUM) && Files.isExecutable(DRIVER),
        "needs Debian's chromium and chromium-driver (.ci/run installs them)");
    Path in = Files.createDirectories(tmp.resolve("in"));
    String yaml =
        """
        pipelines:
          - id: rx
            settings: { batch-interval: 100ms }
            checkpoint: %s
            source: { type: socket, mode: server, host: 127.0.0.1, port: 0, framing: lines }
            sinks: [ { type: files, path: %s } ]
          - id: files
            settings: { batch-interval: 100ms }
            checkpoint: %s
            source: { type: files, paths: [ "%s" ], stable-for: 0s, watch-changes-for: 0s,
                      on-bad-file: skip }
            sinks: [ { type: files, path: %s } ]
        admin: { host: 127.0.0.1, port: 0 }
        """
            .formatted(
                tmp.resolve("c1"),
                tmp.resolve("o1"),
                tmp.resolve("c2"),
                in.toUri(),
                tmp.resolve("o2"));
    Path shots = Path.of("target", "screenshots");
    Files.createDirectories(shots);
    GatewayConfig cfg = GatewayConfig.parse(new StringReader(yaml), "page.yaml");
    try (Gateway gw = new Gateway(cfg);
        java.net.Socket client = new java.net.Socket()) {
      gw.start();
      int port = gw.adminPort();
      // Files present at the first listing are ignored (include-existing: false): write after it.
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> gw.pipelines().get(1).status().lastCommittedBatch() >= 0);
      java.io.ByteArrayOutputStream gz = new java.io.ByteArrayOutputStream();
      try (java.util.zip.GZIPOutputStream z = new java.util.zip.GZIPOutputStream(gz)) {
        z.write("x\n".repeat(5000).getBytes(java.nio.charset.StandardCharsets.UTF_8));
      }
      byte[] whole = gz.toByteArray();
      Files.write(in.resolve("half <i>.gz"), java.util.Arrays.copyOf(whole, whole.length / 2));
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> gw.pipelines().get(1).quarantined().size() == 1);
      java.net.InetSocketAddress rx =
          (java.net.InetSocketAddress)
              ((io.tributary.connector.socket.SocketServerReceiver)
                      cfg.pipelines().get(0).builtSource())
                  .boundAddress();
      client.connect(rx);
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> gw.pipelines().get(0).receivers().get(0).connectedClients().orElse(-1) == 1);
      ChromeDriver driver = browser(Files.createDirectory(tmp.resolve("profile")));
      try {
        driver.get("http://127.0.0.1:" + port + "/");
        int polls = polls(driver);
        await().atMost(Duration.ofSeconds(30)).until(() -> polls(driver) >= polls + 1);
        @SuppressWarnings("unchecked")
        List<String> receiver =
            (List<String>)
                driver.executeScript(
                    "return Array.from(document.querySelectorAll(\"section[data-id='rx']"
                        + " table.receivers tr[data-receiver] td\")).map(c => c.textContent)");
        assertThat(receiver).hasSize(6);
        assertThat(receiver.get(0)).isEqualTo("source");
        assertThat(receiver.get(1)).isEqualTo("RUNNING");
        assertThat(receiver.get(2)).isEqualTo("0");
        assertThat(receiver.get(3)).isEqualTo("1");
        Object item =
            driver.executeScript(
                "return document.querySelector(\"section[data-id='files'] table.quarantine"
                    + " td.item\").textContent");
        assertThat(item.toString()).endsWith("half <i>.gz");
        Object count =
            driver.executeScript(
                "return document.querySelector(\"#pipelines tr[data-id='files']"
                    + " td.quarantined\").textContent");
        assertThat(count).isEqualTo("1");
        ((JavascriptExecutor) driver)
            .executeScript(
                "document.querySelector(\"section[data-id='rx'] table.receivers\")"
                    + ".scrollIntoView()");
        Files.write(
            shots.resolve("status-page-receivers.png"), driver.getScreenshotAs(OutputType.BYTES));
        List<LogEntry> errors =
            driver.manage().logs().get(LogType.BROWSER).getAll().stream()
                .filter(e -> e.getLevel().intValue() >= Level.WARNING.intValue())
                .toList();
        assertThat(errors).as("browser console warnings and errors").isEmpty();
      } finally {
        driver.quit();
      }
    }
  }

  private static int polls(ChromeDriver driver) {
    Object v = driver.executeScript("return document.body.getAttribute('data-polls')");
    return v == null ? 0 : Integer.parseInt(v.toString());
  }

  /**
   * batch id → value of the circles of one timeline of one pipeline, read in one script (the page
   * redraws every poll, so elements found one by one may be replaced meanwhile).
   */
  private static Map<Long, Long> points(ChromeDriver driver, String pipeline, String series) {
    @SuppressWarnings("unchecked")
    List<List<Object>> pairs =
        (List<List<Object>>)
            driver.executeScript(
                "return Array.from(document.querySelectorAll(arguments[0]))"
                    + ".map(c => [c.getAttribute('data-batch'), c.getAttribute('data-value')]);",
                "section[data-id='"
                    + pipeline
                    + "'] svg.timeline[data-series='"
                    + series
                    + "'] circle");
    Map<Long, Long> out = new TreeMap<>();
    for (List<Object> p : pairs) {
      out.put(
          Long.parseLong(p.get(0).toString()), Math.round(Double.parseDouble(p.get(1).toString())));
    }
    return out;
  }
}
