package dev.rendezvous.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Which results partition each instance of a proxy reads, and how many partitions the results topics need. */
class ProxyConfigTest {

  static ProxyConfig proxy(int firstPartition, int instances) {
    return new ProxyConfig("127.0.0.1", 0, 1 << 20, "p", firstPartition, instances, "kafka:9092");
  }

  @Test
  void instance_i_reads_the_first_partition_plus_i_and_the_topic_needs_one_past_the_last() {
    ProxyConfig c = proxy(4, 3);
    assertThat(IntStream.range(0, 3).map(c::resultsPartition)).containsExactly(4, 5, 6);
    assertThat(c.resultsPartitionsNeeded()).isEqualTo(7);
    assertThat(proxy(0, 1).resultsPartition(0)).isZero();
    assertThat(proxy(0, 1).resultsPartitionsNeeded()).isEqualTo(1);
  }

  @Test
  void an_instance_outside_the_proxy_has_no_partition() {
    assertThatThrownBy(() -> proxy(4, 3).resultsPartition(3)).isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> proxy(4, 3).resultsPartition(-1)).isInstanceOf(IndexOutOfBoundsException.class);
  }

  @Test
  void replicas_of_a_stateful_set_read_disjoint_partitions_that_leave_none_unread_between_them() {
    int instances = 4;
    Set<Integer> read = new HashSet<>();
    for (int ordinal = 0; ordinal < 3; ordinal++) {
      ProxyConfig c = proxy(ProxyConfig.firstResultsPartitionOfReplica(ordinal, instances), instances);
      for (int i = 0; i < instances; i++) {
        assertThat(read.add(c.resultsPartition(i))).as("replica %d instance %d", ordinal, i).isTrue();
      }
    }
    assertThat(read).containsExactlyInAnyOrderElementsOf(IntStream.range(0, 12).boxed().toList());
    assertThat(proxy(ProxyConfig.firstResultsPartitionOfReplica(2, instances), instances).resultsPartitionsNeeded())
        .isEqualTo(12);
  }

  @Test
  void a_proxy_has_at_least_one_instance_and_by_default_one_per_processor() {
    assertThatThrownBy(() -> proxy(0, 0)).hasMessageContaining("at least one instance");
    assertThatThrownBy(() -> proxy(-1, 1)).hasMessageContaining("cannot be negative");
    assertThat(ProxyConfig.defaults("kafka:9092").instances()).isEqualTo(Runtime.getRuntime().availableProcessors());
    assertThat(ProxyConfig.defaults("kafka:9092").withInstances(3).instances()).isEqualTo(3);
    int processors = Runtime.getRuntime().availableProcessors();
    assertThat(ProxyConfig.defaultInstancesBesideThePipeline()).as("beside the pipeline: half the processors")
        .isEqualTo(Math.max(1, processors / 2));
  }
}
