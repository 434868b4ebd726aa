package dev.rendezvous.runner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rendezvous.common.Clock;
import dev.rendezvous.common.InferenceRequest;
import dev.rendezvous.common.Json;
import dev.rendezvous.common.Role;
import dev.rendezvous.common.Score;
import dev.rendezvous.common.Tensor;
import dev.rendezvous.common.Topics;
import dev.rendezvous.broker.EmbeddedKafka;
import dev.rendezvous.kafka.KafkaTopics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A runner against a real embedded broker and the real bc-logreg model. */
class ModelRunnerIT {

  static final String PROBLEM = "runner-test";
  static final Topics TOPICS = Topics.of(PROBLEM);
  @TempDir static Path dir;
  static EmbeddedKafka broker;
  static JsonNode reference;

  @BeforeAll
  static void start() throws Exception {
    broker = EmbeddedKafka.start(dir.resolve("kafka"), 0);
    KafkaTopics.ensure(broker.bootstrapServers(), List.of(TOPICS.input(), TOPICS.scores()), 2, (short) 1);
    reference = Json.MAPPER.readTree(Path.of("models/breast-cancer/reference.json").toFile());
  }

  @AfterAll
  static void stop() {
    broker.close();
  }

  private static Tensor features(int... rows) {
    double[] data = new double[rows.length * 30];
    for (int r = 0; r < rows.length; r++) {
      JsonNode row = reference.get("rows").get(rows[r]);
      for (int c = 0; c < 30; c++) {
        data[r * 30 + c] = row.get(c).asDouble();
      }
    }
    return new Tensor("features", "FP32", new long[] {rows.length, 30}, data);
  }

  private static InferenceRequest request(String id, Tensor input, long deadlineAtUs) {
    long now = Clock.SYSTEM.nowMicros();
    return new InferenceRequest(id, null, PROBLEM, TOPICS.results() + ":0", now, deadlineAtUs, List.of(input));
  }

  @Test
  void scoresLiveRequestsInBatchesSkipsExpiredOnesAndReportsBadOnesAlone() throws Exception {
    RunnerConfig config = new RunnerConfig(PROBLEM, "bc-logreg", "1", Role.SERVING,
        Path.of("models/breast-cancer/bc-logreg-1.onnx").toAbsolutePath(), 4, 1, 1, null, "runner-under-test", 0);
    try (ModelRunner runner = new ModelRunner(config, broker.bootstrapServers(), Clock.SYSTEM).start();
        KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props(), new StringSerializer(),
            new ByteArraySerializer());
        KafkaConsumer<String, byte[]> scores = new KafkaConsumer<>(consumerProps(), new StringDeserializer(),
            new ByteArrayDeserializer())) {
      runner.assigned().get(30, TimeUnit.SECONDS);
      scores.subscribe(List.of(TOPICS.scores()));
      long later = Clock.SYSTEM.nowMicros() + 60_000_000L;
      long past = Clock.SYSTEM.nowMicros() - 1_000L;
      // Ten single-row requests (more than one batch of 4), one with three rows, one expired, one malformed.
      for (int i = 0; i < 10; i++) {
        send(producer, request("r" + i, features(i), later));
      }
      send(producer, request("multi", features(10, 11, 12), later));
      send(producer, request("expired", features(13), past));
      send(producer, request("bad", new Tensor("features", "FP32", new long[] {1, 29}, new double[29]), later));
      producer.flush();

      Map<String, Score> byId = new HashMap<>();
      long until = System.currentTimeMillis() + 20_000;
      while (byId.size() < 12 && System.currentTimeMillis() < until) {
        for (ConsumerRecord<String, byte[]> r : scores.poll(Duration.ofMillis(200))) {
          Score s = Json.decode(r.value(), Score.class);
          assertThat(byId.put(s.requestId(), s)).as("one score per request").isNull();
        }
      }
      assertThat(byId).containsOnlyKeys("r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "multi", "bad");
      for (int i = 0; i < 10; i++) {
        Score s = byId.get("r" + i);
        assertThat(s.failed()).isFalse();
        assertThat(s.modelId()).isEqualTo("bc-logreg");
        assertThat(s.runnerId()).isEqualTo("runner-under-test");
        assertThat(s.device()).isEqualTo("cpu");
        assertThat(s.outputs().get(0).data()[0])
            .isCloseTo(reference.get("predictions").get("bc-logreg").get(i).asDouble(), within(1e-5));
      }
      Score multi = byId.get("multi");
      assertThat(multi.outputs().get(0).shape()).containsExactly(3, 1);
      for (int r = 0; r < 3; r++) {
        assertThat(multi.outputs().get(0).data()[r])
            .isCloseTo(reference.get("predictions").get("bc-logreg").get(10 + r).asDouble(), within(1e-5));
      }
      assertThat(byId.get("bad").error()).contains("shape");
      assertThat(runner.skippedExpired()).isEqualTo(1);
      assertThat(runner.errors()).isEqualTo(1);
      assertThat(runner.scored()).isEqualTo(11);
    }
  }

  private static void send(KafkaProducer<String, byte[]> producer, InferenceRequest r) {
    producer.send(new ProducerRecord<>(TOPICS.input(), r.requestId(), Json.encode(r)));
  }

  private static Properties props() {
    Properties p = new Properties();
    p.put("bootstrap.servers", broker.bootstrapServers());
    return p;
  }

  private static Properties consumerProps() {
    Properties p = props();
    p.put("group.id", "test-reader");
    p.put("auto.offset.reset", "earliest");
    return p;
  }
}
