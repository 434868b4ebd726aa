package dev.rendezvous.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The warm-up's stopping rule, driven by a made-up clock and compilation series: each slice advances the clock by
 * its length, and the compiler's total grows by the next value of the series.
 */
class JitWarmUpTest {

  /** A fake JVM: time moves only when a slice runs; compilation grows by the series' next step per slice. */
  static final class FakeJvm {
    long nowMs = 1_000_000;
    long compileMs = 5_000;
    final long[] growthPerSlice;
    final List<Long> slices = new ArrayList<>();
    int slice;

    FakeJvm(long... growthPerSlice) {
      this.growthPerSlice = growthPerSlice;
    }

    void run(long ms) {
      slices.add(ms);
      nowMs += ms;
      compileMs += growthPerSlice[Math.min(slice++, growthPerSlice.length - 1)];
    }
  }

  @Test
  void the_detector_needs_a_whole_window_before_it_calls_the_jit_quiet() {
    JitWarmUp.Detector d = new JitWarmUp.Detector(10_000, 20);
    d.add(0, 0);
    d.add(5_000, 10);
    assertThat(d.rate()).isNaN();
    assertThat(d.quiet()).isFalse();
    d.add(10_000, 20);
    assertThat(d.rate()).isEqualTo(2.0);
    assertThat(d.quiet()).isTrue();
  }

  @Test
  void the_detector_measures_over_the_last_window_only() {
    JitWarmUp.Detector d = new JitWarmUp.Detector(10_000, 20);
    d.add(0, 0);
    d.add(10_000, 5_000); // 500 ms/s: busy
    assertThat(d.quiet()).isFalse();
    d.add(20_000, 5_100); // the last 10 s: 10 ms/s
    assertThat(d.rate()).isEqualTo(10.0);
    assertThat(d.quiet()).isTrue();
  }

  @Test
  void warm_up_ends_at_the_first_slice_after_which_the_last_window_was_quiet() throws Exception {
    // 2 s slices; the compiler spends 800 ms per slice (400 ms/s) for 5 slices, then 10 ms per slice (5 ms/s).
    FakeJvm jvm = new FakeJvm(800, 800, 800, 800, 800, 10);
    JitWarmUp.Result r = JitWarmUp.run(new JitWarmUp.Policy(0, 0, 60_000, 10_000, 20, 2_000), jvm::run,
        () -> jvm.nowMs, () -> jvm.compileMs);
    // Quiet once the 10 s window holds only quiet slices: slices 6-10 end at 20 s.
    assertThat(r.quiet()).isTrue();
    assertThat(r.elapsedMs()).isEqualTo(20_000);
    assertThat(r.lastRateMsPerSecond()).isEqualTo(5.0);
    assertThat(r.compileMs()).isEqualTo(5 * 800 + 5 * 10);
  }

  @Test
  void a_jit_that_never_quiets_down_is_cut_at_the_upper_bound() throws Exception {
    FakeJvm jvm = new FakeJvm(500);
    JitWarmUp.Result r = JitWarmUp.run(new JitWarmUp.Policy(0, 0, 60_000, 10_000, 20, 2_000), jvm::run,
        () -> jvm.nowMs, () -> jvm.compileMs);
    assertThat(r.quiet()).isFalse();
    assertThat(r.elapsedMs()).isEqualTo(60_000);
    assertThat(r.lastRateMsPerSecond()).isEqualTo(250.0);
  }

  @Test
  void a_quiet_jit_still_warms_up_for_the_minimum() throws Exception {
    FakeJvm jvm = new FakeJvm(0);
    JitWarmUp.Result r = JitWarmUp.run(new JitWarmUp.Policy(0, 30_000, 60_000, 10_000, 20, 2_000), jvm::run,
        () -> jvm.nowMs, () -> jvm.compileMs);
    assertThat(r.quiet()).isTrue();
    assertThat(r.elapsedMs()).isEqualTo(30_000);
  }

  @Test
  void a_fixed_warm_up_runs_its_length_in_slices_whatever_the_jit_does() throws Exception {
    FakeJvm jvm = new FakeJvm(0);
    JitWarmUp.Result r = JitWarmUp.run(new JitWarmUp.Policy(5_000, 0, 5_000, 10_000, 20, 2_000), jvm::run,
        () -> jvm.nowMs, () -> jvm.compileMs);
    assertThat(r.quiet()).isFalse();
    assertThat(r.elapsedMs()).isEqualTo(5_000);
    assertThat(jvm.slices).containsExactly(2_000L, 2_000L, 1_000L);
  }

  @Test
  void without_compilation_time_the_warm_up_lasts_its_upper_bound() throws Exception {
    FakeJvm jvm = new FakeJvm(0);
    JitWarmUp.Result r = JitWarmUp.run(new JitWarmUp.Policy(0, 0, 8_000, 2_000, 20, 2_000), jvm::run,
        () -> jvm.nowMs, () -> -1);
    assertThat(r.quiet()).isFalse();
    assertThat(r.elapsedMs()).isEqualTo(8_000);
    assertThat(r.lastRateMsPerSecond()).isNaN();
    assertThat(r.describe()).contains("8.0 s").contains("n/a");
  }
}
