package dev.rendezvous.runner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.onnxruntime.OrtEnvironment;
import com.fasterxml.jackson.databind.JsonNode;
import dev.rendezvous.common.Clock;
import dev.rendezvous.common.InferenceRequest;
import dev.rendezvous.common.Json;
import dev.rendezvous.common.Score;
import dev.rendezvous.common.Tensor;
import dev.rendezvous.common.Topics;
import dev.rendezvous.broker.EmbeddedKafka;
import dev.rendezvous.kafka.KafkaTopics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where no usable GPU is present (no GPU, no CUDA libraries, or ONNX Runtime's CPU-only build):
 * {@code device: auto} scores on the CPU and says so in its scores, {@code device: cuda} refuses to start.
 * Run with {@code -Pgpu} to take the path of the CUDA build whose provider cannot load. Where a GPU session
 * can be made the tests are skipped.
 */
class DeviceFallbackIT {

  static final Path CHAMPION = Path.of("config/breast-cancer/bc-mlp.yaml");
  static JsonNode reference;

  @BeforeAll
  static void noGpuHere() throws Exception {
    boolean gpu;
    try (OnnxModel onGpu = new OnnxModel(Path.of("models/breast-cancer/bc-mlp-2.onnx"), 1, 1,
        DeviceChoice.parse("cuda"))) {
      gpu = true;
    } catch (IllegalStateException e) {
      gpu = false;
    }
    Assumptions.assumeFalse(gpu, "a usable GPU is present (ONNX Runtime providers "
        + OrtEnvironment.getAvailableProviders() + "); the fallback cannot be observed");
    reference = Json.MAPPER.readTree(Path.of("models/breast-cancer/reference.json").toFile());
  }

  static Tensor row(int r) {
    double[] data = new double[30];
    for (int c = 0; c < 30; c++) {
      data[c] = reference.get("rows").get(r).get(c).asDouble();
    }
    return new Tensor("features", "FP32", new long[] {1, 30}, data);
  }

  @Test
  void the_default_device_is_auto() {
    assertThat(RunnerConfig.load(CHAMPION).device()).isEqualTo("auto");
  }

  @Test
  void device_auto_falls_back_to_the_cpu_and_still_scores_correctly() throws Exception {
    try (ScoringModel model = ScoringModel.open(RunnerConfig.load(CHAMPION).withDevice("auto"))) {
      assertThat(model.device()).isEqualTo("cpu");
      List<List<Tensor>> out = model.score(List.of(new InferenceRequest("r0", null, "p", "", 0, Long.MAX_VALUE,
          List.of(row(0)))));
      assertThat(out.get(0).get(0).data()[0])
          .isCloseTo(reference.get("predictions").get("bc-mlp").get(0).asDouble(), within(1e-5));
    }
  }

  @Test
  void device_cuda_fails_at_start_naming_the_device_and_the_providers_present() {
    assertThatThrownBy(() -> ScoringModel.open(RunnerConfig.load(CHAMPION).withDevice("cuda:1")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("cuda:1")
        .hasMessageContaining("available providers");
  }

  @Test
  void an_unknown_device_is_rejected_with_the_allowed_values() {
    assertThatThrownBy(() -> RunnerConfig.load(CHAMPION).withDevice("tpu"))
        .hasMessageContaining("auto, cpu, cuda or cuda:N");
  }

  @Test
  void a_runner_configured_for_auto_reports_the_cpu_in_its_scores_and_its_description(@TempDir Path dir)
      throws Exception {
    Topics topics = Topics.of("device-test");
    try (EmbeddedKafka broker = EmbeddedKafka.start(dir.resolve("kafka"), 0)) {
      KafkaTopics.ensure(broker.bootstrapServers(), List.of(topics.input(), topics.scores()), 1, (short) 1);
      RunnerConfig config = RunnerConfig.load(CHAMPION).withProblem("device-test").withDevice("auto");
      try (ModelRunner runner = new ModelRunner(config, broker.bootstrapServers(), Clock.SYSTEM).start();
          KafkaProducer<String, byte[]> producer = new KafkaProducer<>(producerProps(broker),
              new StringSerializer(), new ByteArraySerializer());
          KafkaConsumer<String, byte[]> scores = new KafkaConsumer<>(consumerProps(broker),
              new StringDeserializer(), new ByteArrayDeserializer())) {
        assertThat(runner.toString()).contains("onnxruntime on cpu");
        assertThat(runner.device()).isEqualTo("cpu");
        scores.subscribe(List.of(topics.scores()));
        runner.assigned().get(30, TimeUnit.SECONDS);
        long now = Clock.SYSTEM.nowMicros();
        InferenceRequest request = new InferenceRequest("on-cpu", null, "device-test", topics.results() + ":0", now,
            now + 60_000_000L, List.of(row(3)));
        producer.send(new ProducerRecord<>(topics.input(), "on-cpu", Json.encode(request))).get();
        Score score = null;
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (score == null && System.nanoTime() < until) {
          for (ConsumerRecord<String, byte[]> r : scores.poll(Duration.ofMillis(200))) {
            score = Json.decode(r.value(), Score.class);
          }
        }
        assertThat(score).isNotNull();
        assertThat(score.device()).isEqualTo("cpu");
        assertThat(score.error()).isNull();
        assertThat(score.outputs().get(0).data()[0])
            .isCloseTo(reference.get("predictions").get("bc-mlp").get(3).asDouble(), within(1e-5));
      }
    }
  }

  static Properties producerProps(EmbeddedKafka broker) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    return p;
  }

  static Properties consumerProps(EmbeddedKafka broker) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "device-test-reader");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    return p;
  }
}
