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
}
