package dev.rendezvous.decoy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rendezvous.common.Clock;
import dev.rendezvous.common.InferenceRequest;
import dev.rendezvous.common.Json;
import dev.rendezvous.common.Tensor;
import dev.rendezvous.common.Topics;
import dev.rendezvous.broker.EmbeddedKafka;
import dev.rendezvous.kafka.KafkaTopics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The disk under the archive fills up while requests keep coming, then gets room again: the decoy turns not
 * ready and says why in its meters, commits nothing past what is on disk, and, once there is room, archives
 * every request exactly once (read without de-duplication) and is ready again, all by itself.
 */
class DecoyDiskFullIT {

  static final String PROBLEM = "decoy-disk-full";
  static final Topics TOPICS = Topics.of(PROBLEM);
  static final long WAIT_MS = 60_000;

  @Test
  void a_full_disk_stops_commits_and_readiness_and_the_decoy_resumes_by_itself_once_there_is_room(@TempDir Path dir)
      throws Exception {
    try (EmbeddedKafka broker = EmbeddedKafka.start(dir.resolve("kafka"), 0)) {
      String bootstrap = broker.bootstrapServers();
      KafkaTopics.ensure(bootstrap, List.of(TOPICS.input(), TOPICS.scores(), TOPICS.outcomes()), 1, (short) 1);
      Path archive = dir.resolve("archive");
      DecoyConfig config = DecoyConfig.defaults(PROBLEM, archive).withFlushIntervalMs(50);
      FillableDisk disk = new FillableDisk();
      SimpleMeterRegistry meters = new SimpleMeterRegistry();
      String loop = "decoy-" + PROBLEM;
      try (Decoy decoy = new Decoy(config, bootstrap, Clock.SYSTEM, meters, disk).start();
           KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of("bootstrap.servers", bootstrap),
               new StringSerializer(), new ByteArraySerializer())) {
        decoy.assigned().get(WAIT_MS, TimeUnit.MILLISECONDS);
        send(producer, 0, 20);
        producer.send(new ProducerRecord<>(TOPICS.input(), "garbage",
            "\u0000not json".getBytes(StandardCharsets.UTF_8))).get();
        await("the first 20 archived", () -> committed(bootstrap) == 21 && decoy.archived() == 20);
        assertThat(decoy.health().ready()).isTrue();
        assertThat(meters.get("rdv.consumer.poison.skipped").tags("loop", loop, "topic", TOPICS.input()).counter()
            .count()).as("the garbage record is skipped, not archived").isEqualTo(1);

        disk.fill();
        send(producer, 20, 50);
        await("several writes refused", () -> disk.refused() >= 3);
        assertThat(decoy.health().ready()).isFalse();
        assertThat(decoy.health().reason()).contains("No space left on device");
        assertThat(decoy.failing()).isTrue();
        assertThat(gauge(meters, "rdv.decoy.failing")).isEqualTo(1);
        assertThat(gauge(meters, "rdv.decoy.last.failure.timestamp")).isPositive();
        assertThat(meters.get("rdv.decoy.write.failures").tag("problem", PROBLEM).counter().count()).isPositive();
        assertThat(meters.get("rdv.consumer.ready").tag("loop", loop).gauge().value()).isZero();
        await("the lag shows the records waiting",
            () -> meters.get("rdv.consumer.lag").tag("loop", loop).gauge().value() > 0);
        assertThat(committed(bootstrap)).as("nothing committed past what is on disk").isEqualTo(21);
        assertThat(decoy.archived()).isEqualTo(20);
        assertThat(decoy.terminated()).as("it keeps trying (fail_after_ms 0)").isNotDone();

        disk.free();
        long freedAt = System.nanoTime();
        await("all 50 archived and ready again", () -> committed(bootstrap) == 51 && decoy.health().ready());
        System.out.printf("decoy ready again %d ms after the disk had room (%d writes refused)%n",
            (System.nanoTime() - freedAt) / 1_000_000, disk.refused());
        assertThat(decoy.archived()).isEqualTo(50);
        assertThat(decoy.failing()).isFalse();
        assertThat(gauge(meters, "rdv.decoy.failing")).isZero();
        assertThat(meters.get("rdv.decoy.archived").tags("problem", PROBLEM, "kind", "input").counter().count())
            .isEqualTo(50);
      }
      List<String> lines = new ArrayList<>();
      ArchiveReader.readAll(new ArchiveLayout(archive).segments(PROBLEM, Kind.INPUT, 0), Kind.INPUT,
          r -> lines.add(r.requestId()), n -> { });
      assertThat(lines).as("every request once, without read-side de-duplication")
          .containsExactlyInAnyOrderElementsOf(IntStream.range(0, 50).mapToObj(i -> "req-" + i).toList());
    }
  }

  private static void send(KafkaProducer<String, byte[]> producer, int from, int to) throws Exception {
    long now = Clock.SYSTEM.nowMicros();
    for (int i = from; i < to; i++) {
      InferenceRequest r = new InferenceRequest("req-" + i, null, PROBLEM, TOPICS.results() + ":0", now,
          now + 50_000, List.of(new Tensor("features", "FP32", new long[] {1, 2}, new double[] {i, 0.5})));
      producer.send(new ProducerRecord<>(TOPICS.input(), r.requestId(), Json.encode(r)));
    }
    producer.flush();
  }

  private static double gauge(SimpleMeterRegistry meters, String name) {
    return meters.get(name).tag("problem", PROBLEM).gauge().value();
  }

  private static void await(String what, BooleanSupplier condition) {
    Awaitility.await(what).atMost(Duration.ofMillis(WAIT_MS)).pollInterval(Duration.ofMillis(100))
        .until(condition::getAsBoolean);
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
}
