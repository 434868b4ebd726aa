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
import dev.rendezvous.metrics.Metrics;
import io.micrometer.core.instrument.search.Search;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.GroupListing;
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

/**
 * Several models behind one input consumer and one producer, against a real embedded broker and the real
 * breast-cancer ONNX models. Each problem's topics have one partition, so a last request ("end") scored by every
 * model means every earlier score of that model has been written (one producer, in order): the tests count
 * scores up to it, not for a while.
 */
class RunnerHostIT {

  static final double TOLERANCE = 1e-5; // as ReferencePredictionsTest: float32 sums of leaves or weights
  @TempDir static Path dir;
  static EmbeddedKafka broker;
  static JsonNode reference;
  static KafkaProducer<String, byte[]> producer;

  @BeforeAll
  static void start() throws Exception {
    broker = EmbeddedKafka.start(dir.resolve("kafka"), 0);
    reference = Json.MAPPER.readTree(Path.of("models/breast-cancer/reference.json").toFile());
    Properties p = new Properties();
    p.put("bootstrap.servers", broker.bootstrapServers());
    producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
  }

  @AfterAll
  static void stop() {
    producer.close();
    broker.close();
  }

  static RunnerConfig config(String problem, String model, String version, String runnerId, int batchSize) {
    return new RunnerConfig(problem, model, version, Role.SERVING,
        Path.of("models/breast-cancer/" + model + "-" + version + ".onnx").toAbsolutePath(), batchSize, 1, 1, null,
        runnerId, 0);
  }

  static Topics topics(String problem) throws Exception {
    Topics t = Topics.of(problem);
    KafkaTopics.ensure(broker.bootstrapServers(), List.of(t.input(), t.scores()), 1, (short) 1);
    return t;
  }

  static Tensor features(int... rows) {
    double[] data = new double[rows.length * 30];
    for (int r = 0; r < rows.length; r++) {
      for (int c = 0; c < 30; c++) {
        data[r * 30 + c] = reference.get("rows").get(rows[r]).get(c).asDouble();
      }
    }
    return new Tensor("features", "FP32", new long[] {rows.length, 30}, data);
  }

  static void send(String problem, String id, Tensor input, long deadlineAtUs) {
    Topics t = Topics.of(problem);
    InferenceRequest r = new InferenceRequest(id, null, problem, t.results() + ":0", Clock.SYSTEM.nowMicros(),
        deadlineAtUs, List.of(input));
    producer.send(new ProducerRecord<>(t.input(), id, Json.encode(r)));
  }

  static long later() {
    return Clock.SYSTEM.nowMicros() + 60_000_000L;
  }

  /** Reads the scores topic from the beginning until {@code done} holds for what was read, or 30 s. */
  static List<Score> readScores(Topics t, Predicate<List<Score>> done) {
    Properties p = new Properties();
    p.put("bootstrap.servers", broker.bootstrapServers());
    p.put("group.id", "reader-" + System.nanoTime());
    p.put("auto.offset.reset", "earliest");
    List<Score> out = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p, new StringDeserializer(),
        new ByteArrayDeserializer())) {
      c.subscribe(List.of(t.scores()));
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (!done.test(out) && System.nanoTime() < until) {
        for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
          out.add(Json.decode(r.value(), Score.class));
        }
      }
    }
    return out;
  }

  /** True once every one of these runners has written its score of request {@code id}. */
  static Predicate<List<Score>> scoredBy(String id, Set<String> runnerIds) {
    return scores -> scores.stream().filter(s -> s.requestId().equals(id)).map(Score::runnerId).toList()
        .containsAll(runnerIds);
  }

  static double count(PrometheusMeterRegistry m, String name, String model) {
    return Search.in(m).name(name).tag("model", model).counters().stream().mapToDouble(c -> c.count()).sum();
  }

  @Test
  void theHostScoresInTheOrderOfItsRankAndFollowsARankThatChanges() throws Exception {
    String problem = "host-ranked";
    Topics t = topics(problem);
    List<RunnerConfig> configs = List.of(config(problem, "bc-mlp", "2", "r-mlp", 64),
        config(problem, "bc-gbt", "3", "r-gbt", 64), config(problem, "bc-logreg", "1", "r-logreg", 64));
    AtomicReference<String> first = new AtomicReference<>("bc-logreg");
    try (RunnerHost host = new RunnerHost(configs, broker.bootstrapServers(), Clock.SYSTEM)) {
      host.rankBy(rc -> rc.modelId().equals(first.get()) ? 0 : 1);
      assertThat(host.order()).extracting(m -> m.config().modelId())
          .containsExactly("bc-logreg", "bc-mlp", "bc-gbt");
      host.start().assigned().get(60, TimeUnit.SECONDS);
      for (int i = 0; i < 20; i++) {
        send(problem, "a" + i, features(i), later());
      }
      producer.flush();
      readScores(t, scoredBy("a19", Set.of("r-mlp", "r-gbt", "r-logreg")));
      first.set("bc-gbt");
      for (int i = 0; i < 20; i++) {
        send(problem, "b" + i, features(i), later());
      }
      producer.flush();
      List<Score> scores = readScores(t, scoredBy("b19", Set.of("r-mlp", "r-gbt", "r-logreg")));
      // One partition: the topic's order is the order the host sent in.
      Map<String, List<String>> byRequest = new HashMap<>();
      for (Score s : scores) {
        byRequest.computeIfAbsent(s.requestId(), k -> new ArrayList<>()).add(s.modelId());
      }
      assertThat(byRequest).hasSize(40);
      byRequest.forEach((id, models) -> assertThat(models).as(id)
          .containsExactly(id.startsWith("a") ? new String[] {"bc-logreg", "bc-mlp", "bc-gbt"}
              : new String[] {"bc-gbt", "bc-mlp", "bc-logreg"}));
      assertThat(host.order()).extracting(m -> m.config().modelId())
          .containsExactly("bc-gbt", "bc-mlp", "bc-logreg");
      assertThat(host.models()).as("the configuration's order is kept apart").extracting(m -> m.config().modelId())
          .containsExactly("bc-mlp", "bc-gbt", "bc-logreg");
    }
  }

  @Test
  void everyHostedModelScoresEveryRequestExactlyOnceFromOneConsumer() throws Exception {
    String problem = "host-three";
    Topics t = topics(problem);
    PrometheusMeterRegistry metrics = Metrics.newRegistry();
    List<String> models = List.of("bc-mlp", "bc-gbt", "bc-logreg");
    List<RunnerConfig> configs = List.of(config(problem, "bc-mlp", "2", "h-mlp", 64),
        config(problem, "bc-gbt", "3", "h-gbt", 16), config(problem, "bc-logreg", "1", "h-logreg", 5));
    int live = 100;
    int expired = 7;
    try (RunnerHost host = new RunnerHost(configs, broker.bootstrapServers(), Clock.SYSTEM, metrics).start()) {
      host.assigned().get(60, TimeUnit.SECONDS);
      assertThat(host.groupId()).isEqualTo("rdv.host-three.runner.bc-gbt@3+bc-logreg@1+bc-mlp@2");
      assertThat(host.name()).isEqualTo("runner-host-three-bc-gbt@3+bc-logreg@1+bc-mlp@2");
      for (int i = 0; i < live; i++) {
        send(problem, "r" + i, features(i), later());
        if (i % 15 == 0) {
          send(problem, "x" + i / 15, features(i), Clock.SYSTEM.nowMicros() - 1_000); // already expired
        }
      }
      producer.send(new ProducerRecord<>(t.input(), "garbage", "not a request".getBytes()));
      send(problem, "end", features(0), later());
      producer.flush();
      List<Score> scores = readScores(t, scoredBy("end", Set.of("h-mlp", "h-gbt", "h-logreg")));

      Map<String, Integer> perRequestAndModel = new HashMap<>();
      for (Score s : scores) {
        perRequestAndModel.merge(s.requestId() + "/" + s.modelId(), 1, Integer::sum);
        assertThat(s.failed()).as("%s by %s: %s", s.requestId(), s.modelId(), s.error()).isFalse();
      }
      assertThat(perRequestAndModel.values()).as("scores per (request, model)").allMatch(n -> n == 1);
      Set<String> expected = new HashSet<>();
      for (String model : models) {
        for (int i = 0; i < live; i++) {
          expected.add("r" + i + "/" + model);
        }
        expected.add("end/" + model);
      }
      assertThat(perRequestAndModel.keySet()).as("every live request by every model, no expired one")
          .containsExactlyInAnyOrderElementsOf(expected);
      for (Score s : scores) {
        if (s.requestId().startsWith("r")) {
          int row = Integer.parseInt(s.requestId().substring(1));
          assertThat(s.outputs().get(0).data()[0]).as("%s by %s", s.requestId(), s.modelId())
              .isCloseTo(reference.get("predictions").get(s.modelId()).get(row).asDouble(), within(TOLERANCE));
        }
      }

      // Each model counted its own work; the one loop read each record once.
      for (HostedModel m : host.models()) {
        String model = m.config().modelId();
        assertThat(m.scored()).as(model).isEqualTo(live + 1);
        assertThat(m.skippedExpired()).as(model).isEqualTo(expired);
        assertThat(m.errors()).as(model).isZero();
        assertThat(count(metrics, "rdv.runner.scored", model)).as(model).isEqualTo(live + 1);
        assertThat(count(metrics, "rdv.runner.skipped.expired", model)).as(model).isEqualTo(expired);
        assertThat(metrics.get("rdv.runner.batch.size").tag("model", model).summary().max())
            .as(model + "'s own batch size").isLessThanOrEqualTo(m.config().batchSize());
      }
      String loop = host.name();
      assertThat(metrics.get("rdv.consumer.records").tag("loop", loop).counter().count())
          .as("records polled by the host's one loop").isEqualTo(live + expired + 2);
      assertThat(metrics.get("rdv.consumer.poison.skipped").tag("loop", loop).counter().count()).isEqualTo(1);
      assertThat(Search.in(metrics).name("rdv.consumer.records").counters()).as("one consumer loop").hasSize(1);
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
        List<String> groups = admin.listGroups().all().get(30, TimeUnit.SECONDS).stream().map(GroupListing::groupId)
            .filter(g -> g.startsWith("rdv." + problem)).toList();
        assertThat(groups).as("one consumer group for the host").containsExactly(host.groupId());
      }

      // A request that makes inference throw (29 values for a [1, 30] tensor) gets an error score from every
      // model, and the models go on scoring the next one.
      send(problem, "broken", new Tensor("features", "FP32", new long[] {1, 30}, new double[29]), later());
      producer.flush();
      readScores(t, scoredBy("broken", Set.of("h-mlp", "h-gbt", "h-logreg")));
      send(problem, "after", features(5), later()); // in a later poll than "broken", so not in its failed batch
      producer.flush();
      List<Score> more = readScores(t, scoredBy("after", Set.of("h-mlp", "h-gbt", "h-logreg")));
      for (String model : models) {
        assertThat(more).filteredOn(s -> s.requestId().equals("broken") && s.modelId().equals(model))
            .singleElement().matches(Score::failed, "an error score");
        assertThat(more).filteredOn(s -> s.requestId().equals("after") && s.modelId().equals(model))
            .singleElement().extracting(s -> s.outputs().get(0).data()[0]).asInstanceOf(
                org.assertj.core.api.InstanceOfAssertFactories.DOUBLE)
            .isCloseTo(reference.get("predictions").get(model).get(5).asDouble(), within(TOLERANCE));
        assertThat(metrics.get("rdv.runner.errors").tag("model", model).tag("kind", "inference").counter().count())
            .as(model).isEqualTo(1);
      }
      assertThat(host.health().ready()).isTrue();
    }
  }

  @Test
  void aHostOfTwoModelsWritesTheScoresOfTwoRunnersOfTheirOwn() throws Exception {
    String problem = "host-two";
    Topics t = topics(problem);
    List<RunnerConfig> hosted = List.of(config(problem, "bc-mlp", "2", "two-mlp", 8),
        config(problem, "bc-logreg", "1", "two-logreg", 3));
    try (RunnerHost host = new RunnerHost(hosted, broker.bootstrapServers(), Clock.SYSTEM).start();
        ModelRunner mlp = new ModelRunner(config(problem, "bc-mlp", "2", "own-mlp", 8), broker.bootstrapServers(),
            Clock.SYSTEM).start();
        ModelRunner logreg = new ModelRunner(config(problem, "bc-logreg", "1", "own-logreg", 3),
            broker.bootstrapServers(), Clock.SYSTEM).start()) {
      host.assigned().get(60, TimeUnit.SECONDS);
      mlp.assigned().get(60, TimeUnit.SECONDS);
      logreg.assigned().get(60, TimeUnit.SECONDS);
      assertThat(mlp.name()).as("a runner of its own keeps its loop name").isEqualTo("runner-host-two-bc-mlp@2");
      assertThat(host.groupId()).isNotEqualTo(mlp.config().groupId()).isNotEqualTo(logreg.config().groupId());
      for (int i = 0; i < 40; i++) {
        send(problem, "r" + i, features(i), later());
      }
      send(problem, "multi", features(40, 41, 42), later());
      send(problem, "expired", features(43), Clock.SYSTEM.nowMicros() - 1_000);
      send(problem, "wrong-shape", new Tensor("features", "FP32", new long[] {1, 2}, new double[2]), later());
      send(problem, "end", features(44), later());
      producer.flush();
      List<Score> scores = readScores(t, scoredBy("end", Set.of("two-mlp", "two-logreg", "own-mlp", "own-logreg")));

      // What each score says, without who wrote it or when: "request/model" to the output, or "error".
      Map<String, double[]> byHost = new HashMap<>();
      Map<String, double[]> byOwn = new HashMap<>();
      for (Score s : scores) {
        Map<String, double[]> side = s.runnerId().startsWith("two-") ? byHost : byOwn;
        String key = s.requestId() + "/" + s.modelId() + "/v" + s.modelVersion() + (s.failed() ? "/error" : "");
        assertThat(side.put(key, s.failed() ? new double[0] : s.outputs().get(0).data())).as(key).isNull();
      }
      assertThat(byHost.keySet()).as("the host's scores against the two runners'")
          .containsExactlyInAnyOrderElementsOf(byOwn.keySet());
      assertThat(byHost).hasSize(2 * 43).doesNotContainKey("expired/bc-mlp/v2")
          .containsKeys("wrong-shape/bc-mlp/v2/error", "wrong-shape/bc-logreg/v1/error");
      byHost.forEach((key, out) -> assertThat(out).as(key).containsExactly(byOwn.get(key), within(1e-6)));
      assertThat(host.models()).extracting(HostedModel::skippedExpired).containsExactly(1L, 1L);
      assertThat(host.models().get(0).scored() + host.models().get(1).scored())
          .isEqualTo(mlp.scored() + logreg.scored()).isEqualTo(2 * 42);
    }
  }

  @Test
  void aFaultInjectedModelDelaysOnlyItsOwnScores() throws Exception {
    String problem = "host-slow";
    Topics t = topics(problem);
    int delayMs = 3_000;
    List<RunnerConfig> configs = List.of(config(problem, "bc-mlp", "2", "slow-mlp", 64).withFaultDelayMs(delayMs),
        config(problem, "bc-logreg", "1", "slow-logreg", 64));
    try (RunnerHost host = new RunnerHost(configs, broker.bootstrapServers(), Clock.SYSTEM).start()) {
      host.assigned().get(60, TimeUnit.SECONDS);
      // Two requests in two polls: bc-logreg scores the second while bc-mlp still waits on the first.
      send(problem, "a", features(1), later());
      producer.flush();
      readScores(t, scoredBy("a", Set.of("slow-logreg")));
      send(problem, "b", features(2), later());
      producer.flush();
      List<Score> scores = readScores(t, s -> scoredBy("a", Set.of("slow-mlp")).test(s)
          && scoredBy("b", Set.of("slow-mlp")).test(s));
      List<String> order = scores.stream().map(s -> s.requestId() + "/" + s.modelId()).toList();
      assertThat(order).as("scores in the order written (one partition)")
          .containsExactly("a/bc-logreg", "b/bc-logreg", "a/bc-mlp", "b/bc-mlp");
      for (Score s : scores) {
        long latencyUs = s.scoredAtUs() - s.receivedAtUs();
        if (s.modelId().equals("bc-mlp")) {
          assertThat(latencyUs).as("bc-mlp waits its fault delay").isGreaterThanOrEqualTo(delayMs * 1_000L);
        }
        assertThat(s.failed()).isFalse();
      }
      assertThat(host.models()).extracting(HostedModel::scored).containsExactly(2L, 2L);
    }
  }
}
