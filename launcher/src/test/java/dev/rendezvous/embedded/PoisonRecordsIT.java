package dev.rendezvous.embedded;

import static dev.rendezvous.embedded.TestSystems.inferBody;
import static dev.rendezvous.embedded.TestSystems.post;
import static dev.rendezvous.embedded.TestSystems.runner;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rendezvous.common.Clock;
import dev.rendezvous.common.Topics;
import dev.rendezvous.decoy.ArchiveLayout;
import dev.rendezvous.decoy.ArchiveReader;
import dev.rendezvous.decoy.ArchivedRecord;
import dev.rendezvous.decoy.Kind;
import dev.rendezvous.embedded.TestSystems.Response;
import dev.rendezvous.process.ScoreReaders;
import dev.rendezvous.broker.EmbeddedKafka;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Records that are not what a topic holds, written straight into the input and scores topics of a running
 * system (bytes that are not JSON, JSON of the wrong shape, a request or score missing what readers need), stop
 * nobody: every reader (the runner host, the rendezvous, the decoy, the shared reader of the score monitor and
 * observer) skips each once, counts it under its topic and goes on; the requests sent afterwards are answered by
 * the models, archived, and seen by the monitor and the observer.
 */
class PoisonRecordsIT {

  static final String PROBLEM = "poison-e2e";
  static final Topics TOPICS = Topics.of(PROBLEM);
  static final int N = 10;
  static final long WAIT_MS = 60_000;

  @TempDir Path dir;
  final HttpClient http = HttpClient.newHttpClient();

  @Test
  void poison_in_the_input_and_scores_topics_is_skipped_and_counted_by_every_reader_and_good_requests_still_flow()
      throws Exception {
    JsonNode reference = TestSystems.reference();
    try (EmbeddedKafka broker = EmbeddedKafka.start(dir.resolve("broker"), 0);
        EmbeddedSystem system = TestSystems.start(broker, dir, PROBLEM, true,
            List.of(runner(PROBLEM, "bc-mlp"), runner(PROBLEM, "bc-canary")), TestSystems.PERMISSIVE)) {
      long now = Clock.SYSTEM.nowMicros();
      List<byte[]> badInputs = List.of(
          new byte[] {0, (byte) 0xff, 0x13, 0x37},
          "[1, 2, 3]".getBytes(StandardCharsets.UTF_8),
          ("{\"requestId\":\"no-inputs\",\"returnAddress\":\"" + TOPICS.results() + ":0\",\"deadlineAtUs\":"
              + (now + 60_000_000) + "}").getBytes(StandardCharsets.UTF_8));
      List<byte[]> badScores = List.of(
          "not json at all".getBytes(StandardCharsets.UTF_8),
          "{\"hello\":\"world\"}".getBytes(StandardCharsets.UTF_8),
          "{\"requestId\":\"r\",\"modelId\":\"bc-mlp\",\"modelVersion\":\"2\",\"role\":\"no-such-role\",\"error\":\"x\"}"
              .getBytes(StandardCharsets.UTF_8));
      try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(
          Map.of("bootstrap.servers", system.bootstrapServers()), new StringSerializer(), new ByteArraySerializer())) {
        for (int i = 0; i < badInputs.size(); i++) {
          producer.send(new ProducerRecord<>(TOPICS.input(), "poison-input-" + i, badInputs.get(i))).get();
        }
        for (int i = 0; i < badScores.size(); i++) {
          producer.send(new ProducerRecord<>(TOPICS.scores(), "poison-score-" + i, badScores.get(i))).get();
        }
      }

      String runnerLoop = system.runnerHosts().get(0).name();
      String rendezvousLoop = "rendezvous-" + PROBLEM;
      String decoyLoop = "decoy-" + PROBLEM;
      String scoreLoop = ScoreReaders.LOOP;
      await("every reader counted the poison", () -> poison(system, runnerLoop, TOPICS.input()) >= 3
          && poison(system, rendezvousLoop, TOPICS.input()) >= 3 && poison(system, rendezvousLoop, TOPICS.scores()) >= 3
          && poison(system, decoyLoop, TOPICS.input()) >= 3 && poison(system, decoyLoop, TOPICS.scores()) >= 3
          && poison(system, scoreLoop, TOPICS.scores()) >= 3);

      String base = system.url() + "/v2/models/" + PROBLEM;
      Set<String> requestIds = new HashSet<>();
      for (int i = 0; i < N; i++) {
        Response r = post(http, base + "/infer", inferBody("after-poison-" + i, reference.get("rows").get(i), null));
        assertThat(r.status()).as(r.body().toString()).isEqualTo(200);
        assertThat(r.body().path("parameters").path("default").asBoolean())
            .as("answered by a model: " + r.body()).isFalse();
        requestIds.add(r.body().path("parameters").path("request_id").asText());
      }

      Path archive = dir.resolve(PROBLEM).resolve("archive");
      ArchiveLayout layout = new ArchiveLayout(archive);
      await("the good requests archived with their scores", () -> archived(layout, Kind.INPUT, requestIds) == N
          && archived(layout, Kind.SCORE, requestIds) == 2 * N);
      await("the monitor and the observer saw the good scores", () -> system.monitors().get(0).view("bc-mlp")
          .map(v -> v.scores() >= N).orElse(false)
          && system.scheduleControl().observer().models(PROBLEM).stream()
              .anyMatch(s -> s.modelId().equals("bc-canary") && s.scores() >= N));

      // Exactly once each: a retried batch must not count its poison twice.
      assertThat(poison(system, runnerLoop, TOPICS.input())).isEqualTo(3);
      assertThat(poison(system, rendezvousLoop, TOPICS.input())).isEqualTo(3);
      assertThat(poison(system, rendezvousLoop, TOPICS.scores())).isEqualTo(3);
      assertThat(poison(system, decoyLoop, TOPICS.input())).isEqualTo(3);
      assertThat(poison(system, decoyLoop, TOPICS.scores())).isEqualTo(3);
      assertThat(poison(system, scoreLoop, TOPICS.scores())).as("one count for the monitor and the observer")
          .isEqualTo(3);
      assertThat(system.runnerHosts().get(0).health().ready()).isTrue();
      assertThat(system.decoys().get(0).health().ready()).isTrue();
      assertThat(system.scoreReaders().health().ready()).isTrue();
      for (String loop : List.of(runnerLoop, decoyLoop, scoreLoop)) {
        assertThat(system.metrics().get("rdv.consumer.failures").tag("loop", loop).counter().count()).isZero();
        assertThat(system.metrics().get("rdv.consumer.batches.skipped").tag("loop", loop).counter().count())
            .as("no good record was given up with the poison").isZero();
      }
      List<ArchivedRecord> inputs = new ArrayList<>();
      ArchiveReader.readAll(layout.segments(PROBLEM, Kind.INPUT, 0), Kind.INPUT, inputs::add, n -> { });
      assertThat(inputs).extracting(ArchivedRecord::requestId).as("no poison in the archive")
          .noneMatch(id -> id.startsWith("poison-") || id.equals("no-inputs"));
    }
  }

  private static double poison(EmbeddedSystem system, String loop, String topic) {
    var c = system.metrics().find("rdv.consumer.poison.skipped").tags("loop", loop, "topic", topic).counter();
    return c == null ? 0 : c.count();
  }

  private static long archived(ArchiveLayout layout, Kind kind, Set<String> ids) {
    List<ArchivedRecord> all = ArchiveReader.readDistinct(layout.segments(PROBLEM, kind, 0), kind);
    return all.stream().filter(r -> ids.contains(r.requestId())).count();
  }

  private static void await(String what, BooleanSupplier condition) {
    Awaitility.await(what).atMost(Duration.ofMillis(WAIT_MS)).pollInterval(Duration.ofMillis(100))
        .until(condition::getAsBoolean);
  }
}
