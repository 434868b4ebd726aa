package dev.rendezvous.rendezvous;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The rendezvous's bounds: the documented defaults, and no bound of zero. */
class RendezvousConfigTest {

  @Test
  void the_defaults_are_the_documented_ones() {
    assertThat(RendezvousConfig.defaults("p", "k:9092"))
        .isEqualTo(new RendezvousConfig("p", "k:9092", 100_000, 10_000, 100_000, 10_000, 1_000_000));
  }

  @Test
  void a_bound_of_zero_is_refused() {
    assertThatThrownBy(() -> new RendezvousConfig("p", "k", 0, 1, 1, 1, 1))
        .hasMessage("maxPending must be positive, not 0");
  }
}
