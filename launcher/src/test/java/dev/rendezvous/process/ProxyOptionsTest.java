package dev.rendezvous.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ProxyOptionsTest {

  @Test
  void a_results_partition_is_a_number_or_the_ordinal_of_a_stateful_set_pod() {
    assertThat(ProxyOptions.resultsPartition("3", "anything")).isEqualTo(3);
    assertThat(ProxyOptions.resultsPartition("ordinal", "proxy-0")).isZero();
    assertThat(ProxyOptions.resultsPartition("ordinal", "rendezvous-proxy-12")).isEqualTo(12);
  }

  @Test
  void with_several_instances_a_stateful_set_pod_starts_at_its_ordinal_times_the_instances_and_a_number_as_given() {
    assertThat(ProxyOptions.firstResultsPartition("ordinal", "proxy-0", 4)).isZero();
    assertThat(ProxyOptions.firstResultsPartition("ordinal", "proxy-2", 4)).isEqualTo(8);
    assertThat(ProxyOptions.firstResultsPartition("ordinal", "proxy-2", 1)).isEqualTo(2);
    assertThat(ProxyOptions.firstResultsPartition("5", "proxy-2", 4)).isEqualTo(5);
  }

  @Test
  void ordinal_on_a_host_name_without_one_says_what_is_wrong() {
    assertThatThrownBy(() -> ProxyOptions.resultsPartition("ordinal", "proxy-7f9c8d-abcde"))
        .hasMessageContaining("proxy-7f9c8d-abcde").hasMessageContaining("-<number>");
  }
}
