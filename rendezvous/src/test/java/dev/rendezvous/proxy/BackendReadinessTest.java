package dev.rendezvous.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rendezvous.common.Role;
import dev.rendezvous.rollout.ScoreObserver.Sighting;
import dev.rendezvous.schedule.Schedule;
import dev.rendezvous.schedule.ScheduleLoader;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class BackendReadinessTest {

  static final String NAMED = """
      problem: p
      deadline_ms: 50
      inputs: [{name: features, datatype: FP32, shape: [-1, 30]}]
      outputs: [{name: probability, datatype: FP32, shape: [-1, 1]}]
      tiers:
        - {until_ms: 25, accept: [bc-mlp]}
        - {until_ms: 35, accept: [bc-mlp, bc-gbt]}
      default:
        outputs: [{name: probability, datatype: FP32, shape: [1, 1], data: [0.0]}]
      """;

  static Sighting seen(String model, Role role, long lastSeenUs) {
    return new Sighting("p", model, "1", role, "cpu", Set.of("r"), 10, 0, lastSeenUs, 1, 2);
  }

  @Test
  void only_models_that_a_tier_accepts_count() {
    Schedule named = ScheduleLoader.parse(NAMED, "test");
    List<Sighting> seen = List.of(seen("bc-gbt", Role.SERVING, 200), seen("bc-torch", Role.SERVING, 900),
        seen("bc-canary", Role.CANARY, 1_000));
    assertThat(BackendReadiness.lastAcceptedScoreUs(named, seen)).as("bc-gbt, named by the second tier")
        .isEqualTo(200);
    assertThat(BackendReadiness.lastAcceptedScoreUs(named, List.of(seen("bc-torch", Role.SERVING, 900))))
        .as("a shadow model the schedule does not name").isEqualTo(Long.MIN_VALUE);
    assertThat(BackendReadiness.lastAcceptedScoreUs(named, List.of())).isEqualTo(Long.MIN_VALUE);
  }

  @Test
  void any_serving_model_counts_where_a_tier_accepts_any_but_never_a_canary() {
    Schedule any = ScheduleLoader.parse(NAMED.replace("accept: [bc-mlp, bc-gbt]", "accept: [\"*\"]"), "test");
    assertThat(BackendReadiness.lastAcceptedScoreUs(any, List.of(seen("bc-torch", Role.SERVING, 900),
        seen("bc-canary", Role.CANARY, 1_000)))).isEqualTo(900);
    assertThat(BackendReadiness.lastAcceptedScoreUs(any, List.of(seen("bc-canary", Role.CANARY, 1_000))))
        .isEqualTo(Long.MIN_VALUE);
  }

  @Test
  void settings_come_from_the_environment_and_are_checked() {
    assertThat(BackendReadiness.Settings.fromEnvironment(Map.of())).isEqualTo(BackendReadiness.Settings.defaults());
    assertThat(BackendReadiness.Settings.fromEnvironment(Map.of("RDV_READY_CHECK_MS", "500",
        "RDV_READY_SCORED_WITHIN_MS", "3000"))).isEqualTo(new BackendReadiness.Settings(500, 3000));
    assertThatThrownBy(() -> BackendReadiness.Settings.fromEnvironment(Map.of("RDV_READY_CHECK_MS", "1s")))
        .hasMessageContaining("RDV_READY_CHECK_MS");
    assertThatThrownBy(() -> new BackendReadiness.Settings(1000, 1500)).hasMessageContaining("twice");
  }
}
