package dev.rendezvous.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/** A process without an HTTP server of its own serves its registry on /metrics. */
class MetricsServerTest {

  @Test
  void servesTheRegistryInThePrometheusTextFormat() throws Exception {
    PrometheusMeterRegistry registry = Metrics.newRegistry();
    Counter.builder("rdv.test.events").register(registry).increment(3);
    try (MetricsServer server = MetricsServer.start(registry, "127.0.0.1", 0)) {
      HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + server.port() + "/metrics")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.headers().firstValue("content-type"))
          .hasValueSatisfying(v -> assertThat(v).startsWith("text/plain"));
      assertThat(r.body()).contains("rdv_test_events_total 3.0").contains("jvm_memory_used_bytes");
    }
  }
}
