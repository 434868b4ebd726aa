package dev.rendezvous.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KafkaSettingsTest {

  @Test
  void defaults_favour_latency() {
    assertThat(KafkaSettings.producer("b:1")).containsEntry("linger.ms", "1")
        .containsEntry("bootstrap.servers", "b:1");
    assertThat(KafkaSettings.consumer("b:1")).containsEntry("fetch.min.bytes", "1")
        .containsEntry("fetch.max.wait.ms", "100");
  }

  @Test
  void request_path_writes_wait_for_every_in_sync_replica_and_are_never_written_twice() {
    assertThat(KafkaSettings.producer("b:1")).containsEntry("acks", "all").containsEntry("enable.idempotence", "true")
        .doesNotContainKeys("delivery.timeout.ms", "request.timeout.ms", "retries");
  }

  @Test
  void request_path_clients_look_for_a_new_leader_every_quarter_second_at_most() {
    assertThat(KafkaSettings.producer("b:1")).containsEntry("retry.backoff.max.ms", "250");
    assertThat(KafkaSettings.consumer("b:1")).containsEntry("retry.backoff.max.ms", "250");
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
    // Outcomes have no deadline: their send waits for metadata as long as their delivery may take.
    assertThat(KafkaSettings.outcomeProducer("b:1")).containsEntry("max.block.ms", "5000")
        .containsEntry("linger.ms", "1").containsEntry("acks", "all").containsEntry("enable.idempotence", "true")
        .containsEntry("request.timeout.ms", "2000").containsEntry("delivery.timeout.ms", "5000")
        .containsEntry("bootstrap.servers", "b:1");
    assertThat(KafkaSettings.admin("b:1")).containsOnlyKeys("bootstrap.servers");
  }

  @Test
  void outcome_settings_override_the_producer_settings_they_start_from() {
    System.setProperty("rdv.kafka.producer.linger.ms", "7");
    System.setProperty("rdv.kafka.producer.max.block.ms", "300");
    System.setProperty("rdv.kafka.outcomes.delivery.timeout.ms", "8000");
    System.setProperty("rdv.kafka.outcomes.max.block.ms", "8000");
    try {
      assertThat(KafkaSettings.outcomeProducer("b:1")).containsEntry("linger.ms", "7")
          .containsEntry("delivery.timeout.ms", "8000").containsEntry("max.block.ms", "8000");
      assertThat(KafkaSettings.producer("b:1")).doesNotContainKey("delivery.timeout.ms")
          .containsEntry("max.block.ms", "300");
    } finally {
      System.clearProperty("rdv.kafka.producer.linger.ms");
      System.clearProperty("rdv.kafka.producer.max.block.ms");
      System.clearProperty("rdv.kafka.outcomes.delivery.timeout.ms");
      System.clearProperty("rdv.kafka.outcomes.max.block.ms");
    }
  }

  @Test
  void security_settings_of_the_environment_reach_every_kind_of_client() {
    Map<String, String> env = Map.of(
        "RDV_KAFKA_SECURITY_PROTOCOL", "SASL_SSL",
        "RDV_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512",
        "RDV_KAFKA_SASL_JAAS_CONFIG", "org.apache.kafka.common.security.scram.ScramLoginModule required;",
        "RDV_KAFKA_SSL_TRUSTSTORE_LOCATION", "/etc/kafka/truststore.p12",
        "RDV_KAFKA_SSL_TRUSTSTORE_TYPE", "PKCS12",
        "RDV_KAFKA_CHECK_MS", "1000",
        "RDV_KAFKA_PRODUCER_LINGER_MS", "5");
    assertThat(KafkaSettings.client("b:1", env, new Properties())).containsOnly(
        Map.entry("bootstrap.servers", "b:1"),
        Map.entry("security.protocol", "SASL_SSL"),
        Map.entry("sasl.mechanism", "SCRAM-SHA-512"),
        Map.entry("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required;"),
        Map.entry("ssl.truststore.location", "/etc/kafka/truststore.p12"),
        Map.entry("ssl.truststore.type", "PKCS12"));
  }

  @Test
  void the_properties_file_comes_first_then_the_environment_then_system_properties(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("client.properties");
    Files.writeString(file, "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\n"
        + "client.dns.lookup=use_all_dns_ips\nbootstrap.servers=ignored:9\n");
    Properties system = new Properties();
    system.setProperty("rdv.kafka.sasl.mechanism", "SCRAM-SHA-256");
    Map<String, String> settings = KafkaSettings.client("b:1", Map.of(KafkaSettings.PROPERTIES_FILE_ENV,
        file.toString(), "RDV_KAFKA_SECURITY_PROTOCOL", "SASL_SSL", "RDV_KAFKA_SASL_MECHANISM", "PLAIN"), system);
    assertThat(settings).containsEntry("security.protocol", "SASL_SSL")
        .containsEntry("sasl.mechanism", "SCRAM-SHA-256")
        .containsEntry("client.dns.lookup", "use_all_dns_ips")
        .containsEntry("bootstrap.servers", "b:1");
  }

  @Test
  void a_properties_file_that_cannot_be_read_stops_with_its_name(@TempDir Path dir) {
    Path missing = dir.resolve("nope.properties");
    assertThatThrownBy(() -> KafkaSettings.client("b:1", Map.of(KafkaSettings.PROPERTIES_FILE_ENV,
        missing.toString()), new Properties()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("RDV_KAFKA_PROPERTIES_FILE").hasMessageContaining(missing.toString());
  }

  @Test
  void request_path_and_admin_settings_start_from_the_client_settings(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("client.properties");
    Files.writeString(file, "security.protocol=SASL_PLAINTEXT\nlinger.ms=3\n");
    System.setProperty(KafkaSettings.PROPERTIES_FILE_PROPERTY, file.toString());
    System.setProperty("rdv.kafka.producer.linger.ms", "7");
    try {
      assertThat(KafkaSettings.producer("b:1")).containsEntry("security.protocol", "SASL_PLAINTEXT")
          .containsEntry("linger.ms", "7");
      assertThat(KafkaSettings.consumer("b:1")).containsEntry("security.protocol", "SASL_PLAINTEXT")
          .containsEntry("linger.ms", "3");
      assertThat(KafkaSettings.outcomeProducer("b:1")).containsEntry("security.protocol", "SASL_PLAINTEXT");
      assertThat(KafkaSettings.adminProperties("b:1")).containsEntry("security.protocol", "SASL_PLAINTEXT");
      assertThat(KafkaSettings.clientProperties("b:1")).containsEntry("security.protocol", "SASL_PLAINTEXT");
    } finally {
      System.clearProperty(KafkaSettings.PROPERTIES_FILE_PROPERTY);
      System.clearProperty("rdv.kafka.producer.linger.ms");
    }
  }
}
