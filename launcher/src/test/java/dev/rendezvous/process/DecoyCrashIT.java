package dev.rendezvous.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.rendezvous.common.Clock;
import dev.rendezvous.common.InferenceRequest;
import dev.rendezvous.common.Json;
import dev.rendezvous.common.Tensor;
import dev.rendezvous.common.Topics;
import dev.rendezvous.decoy.ArchiveLayout;
import dev.rendezvous.decoy.ArchiveReader;
import dev.rendezvous.decoy.ArchivedRecord;
import dev.rendezvous.decoy.Kind;
import dev.rendezvous.embedded.TestSystems;
import dev.rendezvous.broker.EmbeddedKafka;
import dev.rendezvous.kafka.KafkaTopics;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The decoy runs as a child JVM, is killed with SIGKILL while requests stream in, and is started again; then
 * its commits of the second half are forgotten and a third decoy archives that half again. Every request must
 * then be in the archive exactly once after read-side de-duplication, byte for byte as the models received it.
 */
class DecoyCrashIT {

  static final String PROBLEM = "decoy-crash";
  static final Topics TOPICS = Topics.of(PROBLEM);
  static final int N = 1200;

  @TempDir Path dir;

  @Test
  void everyRequestIsArchivedExactlyOnceAndByteIdenticalAcrossAKillAndARestart() throws Exception {
    try (EmbeddedKafka broker = EmbeddedKafka.start(dir.resolve("kafka"), 0)) {
      String bootstrap = broker.bootstrapServers();
      KafkaTopics.ensure(bootstrap, List.of(TOPICS.input(), TOPICS.scores(), TOPICS.outcomes()), 2, (short) 1);
      Path archive = dir.resolve("archive");

      Process first = startDecoy(bootstrap, archive);
      CompletableFuture<Void> sent;
      try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of("bootstrap.servers", bootstrap,
          "linger.ms", "0"), new StringSerializer(), new ByteArraySerializer())) {
        // Requests stream in, paced, while the decoy is killed part-way through them.
        sent = CompletableFuture.runAsync(() -> {
          Random random = new Random(7);
          for (int i = 0; i < N; i++) {
            InferenceRequest r = request("req-" + i, random);
            producer.send(new ProducerRecord<>(TOPICS.input(), r.requestId(), Json.encode(r)));
            if (i % 10 == 0) {
              producer.flush();
              sleepMs(5);
            }
          }
          producer.flush();
        });
        waitUntil(() -> committed(bootstrap) >= N / 4, 60_000);
        first.destroyForcibly().waitFor(30, TimeUnit.SECONDS); // SIGKILL: no shutdown hook, no last commit
        long committedAtKill = committed(bootstrap);
        assertThat(committedAtKill).as("killed mid-way").isLessThan(N);
        sent.get(60, TimeUnit.SECONDS);
      }

      Process second = startDecoy(bootstrap, archive);
      waitUntil(() -> committed(bootstrap) >= N, 60_000);
      second.destroy(); // SIGTERM this time: a clean stop
      assertThat(second.waitFor(30, TimeUnit.SECONDS)).isTrue();

      // A kill between a sync and its commit is a narrow window; make it certain: forget the commits of the
      // second half, as if the process had died right after writing it, and let a third decoy read it again.
      rewindHalfway(bootstrap);
      Process third = startDecoy(bootstrap, archive);
      waitUntil(() -> committed(bootstrap) >= N, 60_000);
      third.destroy();
      assertThat(third.waitFor(30, TimeUnit.SECONDS)).isTrue();

      Map<String, byte[]> received = whatTheModelsReceived(bootstrap);
      assertThat(received).hasSize(N);

      List<Path> segments = new ArchiveLayout(archive).segments(PROBLEM, Kind.INPUT, 0);
      List<ArchivedRecord> raw = new ArrayList<>();
      ArchiveReader.readAll(segments, Kind.INPUT, raw::add, n -> {});
      List<ArchivedRecord> distinct = ArchiveReader.readDistinct(segments, Kind.INPUT);
      System.out.printf("decoy crash test: %d segments, %d lines, %d distinct requests%n", segments.size(),
          raw.size(), distinct.size());

      assertThat(segments.size()).as("each run's own segments").isGreaterThanOrEqualTo(3);
      assertThat(raw.size()).as("the rewound half is in the archive twice").isGreaterThanOrEqualTo(N + N / 2 - 2);
      assertThat(distinct).hasSize(N);
      Map<String, Integer> seen = new HashMap<>();
      for (ArchivedRecord a : distinct) {
        seen.merge(a.requestId(), 1, Integer::sum);
        assertThat(a.value()).as(a.requestId()).isEqualTo(received.get(a.requestId()));
        InferenceRequest request = a.request();
        assertThat(a.receivedAtUs()).isEqualTo(request.receivedAtUs());
        assertThat(a.deadlineAtUs()).isEqualTo(request.deadlineAtUs());
        assertThat(a.clientId()).isEqualTo(request.clientId());
      }
      assertThat(seen.keySet()).isEqualTo(received.keySet());
      assertThat(seen.values()).containsOnly(1);
    }
  }

  private static InferenceRequest request(String id, Random random) {
    double[] features = new double[30];
    for (int i = 0; i < features.length; i++) {
      // Awkward doubles on purpose: they must come back with every digit as the proxy wrote them.
      features[i] = (float) (random.nextGaussian() * 100) / 7.0;
    }
    long now = Clock.SYSTEM.nowMicros();
    return new InferenceRequest(id, "client-" + id, PROBLEM, TOPICS.results() + ":0", now, now + 50_000,
        List.of(new Tensor("features", "FP32", new long[] {1, 30}, features)));
  }

  private Process startDecoy(String bootstrap, Path archive) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Path schedules = Files.createDirectories(dir.resolve("schedules"));
    Files.writeString(schedules.resolve(PROBLEM + ".yaml"), TestSystems.schedule(PROBLEM));
    Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        "-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"), "dev.rendezvous.Main", "decoy",
        "--bootstrap-servers", bootstrap, "--partitions", "2", "--schedules", schedules.toString(),
        "--archive", archive.toString(), "--archive-flush-interval-ms", "20")
        .redirectError(ProcessBuilder.Redirect.appendTo(dir.resolve("decoy.log").toFile()))
        .start();
    BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line = CompletableFuture.supplyAsync(() -> {
      try {
        return out.readLine();
      } catch (Exception e) {
        return null;
      }
    }).get(90, TimeUnit.SECONDS);
    assertThat(line).as("decoy start-up; see " + dir.resolve("decoy.log")).isEqualTo("READY decoy " + archive);
    return p;
  }

  /** Moves the decoy group's committed offsets on the input topic back to half of each partition. */
  private static void rewindHalfway(String bootstrap) throws Exception {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      String group = "rdv." + PROBLEM + ".decoy";
      Map<TopicPartition, OffsetAndMetadata> rewound = new HashMap<>();
      admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS)
          .forEach((tp, om) -> {
            if (tp.topic().equals(TOPICS.input()) && om != null) {
              rewound.put(tp, new OffsetAndMetadata(om.offset() / 2));
            }
          });
      admin.alterConsumerGroupOffsets(group, rewound).all().get(10, TimeUnit.SECONDS);
    }
  }

  /** Records of the decoy's group committed on the input topic. */
  private static long committed(String bootstrap) {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets("rdv." + PROBLEM + ".decoy")
          .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
      return offsets.entrySet().stream().filter(e -> e.getKey().topic().equals(TOPICS.input()) && e.getValue() != null)
          .mapToLong(e -> e.getValue().offset()).sum();
    } catch (Exception e) {
      return 0;
    }
  }

  /** Reads the input topic from the start, as a model runner does: request id to record value. */
  private static Map<String, byte[]> whatTheModelsReceived(String bootstrap) {
    Map<String, byte[]> out = new HashMap<>();
    try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(Map.of("bootstrap.servers", bootstrap,
        "group.id", "model-view", "auto.offset.reset", "earliest"), new StringDeserializer(),
        new ByteArrayDeserializer())) {
      c.subscribe(List.of(TOPICS.input()));
      long until = System.currentTimeMillis() + 30_000;
      while (out.size() < N && System.currentTimeMillis() < until) {
        for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
          out.put(r.key(), r.value());
        }
      }
    }
    return out;
  }

  interface Condition {
    boolean holds() throws Exception;
  }

  static void waitUntil(Condition condition, long timeoutMs) {
    await("the decoys' commits").atMost(Duration.ofMillis(timeoutMs)).pollInterval(Duration.ofMillis(20))
        .until(condition::holds);
  }

  static void sleepMs(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
