package dev.rendezvous.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The suite's options on a command line, and the settings they make. */
class BenchSuiteOptionsTest {

  static final class Holder {
    @CommandLine.Mixin
    BenchSuiteOptions options = new BenchSuiteOptions();
  }

  static BenchSuite.Settings parse(String... args) {
    Holder h = new Holder();
    new CommandLine(h).parseArgs(args);
    return h.options.settings(Path.of("."), List.of(250.0, 500.0), 10_000, 1000, 8, 64, Path.of("out"));
  }

  @Test
  void the_defaults_repeat_three_times_and_warm_up_until_the_jit_is_quiet_for_at_most_a_minute() {
    BenchSuite.Settings s = parse();
    assertThat(s.quick()).isFalse();
    assertThat(s.repetitions()).isEqualTo(3);
    assertThat(s.warmUp().fixedMs()).isZero();
    assertThat(s.warmUp().minMs()).isEqualTo(10_000);
    assertThat(s.warmUp().maxMs()).isEqualTo(300_000);
    assertThat(s.warmUp().windowMs()).isEqualTo(10_000);
    assertThat(s.warmUp().quietMsPerSecond()).isEqualTo(20.0);
    assertThat(s.scenarioWarmUp().windowMs()).isEqualTo(5_000);
    assertThat(s.scenarioWarmUp().maxMs()).isEqualTo(15_000);
    assertThat(s.rates()).containsExactly(250.0, 500.0);
    assertThat(s.floodWorkers()).isEqualTo(256);
    assertThat(s.metricsPollers()).isEqualTo(48);
    assertThat(s.metricsRate()).isEqualTo(100.0);
    assertThat(s.shape().withRunners(5)).isEqualTo(FanOutRelay.Shape.embeddedDefault(5));
    assertThat(s.generatorProcess()).as("the load comes from a JVM of its own").isTrue();
  }

  @Test
  void a_number_of_seconds_makes_the_warm_up_fixed() {
    BenchSuite.Settings s = parse("--warmup", "60", "--repetitions", "5", "--fanout-runners", "3",
        "--fanout-shared-input=false", "--fanout-score-watchers", "2", "--generator-process=false");
    assertThat(s.warmUp().fixedMs()).isEqualTo(60_000);
    assertThat(s.repetitions()).isEqualTo(5);
    assertThat(s.shape()).isEqualTo(new FanOutRelay.Shape(3, false, 1, 2));
    assertThat(s.shape().withRunners(5).runners()).as("an explicit count stays").isEqualTo(3);
    assertThat(s.generatorProcess()).isFalse();
  }

  @Test
  void quick_replaces_the_suite_settings_with_short_ones() {
    BenchSuite.Settings s = parse("--quick", "--repetitions", "5");
    assertThat(s.quick()).isTrue();
    assertThat(s.repetitions()).isEqualTo(1);
    assertThat(s.rates()).containsExactly(100.0);
    assertThat(s.durationMs()).isLessThanOrEqualTo(2_000);
    assertThat(s.out()).isEqualTo(Path.of("out"));
    assertThat(s.generatorProcess()).as("the smoke run goes through the child process too").isTrue();
  }

  @Test
  void a_warm_up_that_is_neither_auto_nor_a_number_is_refused_with_its_value() {
    assertThatThrownBy(() -> parse("--warmup", "long")).hasMessageContaining("'long'");
  }
}
