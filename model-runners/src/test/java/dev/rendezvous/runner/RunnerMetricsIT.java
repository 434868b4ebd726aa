package dev.rendezvous.runner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rendezvous.common.Clock;
import dev.rendezvous.common.InferenceRequest;
import dev.rendezvous.common.Json;
import dev.rendezvous.common.Role;
import dev.rendezvous.common.Tensor;
import dev.rendezvous.common.Topics;
import dev.rendezvous.broker.EmbeddedKafka;
import dev.rendezvous.kafka.KafkaTopics;
import dev.rendezvous.metrics.Metrics;
import io.micrometer.core.instrument.search.Search;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a runner reports in its metrics, against a real broker and the real bc-logreg model. */
class RunnerMetricsIT {

  static final String PROBLEM = "runner-metrics";
  static final Topics TOPICS = Topics.of(PROBLEM);
  @TempDir static Path dir;
  static EmbeddedKafka broker;
  static JsonNode reference;

  @BeforeAll
  static void start() throws Exception {
    broker = EmbeddedKafka.start(dir.resolve("kafka"), 0);
    KafkaTopics.ensure(broker.bootstrapServers(), List.of(TOPICS.input(), TOPICS.scores()), 1, (short) 1);
    reference = Json.MAPPER.readTree(Path.of("models/breast-cancer/reference.json").toFile());
  }

  @AfterAll
  static void stop() {
    broker.close();
  }

  private static InferenceRequest request(String id, String clientId, int row, long deadlineAtUs) {
    double[] data = new double[30];
    for (int c = 0; c < 30; c++) {
      data[c] = reference.get("rows").get(row).get(c).asDouble();
    }
    return new InferenceRequest(id, clientId, PROBLEM, TOPICS.results() + ":0", Clock.SYSTEM.nowMicros(),
        deadlineAtUs, List.of(new Tensor("features", "FP32", new long[] {1, 30}, data)));
  }

  @Test
  void countsScoresErrorsAndSkipsAndBucketsEveryLiveScore() throws Exception {
    PrometheusMeterRegistry metrics = Metrics.newRegistry();
    RunnerConfig config = new RunnerConfig(PROBLEM, "bc-logreg", "1", Role.SERVING,
        Path.of("models/breast-cancer/bc-logreg-1.onnx").toAbsolutePath(), 8, 1, 1, null, "metrics-runner", 0);
    Properties props = new Properties();
    props.put("bootstrap.servers", broker.bootstrapServers());
    try (ModelRunner runner = new ModelRunner(config, broker.bootstrapServers(), Clock.SYSTEM, metrics).start();
        KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props, new StringSerializer(),
            new ByteArraySerializer())) {
      runner.assigned().get(30, TimeUnit.SECONDS);
      long later = Clock.SYSTEM.nowMicros() + 60_000_000L;
      // 40 live rows, 5 warm-ups (scored but not in the distribution), 3 expired, 1 that is not a request, 2 of
      // the wrong shape.
      for (int i = 0; i < 40; i++) {
        send(producer, request("live-" + i, "client", i, later));
      }
      for (int i = 0; i < 5; i++) {
        send(producer, request(dev.rendezvous.common.WarmUp.PREFIX + "warm-" + i, "client", i, later));
      }
      for (int i = 0; i < 3; i++) {
        send(producer, request("old-" + i, "client", i, Clock.SYSTEM.nowMicros() - 1_000));
      }
      producer.send(new ProducerRecord<>(TOPICS.input(), "garbage", "not a request".getBytes()));
      for (int i = 0; i < 2; i++) {
        send(producer, new InferenceRequest("bad-" + i, "client", PROBLEM, TOPICS.results() + ":0",
            Clock.SYSTEM.nowMicros(), later,
            List.of(new Tensor("features", "FP32", new long[] {1, 2}, new double[2]))));
      }
      producer.flush();
      awaitCount(() -> counter(metrics, "rdv.runner.scored"), 45);
      String loop = "runner-" + PROBLEM + "-bc-logreg@1";
      awaitCount(() -> metrics.get("rdv.consumer.records").tag("loop", loop).counter().count(), 51);
      assertThat(metrics.get("rdv.consumer.poison.skipped").tag("loop", loop).counter().count()).isEqualTo(1);
      assertThat(metrics.get("rdv.consumer.handler.errors").tag("loop", loop).counter().count()).isZero();
      assertThat(metrics.get("rdv.consumer.ready").tag("loop", loop).gauge().value()).isEqualTo(1);
      assertThat(runner.health().ready()).isTrue();

      assertThat(counter(metrics, "rdv.runner.skipped.expired")).isEqualTo(3);
      assertThat(metrics.get("rdv.runner.errors").tag("kind", "incompatible").counter().count()).isEqualTo(2);
      assertThat(metrics.get("rdv.runner.errors").tag("kind", "inference").counter().count()).isZero();
      assertThat(metrics.get("rdv.runner.score.latency").timer().count()).isEqualTo(45);
      assertThat(metrics.get("rdv.runner.inference").timer().count()).isPositive();
      assertThat(metrics.get("rdv.runner.batch.size").summary().totalAmount()).isEqualTo(45);
      assertThat(metrics.get("rdv.runner.batch.size").summary().max()).isLessThanOrEqualTo(8);

      // The distribution holds the 40 live scores, bucketed as the reference predictions say.
      long below = 0;
      for (int i = 0; i < 40; i++) {
        below += reference.get("predictions").get("bc-logreg").get(i).asDouble() <= 0.5 ? 1 : 0;
      }
      String scrape = metrics.scrape();
      String labels = "model=\"bc-logreg\",problem=\"runner-metrics\",role=\"serving\",version=\"1\"";
      assertThat(scrape).contains("rdv_model_score_count{" + labels + "} 40")
          .contains("rdv_model_score_bucket{" + labels + ",le=\"0.5\"} " + below)
          .contains("rdv_runner_info{device=\"cpu\",model=\"bc-logreg\",problem=\"runner-metrics\",role=\"serving\","
              + "runner=\"metrics-runner\",version=\"1\"} 1")
          .contains("rdv_runner_score_latency_window_seconds{model=\"bc-logreg\",problem=\"runner-metrics\","
              + "quantile=\"0.99\",version=\"1\"}")
          .contains("kafka_consumer_fetch_manager_records_consumed_total");
      assertThat(below).as("the rows chosen span both halves").isBetween(1L, 39L);
    }
  }

  private static double counter(PrometheusMeterRegistry metrics, String name) {
    return Search.in(metrics).name(name).counters().stream().mapToDouble(c -> c.count()).sum();
  }

  private static void awaitCount(DoubleSupplier value, double expected) {
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
        .untilAsserted(() -> assertThat(value.getAsDouble()).isGreaterThanOrEqualTo(expected));
    assertThat(value.getAsDouble()).isEqualTo(expected);
  }

  private static void send(KafkaProducer<String, byte[]> producer, InferenceRequest r) {
    producer.send(new ProducerRecord<>(TOPICS.input(), r.requestId(), Json.encode(r)));
  }
}
