package dev.rendezvous.embedded;

import static dev.rendezvous.embedded.TestSystems.inferBody;
import static dev.rendezvous.embedded.TestSystems.runner;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rendezvous.common.InferenceRequest;
import dev.rendezvous.common.Json;
import dev.rendezvous.common.Result;
import dev.rendezvous.common.ReturnAddress;
import dev.rendezvous.common.Topics;
import dev.rendezvous.broker.EmbeddedKafka;
import dev.rendezvous.kafka.KafkaTopics;
import dev.rendezvous.proxy.ProxyVerticle;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A proxy of three instances on one port, on the real embedded system (real broker, real models): many requests
 * at once are spread over the instances, and each is answered by a model, exactly once, because its result comes
 * back on the results partition of the instance that holds it. A result that reached another instance would be
 * ignored there and its request answered with the default at the deadline; the schedule's deadline is long (10 s)
 * so that only such a misrouting, and not a slow shared machine, can give a default.
 */
class ProxyInstancesIT {

  static final String PROBLEM = "cores";
  static final int INSTANCES = 3;
  static final int PARTITIONS = 2;
  static final int REQUESTS = 200;

  @TempDir static Path dir;
  static EmbeddedKafka broker;
  static JsonNode reference;

  @BeforeAll
  static void startBroker() throws Exception {
    broker = EmbeddedKafka.start(dir.resolve("broker"), 0);
    reference = TestSystems.reference();
  }

  @AfterAll
  static void stopBroker() {
    broker.close();
  }

  static String schedule() {
    return """
        problem: %s
        deadline_ms: 10000
        inputs:
          - {name: features, datatype: FP32, shape: [-1, 30]}
        outputs:
          - {name: probability, datatype: FP32, shape: [-1, 1]}
        tiers:
          - until_ms: 9000
            accept: ["*"]
        default:
          outputs: [{name: probability, datatype: FP32, shape: [1, 1], data: [-1.0]}]
        """.formatted(PROBLEM);
  }

  record Answer(String sentId, int status, String body) {}

  @Test
  void concurrent_requests_spread_over_the_instances_each_answered_once_by_a_model_through_its_own_partition()
      throws Exception {
    Topics topics = Topics.of(PROBLEM);
    // A data directory made before: the results topic has fewer partitions than the proxy has instances.
    KafkaTopics.ensure(broker.bootstrapServers(), List.of(topics.results()), PARTITIONS, (short) 1);
    Path schedules = Files.createDirectories(dir.resolve("schedules"));
    Files.writeString(schedules.resolve(PROBLEM + ".yaml"), schedule());
    List<String> options = new ArrayList<>(List.of(TestSystems.PERMISSIVE));
    options.addAll(List.of("--proxy-instances", Integer.toString(INSTANCES)));
    try (EmbeddedSystem system = TestSystems.start(dir.resolve("data"), schedules, broker.bootstrapServers(),
        PARTITIONS, List.of(runner(PROBLEM, "bc-mlp"), runner(PROBLEM, "bc-logreg")),
        options.toArray(String[]::new))) {
      List<ProxyVerticle> instances = system.proxy().instances();
      assertThat(instances).extracting(ProxyVerticle::resultsPartition).containsExactly(0, 1, 2);
      assertThat(instances).allMatch(i -> i.actualPort() == system.port());
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
        assertThat(admin.describeTopics(List.of(topics.results())).allTopicNames().get().get(topics.results())
            .partitions()).as("a results partition per instance, added to the topic").hasSize(INSTANCES);
        assertThat(admin.describeTopics(List.of(topics.input())).allTopicNames().get().get(topics.input())
            .partitions()).as("input keeps --partitions").hasSize(PARTITIONS);
      }
      double answersBefore = counted(system, "rdv.proxy.answers");

      // One connection per request (HTTP/1.1, all sent at once): Vert.x hands connections to the instances in turn.
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(30)).build();
      List<CompletableFuture<Answer>> sent = new ArrayList<>();
      long start = System.nanoTime();
      for (int n = 0; n < REQUESTS; n++) {
        String id = "cores-" + n;
        HttpRequest request = HttpRequest.newBuilder(URI.create(system.url() + "/v2/models/" + PROBLEM + "/infer"))
            .header("content-type", "application/json").timeout(Duration.ofSeconds(60))
            .POST(HttpRequest.BodyPublishers.ofString(inferBody(id, reference.get("rows").get(n % 20), null)))
            .build();
        sent.add(http.sendAsync(request, HttpResponse.BodyHandlers.ofString())
            .thenApply(r -> new Answer(id, r.statusCode(), r.body())));
      }
      CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
      double seconds = (System.nanoTime() - start) / 1e9;

      Map<String, String> requestIdBySentId = new HashMap<>();
      Map<String, Integer> answeredBy = new TreeMap<>();
      for (CompletableFuture<Answer> f : sent) {
        Answer a = f.get();
        assertThat(a.status()).as("%s: %s", a.sentId(), a.body()).isEqualTo(200);
        JsonNode body = Json.MAPPER.readTree(a.body());
        assertThat(body.get("id").asText()).as("each answer carries its own request's id").isEqualTo(a.sentId());
        JsonNode p = body.get("parameters");
        assertThat(p.get("default").asBoolean()).as("%s answered by a model: %s", a.sentId(), p).isFalse();
        answeredBy.merge(p.get("answered_by").asText(), 1, Integer::sum);
        assertThat(requestIdBySentId.put(a.sentId(), p.get("request_id").asText())).as("answered once").isNull();
      }
      assertThat(requestIdBySentId).hasSize(REQUESTS);
      assertThat(new HashSet<>(requestIdBySentId.values())).as("request ids all distinct").hasSize(REQUESTS);
      assertThat(answeredBy.keySet()).isSubsetOf("bc-mlp", "bc-logreg");
      assertThat(counted(system, "rdv.proxy.answers") - answersBefore).as("answers counted over every instance")
          .isEqualTo(REQUESTS);
      assertThat(system.metrics().get("rdv.proxy.in.flight").tag("problem", PROBLEM).gauges())
          .as("one in-flight gauge, the sum over the instances").hasSize(1);
      assertThat(system.metrics().get("rdv.proxy.in.flight").tag("problem", PROBLEM).gauge().value()).isZero();
      assertThat(system.metrics().get("rdv.proxy.event.loop.lag").gauges()).as("a delay gauge per event loop")
          .hasSize(INSTANCES);

      // Where each request asked its result to go, and where the rendezvous wrote it.
      Set<String> ours = new HashSet<>(requestIdBySentId.values());
      Map<String, Integer> returnPartition = new HashMap<>();
      readAll(topics.input(), (partition, value) -> {
        InferenceRequest r = Json.decode(value, InferenceRequest.class);
        if (ours.contains(r.requestId())) {
          ReturnAddress to = ReturnAddress.parse(r.returnAddress());
          assertThat(to.topic()).isEqualTo(topics.results());
          assertThat(returnPartition.put(r.requestId(), to.partition())).as("written to input once").isNull();
        }
      });
      Map<String, Integer> resultPartition = new HashMap<>();
      readAll(topics.results(), (partition, value) -> {
        Result r = Json.decode(value, Result.class);
        if (ours.contains(r.requestId())) {
          assertThat(resultPartition.put(r.requestId(), partition)).as("one result per request").isNull();
        }
      });
      assertThat(returnPartition).hasSize(REQUESTS);
      assertThat(resultPartition).as("each result on the partition its request named").isEqualTo(returnPartition);
      Map<Integer, Integer> perInstance = new TreeMap<>();
      returnPartition.values().forEach(p -> perInstance.merge(p, 1, Integer::sum));
      System.out.printf("%d requests at once in %.1f s over %d instances: requests per results partition %s, "
          + "answered by %s%n", REQUESTS, seconds, INSTANCES, perInstance, answeredBy);
      assertThat(perInstance.keySet()).as("every instance took requests: " + perInstance).containsExactly(0, 1, 2);
    }
  }

  static double counted(EmbeddedSystem system, String name) {
    return system.metrics().find(name).tag("problem", PROBLEM).counters().stream().mapToDouble(c -> c.count()).sum();
  }

  /** Every record of a topic, from its beginning to its end now: partition and value. */
  static void readAll(String topic, BiConsumer<Integer, byte[]> each) {
    Map<String, Object> props = Map.of("bootstrap.servers", broker.bootstrapServers(), "enable.auto.commit", "false");
    try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(props, new StringDeserializer(),
        new ByteArrayDeserializer())) {
      List<TopicPartition> tps = c.partitionsFor(topic).stream()
          .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
      c.assign(tps);
      c.seekToBeginning(tps);
      Map<TopicPartition, Long> end = c.endOffsets(tps);
      while (tps.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
        for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
          each.accept(r.partition(), r.value());
        }
      }
    }
  }
}
