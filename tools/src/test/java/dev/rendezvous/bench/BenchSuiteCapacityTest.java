package dev.rendezvous.bench;

import static dev.rendezvous.bench.BenchReportTest.outcome;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The capacity section of the suite's report: which rate each system held, and the target's ratio. */
class BenchSuiteCapacityTest {

  static final LoadGenerator.Outcome HELD = outcome(1_000, 0, 0, 0);
  static final LoadGenerator.Outcome REFUSED_ONE = outcome(1_000, 0, 1, 0); // 99% within the SLA
  static final LoadGenerator.Outcome ONE_DEFAULT = outcome(1_000, 1, 0, 0); // 1% defaults

  static void add(List<Measurement> to, String system, double rate, LoadGenerator.Outcome... runs) {
    for (int i = 0; i < runs.length; i++) {
      to.add(new Measurement(system, rate, i + 1, runs[i], null));
    }
  }

  @Test
  void a_rate_is_held_by_the_median_of_its_runs_on_both_the_sla_and_the_defaults() {
    List<Measurement> m = new ArrayList<>();
    add(m, "a", 100, HELD, REFUSED_ONE, HELD);
    add(m, "b", 100, REFUSED_ONE, HELD, REFUSED_ONE);
    add(m, "c", 100, HELD, ONE_DEFAULT, ONE_DEFAULT);
    assertThat(BenchSuite.holds(m, "a")).isTrue();
    assertThat(BenchSuite.holds(m, "b")).isFalse();
    assertThat(BenchSuite.holds(m, "c")).as("too many defaults").isFalse();
    assertThat(BenchSuite.holds(m, "absent")).isFalse();
  }

  @Test
  void each_capacity_is_the_last_rate_held_before_the_first_missed_and_the_ratio_says_when_it_is_a_bound() {
    List<Measurement> m = new ArrayList<>();
    List<Double> rates = List.of(250.0, 500.0, 1000.0, 2000.0);
    for (double rate : rates) {
      add(m, "bare relay", rate, HELD, HELD, HELD);
    }
    add(m, "fan-out relay", 250, HELD, HELD, HELD);
    add(m, "fan-out relay", 500, HELD, HELD, HELD);
    add(m, "fan-out relay", 1000, REFUSED_ONE, REFUSED_ONE, HELD);
    add(m, "direct", 250, HELD);
    add(m, "direct", 500, HELD);
    add(m, "direct", 1000, HELD);
    add(m, "rendezvous", 250, HELD, HELD, HELD);
    add(m, "rendezvous", 500, HELD, HELD, HELD);
    add(m, "rendezvous", 1000, ONE_DEFAULT, ONE_DEFAULT, HELD);

    String section = BenchSuite.capacities(m, rates);
    assertThat(section).contains("| bare relay | >= 2000 | not reached |")
        .contains("| fan-out relay | 500 | 1000 |")
        .contains("| direct | >= 1000 | not reached (not measured from 2000 on) |")
        .contains("| rendezvous | 500 | 1000 |")
        .contains("Full rendezvous / bare relay: 500 / 2000 = 0.25 (target: at least 0.5); the bare relay's limit "
            + "was not reached");

    add(m, "bare relay", 4000, REFUSED_ONE, HELD, REFUSED_ONE);
    String reached = BenchSuite.capacities(m, List.of(250.0, 500.0, 1000.0, 2000.0, 4000.0));
    assertThat(reached).contains("| bare relay | 2000 | 4000 |")
        .contains("Full rendezvous / bare relay: 500 / 2000 = 0.25 (target: at least 0.5)\n");
  }
}
