package dev.rendezvous.schedule;

import static dev.rendezvous.schedule.Fixtures.CANARY;
import static dev.rendezvous.schedule.Fixtures.GBT;
import static dev.rendezvous.schedule.Fixtures.LOGREG;
import static dev.rendezvous.schedule.Fixtures.MLP;
import static dev.rendezvous.schedule.Fixtures.breastCancer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rendezvous.common.Role;
import dev.rendezvous.common.Tensor;
import dev.rendezvous.common.TensorSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The schedule's arithmetic and matching: margin, cutoff, tier lists and the batched default. */
class ScheduleTest {

  private final Schedule schedule = breastCancer();

  @Test
  void margin_is_deadline_50ms_minus_last_tier_end_45ms() {
    assertThat(schedule.marginMs()).isEqualTo(5.0);
  }

  @Test
  void cutoff_for_the_schedule_deadline_of_50ms_is_the_last_tier_end_45ms() {
    assertThat(schedule.cutoffMs(50)).isEqualTo(45.0);
  }

  @Test
  void cutoff_for_a_longer_request_budget_of_100ms_stays_at_45ms() {
    assertThat(schedule.cutoffMs(100)).isEqualTo(45.0);
  }

  @Test
  void cutoff_for_a_shorter_request_budget_of_40ms_keeps_the_5ms_margin_so_is_35ms() {
    assertThat(schedule.cutoffMs(40)).isEqualTo(35.0);
  }

  @Test
  void cutoff_for_a_budget_of_3ms_below_the_margin_is_negative_so_the_default_is_due_at_once() {
    assertThat(schedule.cutoffMs(3)).isEqualTo(-2.0);
  }

  @Test
  void tier_0_accepts_only_the_champion() {
    assertThat(schedule.accepts(0, GBT, "1", Role.SERVING)).isTrue();
    assertThat(schedule.accepts(0, MLP, "1", Role.SERVING)).isFalse();
  }

  @Test
  void tier_1_ranks_the_champion_before_the_second_model_and_refuses_others() {
    assertThat(schedule.rank(1, GBT, "1", Role.SERVING)).isEqualTo(0);
    assertThat(schedule.rank(1, MLP, "1", Role.SERVING)).isEqualTo(1);
    assertThat(schedule.rank(1, LOGREG, "1", Role.SERVING)).isEqualTo(-1);
  }

  @Test
  void tier_2_wildcard_accepts_every_serving_model_but_never_the_canary() {
    assertThat(schedule.accepts(2, LOGREG, "1", Role.SERVING)).isTrue();
    assertThat(schedule.accepts(2, "never-heard-of", "1", Role.SERVING)).isTrue();
    assertThat(schedule.accepts(2, CANARY, "1", Role.CANARY)).isFalse();
  }

  @Test
  void explicit_name_accepts_the_canary_whatever_its_role() {
    Tier tier = new Tier(30, List.of(CANARY, "*"));
    assertThat(tier.rank(CANARY, "1", Role.CANARY)).isEqualTo(0);
    assertThat(tier.rank(GBT, "1", Role.SERVING)).isEqualTo(1);
  }

  @Test
  void an_entry_with_a_version_accepts_that_version_only_and_a_bare_id_any_version() {
    Tier tier = new Tier(30, List.of(MLP + "@3", GBT));
    assertThat(tier.rank(MLP, "3", Role.SERVING)).isEqualTo(0);
    assertThat(tier.rank(MLP, "2", Role.SERVING)).isEqualTo(-1);
    assertThat(tier.rank(MLP, "33", Role.SERVING)).isEqualTo(-1);
    assertThat(tier.rank(GBT, "7", Role.SERVING)).isEqualTo(1);
    assertThat(tier.rank(GBT + "x", "7", Role.SERVING)).isEqualTo(-1);
    assertThat(Tier.modelIdOf(MLP + "@3")).isEqualTo(MLP);
  }

  @Test
  void default_for_a_request_of_3_rows_repeats_the_one_row_default_3_times() {
    assertThat(schedule.defaultOutputs(3)).containsExactly(
        new Tensor("probability", "FP32", new long[] {3, 1}, new double[] {0, 0, 0}));
  }

  @Test
  void default_of_several_columns_repeats_whole_rows() {
    Schedule twoColumns = new Schedule("p", 50,
        List.of(new TensorSpec("x", "FP32", new long[] {-1, 1})),
        List.of(new TensorSpec("y", "FP32", new long[] {-1, 2}), new TensorSpec("n", "INT64", new long[] {-1})),
        List.of(new Tier(45, List.of("*"))),
        List.of(new Tensor("y", "FP32", new long[] {1, 2}, new double[] {0.25, 0.75}),
            new Tensor("n", "INT64", new long[] {1}, new double[] {-1})),
        "test");
    assertThat(twoColumns.defaultOutputs(2)).containsExactly(
        new Tensor("y", "FP32", new long[] {2, 2}, new double[] {0.25, 0.75, 0.25, 0.75}),
        new Tensor("n", "INT64", new long[] {2}, new double[] {-1, -1}));
  }

  @Test
  void default_for_one_row_is_the_default_itself_and_is_not_shared_with_callers() {
    List<Tensor> one = schedule.defaultOutputs(1);
    assertThat(one).isEqualTo(schedule.defaultOutputs());
    one.get(0).data()[0] = 42;
    assertThat(schedule.defaultOutputs().get(0).data()[0]).isEqualTo(0.0);
  }

  @Test
  void default_for_a_negative_row_count_is_refused() {
    assertThatThrownBy(() -> schedule.defaultOutputs(-1)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void schedule_without_tiers_is_refused() {
    assertThatThrownBy(() -> new Schedule("p", 50, List.of(), List.of(), List.of(), List.of(), "test"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
