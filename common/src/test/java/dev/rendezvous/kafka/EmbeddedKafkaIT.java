package dev.rendezvous.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

import dev.rendezvous.broker.EmbeddedKafka;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedKafkaIT {

  @Test
  void records_written_before_a_restart_on_the_same_directory_are_still_there(@TempDir Path dir) throws Exception {
    try (EmbeddedKafka broker = EmbeddedKafka.start(dir, 0)) {
      KafkaTopics.ensure(broker.bootstrapServers(), List.of("kept"), 1, (short) 1);
      Properties p = new Properties();
      p.put("bootstrap.servers", broker.bootstrapServers());
      try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(),
          new StringSerializer())) {
        producer.send(new ProducerRecord<>("kept", "k", "before restart")).get();
      }
    }
    try (EmbeddedKafka broker = EmbeddedKafka.start(dir, 0)) {
      Properties c = new Properties();
      c.put("bootstrap.servers", broker.bootstrapServers());
      c.put("group.id", "reader");
      c.put("auto.offset.reset", "earliest");
      List<String> values = new ArrayList<>();
      try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c, new StringDeserializer(),
          new StringDeserializer())) {
        consumer.subscribe(List.of("kept"));
        long until = System.currentTimeMillis() + 20_000;
        while (values.isEmpty() && System.currentTimeMillis() < until) {
          for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
            values.add(r.value());
          }
        }
      }
      assertThat(values).containsExactly("before restart");
    }
  }

  @Test
  void topics_with_another_partition_count_than_configured_are_refused(@TempDir Path dir) {
    try (EmbeddedKafka broker = EmbeddedKafka.start(dir, 0)) {
      KafkaTopics.ensure(broker.bootstrapServers(), List.of("a"), 2, (short) 1);
      assertThatThrownBy(() -> KafkaTopics.ensure(broker.bootstrapServers(), List.of("a"), 4, (short) 1))
          .hasMessageContaining("topic a has 2 partitions but 4 are configured");
    }
  }

  @Test
  void topics_read_by_partition_get_at_least_the_partitions_asked_and_keep_any_more(@TempDir Path dir)
      throws Exception {
    try (EmbeddedKafka broker = EmbeddedKafka.start(dir, 0)) {
      String bootstrap = broker.bootstrapServers();
      KafkaTopics.ensure(bootstrap, List.of("fewer"), 2, (short) 1);
      KafkaTopics.ensure(bootstrap, List.of("more"), 5, (short) 1);
      KafkaTopics.ensureAtLeast(bootstrap, List.of("fewer", "more", "missing"), 3, (short) 1);
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
        Map<String, Integer> counts = new TreeMap<>();
        admin.describeTopics(List.of("fewer", "more", "missing")).allTopicNames().get()
            .forEach((name, d) -> counts.put(name, d.partitions().size()));
        assertThat(counts).containsExactly(entry("fewer", 3), entry("missing", 3), entry("more", 5));
      }
      KafkaTopics.ensureAtLeast(bootstrap, List.of("fewer"), 3, (short) 1); // nothing to do the second time
    }
  }
}
