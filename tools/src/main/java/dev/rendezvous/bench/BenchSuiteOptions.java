package dev.rendezvous.bench;

import dev.rendezvous.runtime.JitWarmUp;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The options of {@code bench --suite} beyond the rates and durations it shares with a plain {@code bench} run;
 * each falls back to an environment variable {@code RDV_BENCH_*}. Documented in docs/benchmark.md.
 */
public final class BenchSuiteOptions {

  @Option(names = "--quick", defaultValue = "${env:RDV_BENCH_QUICK:-false}",
      description = "Smoke run of the whole suite: one repetition, 3 s of fixed warm-up, 2 s per measurement, "
          + "100 req/s, 1 to 2 models, 2 s floods; ignores the other suite settings but --out (implies --suite).")
  boolean quick;

  @Option(names = "--repetitions", defaultValue = "${env:RDV_BENCH_REPETITIONS:-3}",
      description = "Times each measurement is taken, systems alternating (default: ${DEFAULT-VALUE}).")
  int repetitions;

  @Option(names = "--warmup", defaultValue = "${env:RDV_BENCH_WARMUP:-auto}",
      description = "Warm-up before the first measurement: 'auto' (until the JIT is quiet, within --warmup-min "
          + "and --warmup-max) or a fixed number of seconds (default: ${DEFAULT-VALUE}).")
  String warmUp;

  @Option(names = "--warmup-min", defaultValue = "${env:RDV_BENCH_WARMUP_MIN:-10}",
      description = "Shortest automatic warm-up, seconds (default: ${DEFAULT-VALUE}).")
  double warmUpMinSeconds;

  @Option(names = "--warmup-max", defaultValue = "${env:RDV_BENCH_WARMUP_MAX:-300}",
      description = "Longest automatic warm-up, seconds (default: ${DEFAULT-VALUE}).")
  double warmUpMaxSeconds;

  @Option(names = "--jit-quiet-ms", defaultValue = "${env:RDV_BENCH_JIT_QUIET_MS:-20}",
      description = "The JIT counts as quiet when it compiled less than this many milliseconds per second over "
          + "--jit-window (default: ${DEFAULT-VALUE}).")
  double jitQuietMsPerSecond;

  @Option(names = "--jit-window", defaultValue = "${env:RDV_BENCH_JIT_WINDOW:-10}",
      description = "Window of the JIT's compilation rate, seconds (default: ${DEFAULT-VALUE}).")
  double jitWindowSeconds;

  @Option(names = "--warmup-rate", defaultValue = "${env:RDV_BENCH_WARMUP_RATE:-250}",
      description = "Load during warm-ups, requests per second (default: ${DEFAULT-VALUE}).")
  double warmUpRate;

  @Option(names = "--scenario-warmup-max", defaultValue = "${env:RDV_BENCH_SCENARIO_WARMUP_MAX:-15}",
      description = "Longest warm-up of each system started for the fault and model-count scenarios, seconds; "
          + "they warm up until the JIT is quiet over half of --jit-window, at least that long "
          + "(default: ${DEFAULT-VALUE}).")
  double scenarioWarmUpMaxSeconds;

  @Option(names = "--lead-in", defaultValue = "${env:RDV_BENCH_LEAD_IN:-2}",
      description = "Seconds at the measured rate right before each measurement, not recorded "
          + "(default: ${DEFAULT-VALUE}).")
  double leadInSeconds;

  @Option(names = "--flood-workers", defaultValue = "${env:RDV_BENCH_FLOOD_WORKERS:-256}",
      description = "Concurrent connections of the flood, each sending as soon as it is answered "
          + "(default: ${DEFAULT-VALUE}).")
  int floodWorkers;

  @Option(names = "--flood-duration", defaultValue = "${env:RDV_BENCH_FLOOD_DURATION:-10}",
      description = "Seconds per flood (default: ${DEFAULT-VALUE}).")
  double floodSeconds;

  @Option(names = "--metrics-pollers", defaultValue = "${env:RDV_BENCH_METRICS_POLLERS:-48}",
      description = "Concurrent pollers of /metrics in the /metrics flood (default: ${DEFAULT-VALUE}).")
  int metricsPollers;

  @Option(names = "--metrics-rate", defaultValue = "${env:RDV_BENCH_METRICS_RATE:-100}",
      description = "Scoring rate beside the /metrics pollers, requests per second (default: ${DEFAULT-VALUE}).")
  double metricsRate;

  @Option(names = "--metrics-duration", defaultValue = "${env:RDV_BENCH_METRICS_DURATION:-10}",
      description = "Seconds per /metrics flood (default: ${DEFAULT-VALUE}).")
  double metricsSeconds;

  @Option(names = "--fanout-runners", defaultValue = "${env:RDV_BENCH_FANOUT_RUNNERS:-0}",
      description = "Runner-like relays of the fan-out relay; 0 = as many as the demo problem's runners "
          + "(default: ${DEFAULT-VALUE}).")
  int fanOutRunners;

  @Option(names = "--fanout-shared-input", defaultValue = "${env:RDV_BENCH_FANOUT_SHARED_INPUT:-true}",
      description = "Fan-out relay: one input consumer and one score producer for all runner-like relays, "
          + "as a runner host has them; false: one each, like runners in processes of their own (default: "
          + "${DEFAULT-VALUE}).")
  boolean fanOutSharedInput;

  @Option(names = "--fanout-input-watchers", defaultValue = "${env:RDV_BENCH_FANOUT_INPUT_WATCHERS:-1}",
      description = "Fan-out relay: decoy-like readers of input, scores and outcomes (default: ${DEFAULT-VALUE}).")
  int fanOutInputWatchers;

  @Option(names = "--fanout-score-watchers", defaultValue = "${env:RDV_BENCH_FANOUT_SCORE_WATCHERS:-1}",
      description = "Fan-out relay: readers of scores only, like the one consumer that the score monitor and "
          + "the status page's observer share (default: ${DEFAULT-VALUE}).")
  int fanOutScoreWatchers;

  @Option(names = "--generator-process", defaultValue = "${env:RDV_BENCH_GENERATOR_PROCESS:-true}",
      description = "Send the load from a JVM of its own, as users' clients do; false: from the JVM of the systems "
          + "measured, whose collections and scheduling it then shares (default: ${DEFAULT-VALUE}).")
  boolean generatorProcess;

  public boolean quick() {
    return quick;
  }

  /** The suite's settings from these options and the ones shared with a plain run. */
  public BenchSuite.Settings settings(Path root, List<Double> rates, long durationMs, double fixedRate,
      int maxModels, int connections, Path out) {
    if (quick) {
      return BenchSuite.Settings.quick(root, out);
    }
    long windowMs = Math.round(jitWindowSeconds * 1000);
    JitWarmUp.Policy warm;
    if (warmUp.equalsIgnoreCase("auto")) {
      warm = new JitWarmUp.Policy(0, Math.round(warmUpMinSeconds * 1000), Math.round(warmUpMaxSeconds * 1000),
          windowMs, jitQuietMsPerSecond, 2_000);
    } else {
      double seconds;
      try {
        seconds = Double.parseDouble(warmUp);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--warmup must be 'auto' or a number of seconds, not '" + warmUp + "'");
      }
      long ms = Math.max(1, Math.round(seconds * 1000));
      warm = new JitWarmUp.Policy(ms, 0, ms, windowMs, jitQuietMsPerSecond, 2_000);
    }
    long scenarioMax = Math.round(scenarioWarmUpMaxSeconds * 1000);
    long scenarioWindow = Math.max(1_000, windowMs / 2);
    JitWarmUp.Policy scenarioWarm = new JitWarmUp.Policy(0, Math.min(scenarioWindow, scenarioMax), scenarioMax,
        scenarioWindow, jitQuietMsPerSecond, 1_000);
    FanOutRelay.Shape shape = new FanOutRelay.Shape(fanOutRunners, fanOutSharedInput, fanOutInputWatchers,
        fanOutScoreWatchers);
    return new BenchSuite.Settings(root, rates, durationMs, fixedRate, maxModels, connections, out, repetitions,
        warm, scenarioWarm, warmUpRate, Math.round(leadInSeconds * 1000), shape, floodWorkers,
        Math.round(floodSeconds * 1000), metricsPollers, metricsRate, Math.round(metricsSeconds * 1000), false,
        generatorProcess);
  }
}
