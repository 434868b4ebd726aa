package dev.rendezvous.embedded;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rendezvous.common.Json;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import org.awaitility.core.ConditionTimeoutException;

/**
 * A real Prometheus server (Debian's {@code prometheus} package) run as a child process on a free loopback
 * port, scraping one target every second, for tests that check dashboards against real data.
 */
final class PrometheusServer implements AutoCloseable {

  private final Process process;
  private final String url;
  private final Path log;
  private final HttpClient http = HttpClient.newHttpClient();

  private PrometheusServer(Process process, String url, Path log) {
    this.process = process;
    this.url = url;
    this.log = log;
  }

  /** The binary, from {@code $PROMETHEUS_BIN} or the PATH; fails with the command that installs it. */
  static Path binary() {
    String configured = System.getenv("PROMETHEUS_BIN");
    Optional<Path> found = configured != null ? Optional.of(Path.of(configured))
        : Arrays.stream(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
            .map(d -> Path.of(d, "prometheus")).filter(Files::isExecutable).findFirst();
    if (found.isEmpty() || !Files.isExecutable(found.get())) {
      throw new AssertionError("the prometheus binary is needed to check the dashboards and was not found on the "
          + "PATH (or at $PROMETHEUS_BIN); install it with: apt-get install -y prometheus");
    }
    return found.get();
  }

  /** Starts Prometheus scraping {@code http://<target>/metrics} every second; returns once it is ready. */
  static PrometheusServer start(Path dir, String target) throws Exception {
    Path bin = binary();
    Files.createDirectories(dir);
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path config = dir.resolve("prometheus.yml");
    Files.writeString(config, """
        global:
          scrape_interval: 1s
          evaluation_interval: 1s
        scrape_configs:
          - job_name: rendezvous
            metrics_path: /metrics
            static_configs:
              - targets: ["%s"]
        """.formatted(target));
    Path log = dir.resolve("prometheus.log");
    Process p = new ProcessBuilder(bin.toString(), "--config.file=" + config,
        "--storage.tsdb.path=" + dir.resolve("tsdb"), "--web.listen-address=127.0.0.1:" + port,
        "--log.level=warn")
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    PrometheusServer server = new PrometheusServer(p, "http://127.0.0.1:" + port, log);
    try {
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
          .ignoreExceptionsInstanceOf(IOException.class) // not listening yet
          .failFast(() -> {
            if (!p.isAlive()) {
              throw new AssertionError("prometheus exited with " + p.exitValue() + ": " + Files.readString(log));
            }
          })
          .until(() -> server.http.send(HttpRequest.newBuilder(URI.create(server.url + "/-/ready"))
              .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200);
    } catch (ConditionTimeoutException e) {
      server.close();
      throw new AssertionError("prometheus not ready within 30 s: " + Files.readString(log));
    }
    return server;
  }

  /** An instant query; returns the whole API response ({@code status}, {@code data}, or {@code error}). */
  JsonNode query(String promql) throws Exception {
    return get("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
  }

  /** The values of one label over the series that match a selector ({@code label_values(selector, label)}). */
  JsonNode labelValues(String label, String selector) throws Exception {
    return get("/api/v1/label/" + label + "/values?match[]=" + URLEncoder.encode(selector, StandardCharsets.UTF_8));
  }

  private JsonNode get(String pathAndQuery) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url + pathAndQuery))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    return Json.MAPPER.readTree(r.body());
  }

  String log() throws IOException {
    return Files.readString(log);
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }
}
