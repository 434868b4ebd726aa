package dev.rendezvous.rendezvous;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The rendezvous's bounds as the environment sets them, and the defaults when it does not. */
class RendezvousConfigTest {

  @Test
  void an_empty_environment_gives_the_documented_defaults() {
    assertThat(RendezvousConfig.fromEnvironment("p", "k:9092", Map.of()))
        .isEqualTo(new RendezvousConfig("p", "k:9092", 100_000, 10_000, 100_000, 10_000, 1_000_000))
        .isEqualTo(RendezvousConfig.defaults("p", "k:9092"));
  }

  @Test
  void each_variable_overrides_its_own_bound() {
    RendezvousConfig config = RendezvousConfig.fromEnvironment("p", "k:9092", Map.of(
        "RDV_MAX_PENDING", "500", "RDV_ORPHAN_TTL_MS", "2000", "RDV_MAX_ORPHANS", "300",
        "RDV_DECIDED_TTL_MS", "4000", "RDV_MAX_DECIDED", " 7000 "));

    assertThat(config).isEqualTo(new RendezvousConfig("p", "k:9092", 500, 2_000, 300, 4_000, 7_000));
  }

  @Test
  void a_value_that_is_not_a_positive_whole_number_is_refused_naming_the_variable() {
    assertThatThrownBy(() -> RendezvousConfig.fromEnvironment("p", "k", Map.of("RDV_ORPHAN_TTL_MS", "10s")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("environment variable RDV_ORPHAN_TTL_MS must be a positive whole number, not '10s'");
    assertThatThrownBy(() -> RendezvousConfig.fromEnvironment("p", "k", Map.of("RDV_MAX_DECIDED", "0")))
        .hasMessageContaining("RDV_MAX_DECIDED");
  }

  @Test
  void a_bound_of_zero_is_refused() {
    assertThatThrownBy(() -> new RendezvousConfig("p", "k", 0, 1, 1, 1, 1))
        .hasMessage("maxPending must be positive, not 0");
  }
}
