package dev.rendezvous.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The event loop's standing delay, judged like a controlled-delay queue: target 5 ms, interval 100 ms. */
class EventLoopLagTest {

  final EventLoopLag lag = new EventLoopLag(5_000, 100_000);

  /** A probe every 10 ms from {@code fromMs}, each fired {@code lateMs} late; returns the next due time. */
  long probes(long fromMs, int count, long lateMs) {
    long due = fromMs;
    for (int i = 0; i < count; i++) {
      lag.probed(due * 1000, (due + lateMs) * 1000);
      due += 10 + lateMs;
    }
    return due;
  }

  @Test
  void one_long_pause_is_not_a_standing_delay() {
    long t = probes(0, 5, 0);
    lag.probed(t * 1000, (t + 40) * 1000); // a 40 ms garbage-collection pause
    assertThat(lag.lastLagUs()).isEqualTo(40_000);
    probes(t + 50, 20, 1);
    assertThat(lag.overloaded()).isFalse();
    assertThat(lag.lastLagUs()).isEqualTo(1_000);
  }

  @Test
  void a_delay_above_the_target_for_a_whole_interval_is_overload_until_one_probe_is_on_time() {
    long t = probes(0, 3, 0);
    // Probes 6 ms late: the first at t + 6, then every 16 ms; the interval ends 100 ms after the first.
    t = probes(t, 6, 6);
    assertThat(lag.overloaded()).as("late for 80 ms of the 100 ms interval").isFalse();
    t = probes(t, 2, 6);
    assertThat(lag.overloaded()).as("late for 112 ms").isTrue();
    probes(t, 1, 5);
    assertThat(lag.overloaded()).as("a probe within the target ends it").isFalse();
  }

  @Test
  void late_probes_with_one_on_time_among_them_start_the_interval_again() {
    long t = probes(0, 5, 8);
    t = probes(t, 1, 0);
    t = probes(t, 5, 8);
    assertThat(lag.overloaded()).isFalse();
    probes(t, 3, 8);
    assertThat(lag.overloaded()).isTrue();
  }
}
