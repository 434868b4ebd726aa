package dev.rendezvous.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.rendezvous.common.Arrival;
import dev.rendezvous.common.Result;
import dev.rendezvous.common.Role;
import dev.rendezvous.common.Score;
import dev.rendezvous.common.Tensor;
import dev.rendezvous.schedule.Decision;
import dev.rendezvous.schedule.Schedule;
import dev.rendezvous.schedule.ScheduleLoader;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The what-if replay on traffic written by hand, so that every number below can be checked with pencil and
 * paper. The recorded schedule waits for "slow" only until 30 ms, then takes "fast"; the proposed one waits for
 * "slow" until 60 ms.
 */
class WhatIfTest {

  static Schedule schedule(long slowOnlyUntilMs) {
    return ScheduleLoader.parse("""
        problem: p
        deadline_ms: 120
        inputs: [{name: x, datatype: FP32, shape: [-1, 1]}]
        outputs: [{name: y, datatype: FP32, shape: [-1, 1]}]
        tiers:
          - {until_ms: %d, accept: [slow]}
          - {until_ms: 100, accept: [slow, fast]}
        default: {outputs: [{name: y, datatype: FP32, shape: [1, 1], data: [0]}]}
        """.formatted(slowOnlyUntilMs), "test");
  }

  static Arrival fast(double atMs) {
    return new Arrival("fast", "1", Role.SERVING, atMs, false);
  }

  static Arrival slow(double atMs) {
    return new Arrival("slow", "1", Role.SERVING, atMs, false);
  }

  static Result result(String id, String answeredBy, Integer tier, double elapsedMs, List<Arrival> arrivals) {
    return new Result(id, null, "p", answeredBy, "1", tier, answeredBy.equals(Result.DEFAULT), "accepted", elapsedMs,
        List.of(), 1, arrivals, 0);
  }

  /**
   * r1: slow at 25 ms, taken in tier 0 under both. r2, r3: fast at 4 and 6 ms, taken at 30 ms when tier 1 began;
   * slow came later (42 and 55 ms, after the decision). r4: slow failed, fast taken at 30 ms; with the proposal
   * at 60 ms.
   */
  static List<WhatIf.Recorded> traffic() {
    return List.of(
        WhatIf.Recorded.of(result("r1", "slow", 0, 25, List.of(fast(5), slow(25)))),
        new WhatIf.Recorded(result("r2", "fast", 1, 30, List.of(fast(4))), null, List.of(fast(4), slow(42)), 1),
        new WhatIf.Recorded(result("r3", "fast", 1, 30, List.of(fast(6))), null, List.of(fast(6), slow(55)), 1),
        WhatIf.Recorded.of(result("r4", "fast", 1, 30, List.of(fast(8),
            new Arrival("slow", "1", Role.SERVING, 10, true)))));
  }

  @Test
  void waiting_longer_for_the_slow_model_raises_its_share_and_the_latency_by_what_the_arrivals_imply() {
    WhatIf.Report report = WhatIf.replay(traffic(), schedule(60));

    assertThat(report.recorded().share("slow")).isEqualTo(0.25);
    assertThat(report.recorded().share("fast")).isEqualTo(0.75);
    assertThat(report.recorded().meanLatencyMs()).isCloseTo((25 + 30 + 30 + 30) / 4.0, within(1e-9));

    // r2 and r3 now wait for slow (42, 55 ms); r4's slow failed, so fast is taken when tier 1 begins at 60 ms.
    assertThat(report.proposed().share("slow")).isEqualTo(0.75);
    assertThat(report.proposed().share("fast")).isEqualTo(0.25);
    assertThat(report.proposed().byTier()).isEqualTo(Map.of("tier 0", 3L, "tier 1", 1L));
    assertThat(report.proposed().meanLatencyMs()).isCloseTo((25 + 42 + 55 + 60) / 4.0, within(1e-9));
    assertThat(report.proposed().latencyMs(100)).isCloseTo(60, within(0.1));
    assertThat(report.proposed().latencyMs(50)).isCloseTo(42, within(0.1));
    assertThat(report.proposed().defaultRate()).isZero();
    assertThat(report.changed()).isEqualTo(2);
    assertThat(report.changedShare()).isEqualTo(0.5);
    assertThat(report.estimatedArrivals()).isEqualTo(2);
    assertThat(report.assumedBudgets()).isEqualTo(4);
    assertThat(report.format()).contains("answered by slow", "25.0%", "75.0%", "50.0% of requests (2 of 4)");
  }

  @Test
  void replaying_the_recorded_schedule_gives_back_the_recorded_decisions() {
    WhatIf.Report report = WhatIf.replay(traffic(), schedule(30));

    assertThat(report.changed()).isZero();
    assertThat(report.proposed().byModel()).isEqualTo(report.recorded().byModel());
    assertThat(report.proposed().meanLatencyMs()).isCloseTo(report.recorded().meanLatencyMs(), within(1e-9));
  }

  @Test
  void a_request_with_its_own_short_deadline_is_cut_at_that_deadline_minus_the_margin() {
    // Deadline 120, last tier 100: margin 20. A 50 ms budget cuts at 30 ms, before slow (42 ms) arrives.
    Decision d = WhatIf.decide(schedule(60), "r", List.of(fast(4), slow(42)), 50);
    assertThat(d.isDefault()).isTrue();
    assertThat(d.elapsedMs()).isEqualTo(30.0);

    Decision full = WhatIf.decide(schedule(60), "r", List.of(fast(4), slow(42)), 120);
    assertThat(full.chosen().modelId()).isEqualTo("slow");
    assertThat(full.elapsedMs()).isEqualTo(42.0);
  }

  @Test
  void nothing_acceptable_ever_arriving_gives_the_default_at_the_end_of_the_last_tier() {
    Decision d = WhatIf.decide(schedule(60), "r", List.of(new Arrival("canary", "1", Role.CANARY, 3, false)), 120);
    assertThat(d.isDefault()).isTrue();
    assertThat(d.elapsedMs()).isEqualTo(100.0);
  }

  @Test
  void a_score_after_the_decision_is_placed_at_its_finish_time_plus_the_models_measured_delay() {
    // fast finished at 4 ms and was recorded arriving at 5 ms: a delay of 1 ms; slow finished at 41 ms, after
    // the decision at 30 ms, so it is estimated to arrive at 41 + 1 = 42 ms (its own delay is unknown).
    Result r = result("r", "fast", 1, 30, List.of(fast(5)));
    Map<String, List<Score>> scores = Map.of("r", List.of(score("fast", 4), score("slow", 41)));
    List<WhatIf.Recorded> joined = RecordedTraffic.join(List.of(r), Map.of("r", 120.0), scores);

    assertThat(joined).hasSize(1);
    assertThat(joined.get(0).budgetMs()).isEqualTo(120.0);
    assertThat(joined.get(0).estimated()).isEqualTo(1);
    assertThat(joined.get(0).arrivals()).containsExactly(fast(5), slow(42));
  }

  static Score score(String model, double finishedMs) {
    return new Score("r", model, "1", Role.SERVING, List.of(new Tensor("y", "FP32", new long[] {1, 1},
        new double[] {0.5})), null, model + "-runner", "cpu", 1_000_000, 1_000_000 + Math.round(finishedMs * 1000), 10);
  }
}
