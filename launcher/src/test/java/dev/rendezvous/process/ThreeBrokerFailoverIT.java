package dev.rendezvous.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rendezvous.common.InferenceRequest;
import dev.rendezvous.common.Json;
import dev.rendezvous.common.Topics;
import dev.rendezvous.decoy.ArchiveLayout;
import dev.rendezvous.decoy.ArchiveReader;
import dev.rendezvous.decoy.ArchivedRecord;
import dev.rendezvous.decoy.Kind;
import dev.rendezvous.embedded.EmbeddedSystem;
import dev.rendezvous.embedded.TestSystems;
import dev.rendezvous.kafka.KafkaSettings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The loss of a Kafka broker under load: a cluster of three nodes on loopback ({@link BrokerCluster}, every topic
 * with three replicas and {@code min.insync.replicas} 2), the whole system against it in this JVM (proxy,
 * rendezvous, four runners with the canary, decoy, monitor; {@code --replication-factor 3}), the end-to-end tests'
 * schedule ({@link TestSystems#schedule}, deadline 250 ms: with the demo's 50 ms, three hops through three brokers
 * sharing two cores with the system left the models almost no answer within its 40 ms of tiers even before the
 * kill, so the fail-over's effect on them could not be seen), an open-loop load of {@value #RATE_PER_S} requests
 * per second. The node that leads most
 * partitions of the problem's input and scores is killed with SIGKILL, the load goes on, the node is started
 * again on its data, the load goes on. Then every request has an HTTP answer (200, or the admission's 503), none
 * later than the deadline plus {@value #GRACE_MS} ms, and every request answered 200 is in the input topic once
 * and in the decoy's archive once (a refused one in neither). Latency before, during and after the fail-over,
 * the time until the models answer again and the cluster's own fail-over are printed; docs/reliability.md records
 * them.
 */
class ThreeBrokerFailoverIT {

  static final String PROBLEM = "failover";
  static final int RATE_PER_S = 50;
  static final int PARTITIONS = 4;
  /** The deadline of {@link TestSystems#schedule}. */
  static final long DEADLINE_MS = 250;
  /**
   * How late an answer may be, past its deadline, measured by this client from the moment the request was due
   * to be sent: far below a fail-over (seconds, what an answer waiting on Kafka would take), far above the stalls
   * of a two-core machine running three brokers and the system (the measured figure is printed).
   */
  static final long GRACE_MS = 1_000;
  /** Load before the figures of "before the kill" start: the JIT's and the consumers' first seconds. */
  static final long SETTLE_MS = 10_000;
  static final long BEFORE_MS = 10_000;
  static final long AFTER_KILL_MS = 15_000;
  static final long AFTER_RESTART_MS = 8_000;

  /** Kept when the test fails: the brokers' logs are there (cluster/broker-N-M.log). */
  @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dir;

  /** One request of the load: its client id, when it was due to be sent and what came back. */
  record Answer(String clientId, long dueNanos, long doneNanos, int status, String answeredBy, String reason,
      double proxyMs, Throwable error) {

    double latencyMs() {
      return (doneNanos - dueNanos) / 1e6;
    }

    boolean byModel() {
      return status == 200 && answeredBy != null && !answeredBy.equals("default");
    }
  }

  @Test
  void killing_the_broker_that_leads_most_partitions_loses_no_answer_and_no_archived_record() throws Exception {
    Path schedules = Files.createDirectories(dir.resolve("schedules"));
    Files.writeString(schedules.resolve(PROBLEM + ".yaml"), TestSystems.schedule(PROBLEM));
    try (BrokerCluster cluster = BrokerCluster.start(dir.resolve("cluster"), 3);
        EmbeddedSystem system = EmbeddedSystem.start(EmbeddedSystem.Options.parse("--data",
            dir.resolve("system").toString(), "--schedules", schedules.toString(), "--port", "0", "--grpc-port",
            "-1", "--bootstrap-servers", cluster.bootstrapServers(), "--partitions", Integer.toString(PARTITIONS),
            "--replication-factor", "3", "--warm-up", "100", "--warm-up-jit-max", "0"),
            List.of("bc-mlp", "bc-gbt", "bc-logreg", "bc-canary").stream()
                .map(m -> TestSystems.runner(PROBLEM, m)).toList());
        Admin admin = Admin.create(KafkaSettings.adminProperties(cluster.bootstrapServers()))) {
      Topics topics = Topics.of(PROBLEM);
      List<String> watched = List.of(topics.input(), topics.scores());
      describe(admin, watched).values().forEach(d -> d.partitions().forEach(p -> assertThat(p.replicas())
          .as("replicas of %s-%d", d.name(), p.partition()).hasSize(3)));
      ConfigResource input = new ConfigResource(ConfigResource.Type.TOPIC, topics.input());
      assertThat(admin.describeConfigs(List.of(input)).all().get(10, TimeUnit.SECONDS).get(input)
          .get("min.insync.replicas").value()).isEqualTo("2");

      OpenLoop load = new OpenLoop(system.url() + "/v2/models/" + PROBLEM + "/infer", TestSystems.reference());
      load.start();
      Thread.sleep(SETTLE_MS + BEFORE_MS);

      int victim = mostLeaders(describe(admin, watched).values());
      int activeController = admin.describeMetadataQuorum().quorumInfo().get(10, TimeUnit.SECONDS).leaderId();
      long killed = System.nanoTime();
      cluster.kill(victim);
      double killMs = (System.nanoTime() - killed) / 1e6;
      // The cluster's own fail-over: every partition led elsewhere, and the dead node out of every in-sync set.
      double ledElsewhereMs = awaitPartitions(admin, watched,
          p -> p.leader() != null && !p.leader().isEmpty() && p.leader().id() != victim, killed);
      double isrShrunkMs = awaitPartitions(admin, watched,
          p -> p.isr().stream().noneMatch(n -> n.id() == victim), killed);
      Thread.sleep(Math.max(0, AFTER_KILL_MS - (System.nanoTime() - killed) / 1_000_000));

      long restarting = System.nanoTime();
      cluster.restart(victim);
      double restartMs = (System.nanoTime() - restarting) / 1e6;
      double backInSyncMs = awaitPartitions(admin, watched, p -> p.isr().stream().anyMatch(n -> n.id() == victim),
          restarting);
      Thread.sleep(AFTER_RESTART_MS);
      load.stop();
      List<Answer> answers = load.await();

      // Every request has an HTTP answer: a result or the default (200), or a refusal at the door (503).
      assertThat(answers.stream().filter(a -> a.error() != null).map(a -> a.clientId() + ": " + a.error()).toList())
          .as("requests without an HTTP answer").isEmpty();
      Map<Integer, Long> byStatus = answers.stream().collect(Collectors.groupingBy(Answer::status, TreeMap::new,
          Collectors.counting()));
      assertThat(byStatus.keySet()).as("statuses").isSubsetOf(200, 503);

      report(answers, killed, victim, activeController, killMs, ledElsewhereMs, isrShrunkMs, restarting, restartMs,
          backInSyncMs, byStatus);

      // None later than the deadline plus the grace.
      List<String> late = answers.stream().filter(a -> a.latencyMs() > DEADLINE_MS + GRACE_MS)
          .map(a -> String.format("%s %.0f ms after %s (%s)", a.clientId(), a.latencyMs(),
              phase(a, killed, restarting), a.answeredBy()))
          .toList();
      assertThat(late).as("answers later than %d ms", DEADLINE_MS + GRACE_MS).isEmpty();

      // The models answered before the kill, again after it, and after the restart.
      assertThat(answers.stream().filter(a -> a.dueNanos() < killed).anyMatch(Answer::byModel)).isTrue();
      assertThat(answers.stream().filter(a -> a.dueNanos() > killed && a.dueNanos() < restarting)
          .anyMatch(Answer::byModel)).as("a model answer between the kill and the restart").isTrue();
      assertThat(answers.stream().filter(a -> a.dueNanos() > restarting).anyMatch(Answer::byModel))
          .as("a model answer after the restart").isTrue();

      // Every request answered 200 was written once, idempotently, and archived once; a refused one neither.
      Set<String> answered = answers.stream().filter(a -> a.status() == 200).map(Answer::clientId)
          .collect(Collectors.toSet());
      Set<String> refused = answers.stream().filter(a -> a.status() == 503).map(Answer::clientId)
          .collect(Collectors.toSet());
      Map<String, Integer> written = inputRecordsByClientId(cluster.bootstrapServers(), topics.input());
      assertThat(answered.stream().filter(id -> written.getOrDefault(id, 0) != 1)
          .map(id -> id + " x" + written.getOrDefault(id, 0)).toList())
          .as("requests answered 200 not written exactly once to %s", topics.input()).isEmpty();
      assertThat(refused).as("refused requests written").doesNotContainAnyElementsOf(written.keySet());

      Path archive = dir.resolve("system").resolve("archive");
      Map<String, Integer> archived = awaitArchived(archive, answered);
      List<ArchivedRecord> lines = new ArrayList<>();
      ArchiveReader.readAll(new ArchiveLayout(archive).segments(PROBLEM, Kind.INPUT, 0), Kind.INPUT, lines::add,
          n -> {});
      System.out.printf("%d requests answered 200, %d refused; input topic: %d records (the warm-up's included); "
              + "archive: %d distinct inputs in %d lines (the decoy delivers at least once: a line again after a "
              + "commit that failed)%n",
          answered.size(), refused.size(), written.values().stream().mapToInt(Integer::intValue).sum(),
          archived.size(), lines.size());
      assertThat(answered.stream().filter(id -> archived.getOrDefault(id, 0) != 1)
          .map(id -> id + " x" + archived.getOrDefault(id, 0)).toList())
          .as("requests answered 200 not archived exactly once").isEmpty();
      assertThat(refused).as("refused requests archived").doesNotContainAnyElementsOf(archived.keySet());
    }
  }

  /** The node that leads most partitions of these topics (the lowest id among equals). */
  private static int mostLeaders(Collection<TopicDescription> topics) {
    Map<Integer, Integer> led = new TreeMap<>();
    topics.forEach(d -> d.partitions().forEach(p -> led.merge(p.leader().id(), 1, Integer::sum)));
    System.out.printf("partitions of input and scores led, by node: %s%n", led);
    return led.entrySet().stream().max(Map.Entry.<Integer, Integer>comparingByValue()
        .thenComparing(Map.Entry.comparingByKey(Comparator.reverseOrder()))).orElseThrow().getKey();
  }

  private static Map<String, TopicDescription> describe(Admin admin, List<String> topics) throws Exception {
    return admin.describeTopics(topics).allTopicNames().get(10, TimeUnit.SECONDS);
  }

  /**
   * Asks the cluster every 100 ms until every partition of the topics satisfies {@code condition}; returns the
   * milliseconds from {@code since}. 60 s at most.
   */
  private static double awaitPartitions(Admin admin, List<String> topics, Predicate<TopicPartitionInfo> condition,
      long since) {
    // Describing may fail while the cluster fails over: tried again, the last error is the timeout's cause.
    await().atMost(Duration.ofSeconds(60)).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(100))
        .ignoreExceptions().untilAsserted(() -> {
          Collection<TopicDescription> d = describe(admin, topics).values();
          assertThat(d.stream().allMatch(t -> t.partitions().stream().allMatch(condition)))
              .as("partitions not as expected within 60 s: %s", d.stream().flatMap(t -> t.partitions().stream()
                  .map(p -> t.name() + "-" + p.partition() + " leader " + (p.leader() == null ? "none"
                      : p.leader().id()) + " isr " + p.isr().stream().map(n -> n.id()).toList())).toList())
              .isTrue();
        });
    return (System.nanoTime() - since) / 1e6;
  }

  /** Every record of the topic, by the client id of its request. */
  private static Map<String, Integer> inputRecordsByClientId(String bootstrap, String topic) {
    Map<String, Integer> out = new HashMap<>();
    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(KafkaSettings.clientProperties(bootstrap),
        new StringDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
          .map(p -> new TopicPartition(topic, p.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      long limit = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
        assertThat(System.nanoTime()).as("reading %s to its end", topic).isLessThan(limit);
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          out.merge(Json.decode(r.value(), InferenceRequest.class).clientId(), 1, Integer::sum);
        }
      }
    }
    return out;
  }

  /**
   * The decoy's archived inputs by client id (distinct by request id, as a reader of the archive sees them), once
   * every expected one is there; fails if they are not all there within 60 s.
   */
  private static Map<String, Integer> awaitArchived(Path archive, Set<String> expected) {
    ArchiveLayout layout = new ArchiveLayout(archive);
    AtomicReference<Map<String, Integer>> archived = new AtomicReference<>();
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
      Map<String, Integer> byClient = new HashMap<>();
      for (ArchivedRecord r : ArchiveReader.readDistinct(layout.segments(PROBLEM, Kind.INPUT, 0), Kind.INPUT)) {
        byClient.merge(r.clientId(), 1, Integer::sum);
      }
      archived.set(byClient);
      assertThat(expected.stream().filter(id -> !byClient.containsKey(id)).toList())
          .as("requests answered 200 not archived within 60 s").isEmpty();
    });
    return archived.get();
  }

  private static String phase(Answer a, long killed, long restarting) {
    return a.dueNanos() < killed ? "before the kill" : a.dueNanos() < restarting ? "after the kill"
        : "after the restart";
  }

  /** Prints the figures docs/reliability.md records. */
  private static void report(List<Answer> answers, long killed, int victim, int activeController, double killMs,
      double ledElsewhereMs, double isrShrunkMs, long restarting, double restartMs, double backInSyncMs,
      Map<Integer, Long> byStatus) {
    double restartAtS = (restarting - killed) / 1e9;
    System.out.printf("three-broker fail-over: node %d killed (it led most input and scores partitions; the active "
            + "controller was node %d); SIGKILL took %.0f ms; every partition led elsewhere %.0f ms after the kill, "
            + "the dead node out of every in-sync set %.0f ms after it; restarted %.1f s after the kill, serving "
            + "%.0f ms later, back in every in-sync set %.0f ms after its start; answers by status %s%n", victim,
        activeController, killMs, ledElsewhereMs, isrShrunkMs, restartAtS, restartMs, backInSyncMs, byStatus);
    answers.stream().filter(a -> a.dueNanos() > killed && a.byModel()).mapToLong(Answer::doneNanos).min()
        .ifPresent(t -> System.out.printf("first model answer to a request sent after the kill: %.0f ms after the "
            + "kill%n", (t - killed) / 1e6));
    long s = 1_000_000_000L;
    phaseLine("before the kill (10 s)", answers, a -> a.dueNanos() >= killed - BEFORE_MS * 1_000_000
        && a.dueNanos() < killed);
    phaseLine("first 5 s after the kill", answers, a -> a.dueNanos() >= killed && a.dueNanos() < killed + 5 * s);
    phaseLine("5-15 s after the kill", answers, a -> a.dueNanos() >= killed + 5 * s && a.dueNanos() < restarting);
    phaseLine("after the restart", answers, a -> a.dueNanos() >= restarting);
    System.out.println("per second, from the kill: sent, by a model, defaults (reasons), refused, p99 ms, max ms");
    Map<Long, List<Answer>> bySecond = new TreeMap<>(answers.stream()
        .filter(a -> a.dueNanos() >= killed - 3 * s)
        .collect(Collectors.groupingBy(a -> Math.floorDiv(a.dueNanos() - killed, s))));
    bySecond.forEach((second, list) -> {
      Map<String, Long> reasons = list.stream().filter(a -> a.status() == 200 && !a.byModel())
          .collect(Collectors.groupingBy(a -> String.valueOf(a.reason()), TreeMap::new, Collectors.counting()));
      double[] ms = list.stream().mapToDouble(Answer::latencyMs).sorted().toArray();
      System.out.printf("  %+3d s: %3d sent, %3d by a model, %3d defaults %s, %3d refused, p99 %6.1f, max %6.1f%n",
          second, list.size(), list.stream().filter(Answer::byModel).count(),
          reasons.values().stream().mapToLong(Long::longValue).sum(), reasons,
          list.stream().filter(a -> a.status() == 503).count(), percentile(ms, 0.99), ms[ms.length - 1]);
    });
  }

  private static void phaseLine(String name, List<Answer> answers, Predicate<Answer> in) {
    List<Answer> list = answers.stream().filter(in).toList();
    double[] ms = list.stream().mapToDouble(Answer::latencyMs).sorted().toArray();
    if (ms.length == 0) {
      return;
    }
    double[] proxy = list.stream().mapToDouble(Answer::proxyMs).filter(v -> !Double.isNaN(v)).sorted().toArray();
    System.out.printf("%s: %d requests, %d by a model, %d defaults, %d refused; latency p50 %.1f ms, p99 %.1f ms, "
            + "max %.1f ms (the proxy's own elapsed_ms: p99 %.1f ms, max %.1f ms)%n", name, list.size(),
        list.stream().filter(Answer::byModel).count(), list.stream().filter(a -> a.status() == 200 && !a.byModel())
            .count(), list.stream().filter(a -> a.status() == 503).count(), percentile(ms, 0.5), percentile(ms, 0.99),
        ms[ms.length - 1], proxy.length == 0 ? Double.NaN : percentile(proxy, 0.99),
        proxy.length == 0 ? Double.NaN : proxy[proxy.length - 1]);
  }

  private static double percentile(double[] sorted, double q) {
    return sorted[Math.max(0, (int) Math.ceil(q * sorted.length) - 1)];
  }

  /**
   * Open-loop load: request n is due at start + n / rate and sent then, whatever the earlier ones are doing;
   * latency is measured from when it was due, so a stalled sender counts against the system too.
   */
  static final class OpenLoop {
    private final String url;
    private final JsonNode rows;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(10)).build();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final ConcurrentLinkedQueue<CompletableFuture<Answer>> sent = new ConcurrentLinkedQueue<>();
    private final AtomicInteger next = new AtomicInteger();
    private long startNanos;

    OpenLoop(String url, JsonNode reference) {
      this.url = url;
      this.rows = reference.get("rows");
    }

    void start() {
      startNanos = System.nanoTime();
      long periodNanos = 1_000_000_000L / RATE_PER_S;
      timer.scheduleAtFixedRate(() -> send(next.getAndIncrement(), periodNanos), 0, periodNanos,
          TimeUnit.NANOSECONDS);
    }

    private void send(int n, long periodNanos) {
      long due = startNanos + n * periodNanos;
      String id = "failover-" + n;
      StringBuilder data = new StringBuilder();
      rows.get(n % rows.size()).forEach(v -> data.append(data.length() == 0 ? "" : ",").append(v.asDouble()));
      HttpRequest request = HttpRequest.newBuilder(URI.create(url)).header("content-type", "application/json")
          .timeout(Duration.ofSeconds(30))
          .POST(HttpRequest.BodyPublishers.ofString("{\"id\":\"" + id + "\",\"inputs\":[{\"name\":\"features\","
              + "\"datatype\":\"FP32\",\"shape\":[1,30],\"data\":[" + data + "]}]}"))
          .build();
      sent.add(http.sendAsync(request, HttpResponse.BodyHandlers.ofString()).handle((r, e) -> {
        long done = System.nanoTime();
        if (e != null) {
          return new Answer(id, due, done, -1, null, null, Double.NaN, e);
        }
        JsonNode parameters;
        try {
          parameters = Json.MAPPER.readTree(r.body()).path("parameters");
        } catch (Exception ex) {
          return new Answer(id, due, done, r.statusCode(), null, null, Double.NaN, ex);
        }
        return new Answer(id, due, done, r.statusCode(), parameters.path("answered_by").asText(null),
            parameters.path("default_reason").asText(null), parameters.path("elapsed_ms").asDouble(Double.NaN), null);
      }));
    }

    void stop() {
      timer.shutdown();
    }

    /** Every request's answer, in the order sent; waits for the last. */
    List<Answer> await() throws Exception {
      assertThat(timer.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
      List<Answer> out = new ArrayList<>();
      for (CompletableFuture<Answer> f : sent) {
        out.add(f.get(60, TimeUnit.SECONDS));
      }
      return out;
    }
  }
}
