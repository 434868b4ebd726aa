package dev.rendezvous.embedded;

import static dev.rendezvous.embedded.TestSystems.inferBody;
import static dev.rendezvous.embedded.TestSystems.runner;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rendezvous.decoy.ArchiveLayout;
import dev.rendezvous.decoy.ArchiveReader;
import dev.rendezvous.decoy.ArchivedRecord;
import dev.rendezvous.decoy.Kind;
import dev.rendezvous.broker.EmbeddedKafka;
import dev.rendezvous.kafka.KafkaSettings;
import dev.rendezvous.canary.ScoreMonitor;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole embedded system against a broker whose only client listener asks for SASL (PLAIN): the proxy,
 * the rendezvous, the runners, the decoy, the score monitor, the schedule log and topic creation all log in
 * with the settings of one properties file and one security setting, as {@code RDV_KAFKA_PROPERTIES_FILE} and
 * {@code RDV_KAFKA_SASL_JAAS_CONFIG} would give them. Wrong credentials stop the start with Kafka's reason.
 */
class KafkaSaslEndToEndIT {

  static final String USER = "rendezvous";
  static final String PASSWORD = "rendezvous-secret";
  static final int N = 12;

  @TempDir Path dir;
  final HttpClient http = HttpClient.newHttpClient();

  @AfterEach
  void clearSettings() {
    System.clearProperty(KafkaSettings.PROPERTIES_FILE_PROPERTY);
    System.clearProperty("rdv.kafka.sasl.jaas.config");
  }

  @Test
  void every_component_works_through_a_sasl_listener_and_wrong_credentials_fail_with_the_reason()
      throws Exception {
    try (EmbeddedKafka broker = EmbeddedKafka.startWithSasl(dir.resolve("broker"), 0, Map.of(USER, PASSWORD))) {
      Path clientSettings = dir.resolve("kafka-client.properties");
      Files.writeString(clientSettings, "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\n");
      System.setProperty(KafkaSettings.PROPERTIES_FILE_PROPERTY, clientSettings.toString());

      System.setProperty("rdv.kafka.sasl.jaas.config", EmbeddedKafka.plainJaasConfig(USER, "not-the-password"));
      long t0 = System.nanoTime();
      assertThatThrownBy(() -> TestSystems.start(broker, dir, "sasl-refused", true, List.of(runner("sasl-refused",
          "bc-mlp"))))
          .hasMessageContaining("Authentication failed")
          .hasMessageContaining("RDV_KAFKA_SASL_JAAS_CONFIG");
      System.out.printf("wrong credentials refused in %.0f ms%n", (System.nanoTime() - t0) / 1e6);

      System.setProperty("rdv.kafka.sasl.jaas.config", EmbeddedKafka.plainJaasConfig(USER, PASSWORD));
      String p = "sasl";
      try (EmbeddedSystem system = TestSystems.start(broker, dir, p, true, List.of(runner(p, "bc-mlp"),
          runner(p, "bc-canary")))) {
        JsonNode rows = TestSystems.reference().get("rows");
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < N; i++) {
          JsonNode params = TestSystems.postWithinFirstTier(http, system.url() + "/v2/models/" + p + "/infer",
              inferBody("sasl-" + i, rows.get(i), null)).body().get("parameters");
          assertThat(params.get("answered_by").asText()).as(params.toString()).isEqualTo("bc-mlp");
          ids.add(params.get("request_id").asText());
        }
        assertThat(system.rendezvous().get(0).decisions()).isGreaterThanOrEqualTo(N);

        // The decoy archived every request and both models' scores; the monitor counted the scores.
        ArchiveLayout archive = new ArchiveLayout(dir.resolve(p).resolve("archive"));
        ScoreMonitor monitor = system.monitors().get(0);
        await("archive and monitor").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
            .until(() -> archived(archive, p, Kind.INPUT, ids) >= N && archived(archive, p, Kind.SCORE, ids) >= 2 * N
                && monitor.view("bc-mlp").map(ScoreMonitor.ModelView::scores).orElse(0L) >= N);
        assertThat(archived(archive, p, Kind.INPUT, ids)).isEqualTo(N);
      }
    }
  }

  private static long archived(ArchiveLayout layout, String problem, Kind kind, Set<String> ids) {
    return ArchiveReader.readDistinct(layout.segments(problem, kind, 0), kind).stream()
        .map(ArchivedRecord::requestId).filter(ids::contains).count();
  }
}
