package dev.rendezvous.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.apache.kafka.common.Uuid;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How a node of a cluster on this machine reads its quorum, before any broker starts. */
class EmbeddedKafkaTest {

  static final String VOTERS = "1@127.0.0.1:9093,2@127.0.0.1:9095,3@127.0.0.1:9097";

  @TempDir Path dir;

  @Test
  void nodes_given_the_same_voters_are_formatted_with_the_same_cluster_id_and_other_voters_with_another() {
    String id = EmbeddedKafka.clusterIdOf(VOTERS);
    assertThat(Uuid.fromString(id).toString()).isEqualTo(id);
    assertThat(EmbeddedKafka.clusterIdOf(" " + VOTERS + " ")).isEqualTo(id);
    assertThat(EmbeddedKafka.clusterIdOf("1@127.0.0.1:9093,2@127.0.0.1:9095")).isNotEqualTo(id);
  }

  @Test
  void the_voters_give_each_node_its_controller_port() {
    assertThat(EmbeddedKafka.parseVoters(VOTERS)).containsExactly(java.util.Map.entry(1, 9093),
        java.util.Map.entry(2, 9095), java.util.Map.entry(3, 9097));
  }

  @Test
  void a_voter_elsewhere_than_loopback_a_node_listed_twice_or_a_node_not_listed_is_refused() {
    assertThatThrownBy(() -> EmbeddedKafka.parseVoters("1@10.0.0.1:9093")).hasMessageContaining("127.0.0.1");
    assertThatThrownBy(() -> EmbeddedKafka.parseVoters("1@127.0.0.1:9093,1@127.0.0.1:9095"))
        .hasMessageContaining("listed twice");
    assertThatThrownBy(() -> EmbeddedKafka.startNode(dir, 0, 4, VOTERS, null))
        .hasMessageContaining("node 4 is not among the quorum voters");
  }
}
