package dev.rendezvous.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class KafkaSettingsTest {

  @Test
  void defaults_favour_latency() {
    assertThat(KafkaSettings.producer("b:1")).containsEntry("linger.ms", "1").containsEntry("acks", "1")
        .containsEntry("bootstrap.servers", "b:1");
    assertThat(KafkaSettings.consumer("b:1")).containsEntry("fetch.min.bytes", "1")
        .containsEntry("fetch.max.wait.ms", "100");
  }

  @Test
  void a_system_property_overrides_a_default_and_adds_a_setting() {
    System.setProperty("rdv.kafka.producer.linger.ms", "2");
    System.setProperty("rdv.kafka.consumer.max.poll.records", "50");
    try {
      assertThat(KafkaSettings.producer("b:1")).containsEntry("linger.ms", "2");
      assertThat(KafkaSettings.consumerProperties("b:1")).containsEntry("max.poll.records", "50");
    } finally {
      System.clearProperty("rdv.kafka.producer.linger.ms");
      System.clearProperty("rdv.kafka.consumer.max.poll.records");
    }
  }

  @Test
  void sends_block_half_a_second_at_most_and_outcomes_time_out_within_seconds() {
    assertThat(KafkaSettings.producer("b:1")).containsEntry("max.block.ms", "500");
    assertThat(KafkaSettings.outcomeProducer("b:1")).containsEntry("max.block.ms", "500")
        .containsEntry("linger.ms", "1").containsEntry("acks", "all").containsEntry("enable.idempotence", "true")
        .containsEntry("request.timeout.ms", "2000").containsEntry("delivery.timeout.ms", "5000")
        .containsEntry("bootstrap.servers", "b:1");
    assertThat(KafkaSettings.admin("b:1")).containsOnlyKeys("bootstrap.servers");
  }

  @Test
  void outcome_settings_override_the_producer_settings_they_start_from() {
    System.setProperty("rdv.kafka.producer.max.block.ms", "300");
    System.setProperty("rdv.kafka.outcomes.delivery.timeout.ms", "8000");
    try {
      assertThat(KafkaSettings.outcomeProducer("b:1")).containsEntry("max.block.ms", "300")
          .containsEntry("delivery.timeout.ms", "8000");
      assertThat(KafkaSettings.producer("b:1")).doesNotContainKey("delivery.timeout.ms");
    } finally {
      System.clearProperty("rdv.kafka.producer.max.block.ms");
      System.clearProperty("rdv.kafka.outcomes.delivery.timeout.ms");
    }
  }
}
