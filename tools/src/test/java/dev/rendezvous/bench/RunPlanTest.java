package dev.rendezvous.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Repetitions alternate the systems instead of running one system's repetitions back to back. */
class RunPlanTest {

  @Test
  void every_repetition_visits_every_system_in_turn() {
    List<RunPlan.Step<String>> plan = RunPlan.alternating(List.of("A", "B", "C"), 3);
    assertThat(plan).extracting(RunPlan.Step::system)
        .containsExactly("A", "B", "C", "A", "B", "C", "A", "B", "C");
    assertThat(plan).extracting(RunPlan.Step::repetition).containsExactly(1, 1, 1, 2, 2, 2, 3, 3, 3);
  }

  @Test
  void one_repetition_is_one_round() {
    assertThat(RunPlan.alternating(List.of("A", "B"), 1)).containsExactly(new RunPlan.Step<>(1, "A"),
        new RunPlan.Step<>(1, "B"));
  }

  @Test
  void fewer_than_one_repetition_is_refused() {
    assertThatThrownBy(() -> RunPlan.alternating(List.of("A"), 0)).hasMessageContaining("at least 1");
  }
}
