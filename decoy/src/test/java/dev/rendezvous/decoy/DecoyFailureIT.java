package dev.rendezvous.decoy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.rendezvous.common.Clock;
import dev.rendezvous.common.InferenceRequest;
import dev.rendezvous.common.Json;
import dev.rendezvous.common.Tensor;
import dev.rendezvous.common.Topics;
import dev.rendezvous.broker.EmbeddedKafka;
import dev.rendezvous.kafka.KafkaTopics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A decoy that cannot write its archive does not die silently: it retries with backoff for its {@code
 * fail_after_ms}, then stops reading, says so in its health and its meters, and has committed nothing it did not
 * write, so that the next decoy archives the record.
 */
class DecoyFailureIT {

  static final String PROBLEM = "decoy-failure";
  static final Topics TOPICS = Topics.of(PROBLEM);

  @Test
  void a_decoy_that_cannot_write_retries_then_turns_not_ready_and_loses_nothing(@TempDir Path dir)
      throws Exception {
    try (EmbeddedKafka broker = EmbeddedKafka.start(dir.resolve("kafka"), 0)) {
      String bootstrap = broker.bootstrapServers();
      KafkaTopics.ensure(bootstrap, List.of(TOPICS.input(), TOPICS.scores(), TOPICS.outcomes()), 1, (short) 1);
      Path archive = dir.resolve("archive");
      ArchiveLayout layout = new ArchiveLayout(archive);
      // A file where the problem's directory belongs: every attempt to open a segment fails.
      Files.createDirectories(archive);
      Files.writeString(layout.problemDir(PROBLEM), "in the way");
      DecoyConfig config = DecoyConfig.defaults(PROBLEM, archive).withFailAfterMs(1500);

      long now = Clock.SYSTEM.nowMicros();
      InferenceRequest request = new InferenceRequest("r-1", "client-1", PROBLEM, TOPICS.results() + ":0", now,
          now + 50_000, List.of(new Tensor("features", "FP32", new long[] {1, 2}, new double[] {1.5, 2.5})));
      byte[] value = Json.encode(request);
      Properties p = new Properties();
      p.put("bootstrap.servers", bootstrap);
      try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(),
          new ByteArraySerializer())) {
        producer.send(new ProducerRecord<>(TOPICS.input(), request.requestId(), value)).get();
      }

      SimpleMeterRegistry meters = new SimpleMeterRegistry();
      String loop = "decoy-" + PROBLEM;
      try (Decoy decoy = new Decoy(config, bootstrap, Clock.SYSTEM, meters).start()) {
        await("the decoy gives up").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
            .until(() -> meters.get("rdv.consumer.failures").tag("loop", loop).counter().count() >= 1);
        assertThat(decoy.health().ready()).isFalse();
        assertThat(decoy.health().reason()).startsWith("failed:").contains("cannot write its archive");
        assertThat(decoy.terminated()).failsWithin(Duration.ofSeconds(30));
        double attempts = meters.get("rdv.consumer.handler.errors").tag("loop", loop).counter().count();
        assertThat(attempts).as("the first attempt and retries for 1.5 s (0.1, 0.2, 0.4, 0.8 s apart)")
            .isBetween(2.0, 6.0);
        assertThat(meters.get("rdv.consumer.retries").tag("loop", loop).counter().count()).isEqualTo(attempts - 1);
        assertThat(meters.get("rdv.decoy.write.failures").tag("problem", PROBLEM).counter().count())
            .isEqualTo(attempts);
        assertThat(meters.get("rdv.consumer.ready").tag("loop", loop).gauge().value()).isZero();
        assertThat(decoy.committed()).isZero();
        assertThat(decoy.archived()).isZero();
      }

      // The disk is fixed; the next decoy in the group starts from the last commit, before the record.
      Files.delete(layout.problemDir(PROBLEM));
      try (Decoy decoy = new Decoy(config, bootstrap, Clock.SYSTEM, meters).start()) {
        await("the record is archived").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
            .until(() -> decoy.committed() >= 1);
        assertThat(decoy.health().ready()).isTrue();
      }
      List<ArchivedRecord> archived = ArchiveReader.readDistinct(layout.segments(PROBLEM, Kind.INPUT, 0), Kind.INPUT);
      assertThat(archived).extracting(ArchivedRecord::requestId).containsExactly("r-1");
      assertThat(archived.get(0).value()).isEqualTo(value);
    }
  }
}
