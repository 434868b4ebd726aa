package dev.rendezvous.canary;

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
import dev.rendezvous.runner.ModelRunner;
import dev.rendezvous.runner.RunnerConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The canary setup and the monitor on a real broker with the real canary (bc-canary, from
 * {@code canary/config}) and champion (bc-mlp) runners. Reference: the canary's first 300 scores; windows of
 * 100; alarm at p < 1e-4 (G above 33.7 with 9 degrees of freedom). Traffic is drawn, seeded, from the held-out
 * rows of the real data set; the shifted traffic is the same rows with every feature scaled by 1.25, as if a
 * unit of measure changed upstream.
 */
class ScoreMonitorIT {

  static final String PROBLEM = "monitor-it";
  static final Topics TOPICS = Topics.of(PROBLEM);
  static final Path REFERENCE = Path.of("../model-runners/models/breast-cancer/reference.json");

  @TempDir Path dir;

  @Test
  void theCanaryConfigurationIsACanaryOfTheDemoProblem() {
    RunnerConfig canary = RunnerConfig.load(Path.of("config/breast-cancer/bc-canary.yaml"));
    assertThat(canary.role()).isEqualTo(Role.CANARY);
    assertThat(canary.problem()).isEqualTo("breast-cancer");
    assertThat(canary.model()).exists();
  }

  @Test
  void realTrafficRaisesNoAlarmAndScaledFeaturesRaiseTheCanaryInputShiftAlarmWithinOneWindow() throws Exception {
    JsonNode rows = Json.MAPPER.readTree(REFERENCE.toFile()).get("rows");
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    MonitorConfig config = new MonitorConfig(PROBLEM, "rdv." + PROBLEM + ".monitor", 300, 100, 10, 1e-4, 200, null);
    try (EmbeddedKafka broker = EmbeddedKafka.start(dir.resolve("kafka"), 0)) {
      String bootstrap = broker.bootstrapServers();
      KafkaTopics.ensure(bootstrap, List.of(TOPICS.input(), TOPICS.scores()), 1, (short) 1);
      RunnerConfig canaryConfig = RunnerConfig.load(Path.of("config/breast-cancer/bc-canary.yaml")).withProblem(PROBLEM);
      RunnerConfig mlpConfig = RunnerConfig.load(Path.of("../model-runners/config/breast-cancer/bc-mlp.yaml"))
          .withProblem(PROBLEM);
      try (ModelRunner canary = new ModelRunner(canaryConfig, bootstrap, Clock.SYSTEM).start();
          ModelRunner mlp = new ModelRunner(mlpConfig, bootstrap, Clock.SYSTEM).start();
          ScoreMonitor monitor = new ScoreMonitor(config, bootstrap, meters).start();
          KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of("bootstrap.servers", bootstrap),
              new StringSerializer(), new ByteArraySerializer())) {
        canary.assigned().get();
        mlp.assigned().get();
        monitor.assigned().get();
        Random random = new Random(2026);

        // 300 reference scores, then three windows of unshifted traffic.
        send(producer, rows, random, 0, 600, 1.0);
        waitFor(() -> scores(monitor, "bc-canary") >= 600 && scores(monitor, "bc-mlp") >= 600
            && monitor.view("bc-canary").orElseThrow().windows() >= 3);
        ScoreMonitor.ModelView calm = monitor.view("bc-canary").orElseThrow();
        assertThat(calm.windows()).isEqualTo(3);
        assertThat(calm.alarms()).isZero();
        assertThat(calm.driftStatistic()).isLessThan(calm.driftThreshold());
        ScoreMonitor.ModelView champion = monitor.view("bc-mlp").orElseThrow();
        assertThat(champion.alarms()).isZero();
        assertThat(champion.pairs()).isEqualTo(200);
        assertThat(champion.rankCorrelationWithCanary()).as("the champion ranks like the canary").isGreaterThan(0.8);
        assertThat(Math.abs(champion.meanDifferenceToCanary())).isLessThan(0.2);

        // One window of shifted traffic.
        send(producer, rows, random, 600, 100, 1.25);
        // The window closes just after its last score is counted: wait for the window, not the count.
        waitFor(() -> scores(monitor, "bc-canary") >= 700
            && monitor.view("bc-canary").orElseThrow().windows() >= 4);
        ScoreMonitor.ModelView shifted = monitor.view("bc-canary").orElseThrow();
        assertThat(shifted.windows()).isEqualTo(4);
        assertThat(shifted.alarm()).isTrue();
        assertThat(shifted.alarms()).isEqualTo(1);
        assertThat(shifted.driftStatistic()).isGreaterThan(shifted.driftThreshold());
        System.out.printf("canary G: %.1f in the last calm window, %.1f in the shifted one (threshold %.1f)%n",
            calm.driftStatistic(), shifted.driftStatistic(), shifted.driftThreshold());

        // The same numbers, as meters.
        assertThat(meters.get("rdv.monitor.drift.statistic").tags("model", "bc-canary", "role", "canary")
            .gauge().value()).isEqualTo(shifted.driftStatistic());
        assertThat(meters.get("rdv.monitor.drift.alarm").tags("model", "bc-canary").gauge().value())
            .isEqualTo(1.0);
        assertThat(meters.get("rdv.monitor.drift.alarms").tags("model", "bc-canary").counter().count())
            .isEqualTo(1.0);
        assertThat(meters.get("rdv.monitor.canary.rank.correlation").tags("model", "bc-mlp").gauge().value())
            .isGreaterThan(0.5);
        assertThat(meters.find("rdv.monitor.canary.rank.correlation").tags("model", "bc-canary").gauge())
            .as("the canary is not compared with itself").isNull();
      }
    }
  }

  private static long scores(ScoreMonitor monitor, String model) {
    return monitor.view(model).map(ScoreMonitor.ModelView::scores).orElse(0L);
  }

  private static void send(KafkaProducer<String, byte[]> producer, JsonNode rows, Random random, int first, int n,
      double scale) {
    for (int i = first; i < first + n; i++) {
      JsonNode row = rows.get(random.nextInt(rows.size()));
      double[] features = new double[30];
      for (int c = 0; c < 30; c++) {
        features[c] = row.get(c).asDouble() * scale;
      }
      long now = Clock.SYSTEM.nowMicros();
      InferenceRequest r = new InferenceRequest("m-" + i, null, PROBLEM, TOPICS.results() + ":0", now,
          now + 60_000_000L, List.of(new Tensor("features", "FP32", new long[] {1, 30}, features)));
      producer.send(new ProducerRecord<>(TOPICS.input(), r.requestId(), Json.encode(r)));
    }
    producer.flush();
  }

  private static void waitFor(BooleanSupplier condition) {
    await("the monitor").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
        .until(condition::getAsBoolean);
  }
}
