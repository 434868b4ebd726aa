package dev.rendezvous.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The suite's warm-up: the rates it steps through, and which system runs at which rate in each slice. */
class BenchSuiteWarmUpTest {

  @Test
  void the_ladder_starts_at_the_warm_up_rate_and_climbs_through_every_higher_rate_measured() {
    assertThat(BenchSuite.warmUpLadder(250, List.of(1000.0, 250.0, 4000.0, 500.0, 100.0)))
        .containsExactly(250.0, 500.0, 1000.0, 4000.0);
    assertThat(BenchSuite.warmUpLadder(250, List.of(1000.0))).containsExactly(250.0, 1000.0);
    assertThat(BenchSuite.warmUpLadder(250, List.of(100.0))).as("nothing measured above the warm-up rate")
        .containsExactly(250.0);
  }

  @Test
  void every_target_runs_at_every_step_once_per_pass_and_the_rate_steps_up_each_round() {
    List<BenchSuite.Target> targets = List.of(target("a"), target("b"), target("c"));
    List<Double> ladder = List.of(250.0, 1000.0);
    List<String> slices = new ArrayList<>();
    for (int k = 0; k < 8; k++) {
      BenchSuite.Turn t = BenchSuite.turn(targets, ladder, k);
      slices.add(t.target().name() + "@" + Math.round(t.rate()));
    }
    assertThat(slices).containsExactly("a@250", "b@250", "c@250", "a@1000", "b@1000", "c@1000",
        "a@250", "b@250");
  }

  private static BenchSuite.Target target(String name) {
    return new BenchSuite.Target(name, "http://127.0.0.1:1", "p", false);
  }
}
