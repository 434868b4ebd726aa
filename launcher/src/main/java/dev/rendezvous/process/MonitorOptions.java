package dev.rendezvous.process;

import dev.rendezvous.canary.MonitorConfig;
import picocli.CommandLine.Option;

/** The score monitor's statistics (docs/monitor.md says why each default). */
public final class MonitorOptions {

  @Option(names = "--monitor-reference-size", defaultValue = "${env:RDV_MONITOR_REFERENCE_SIZE:-1000}",
      description = "A model version's first scores that form its reference.")
  int referenceSize;

  @Option(names = "--monitor-window-size", defaultValue = "${env:RDV_MONITOR_WINDOW_SIZE:-200}",
      description = "Scores per tested window; each full window is tested once against the reference.")
  int windowSize;

  @Option(names = "--monitor-bins", defaultValue = "${env:RDV_MONITOR_BINS:-10}",
      description = "Bins cut at the reference's quantiles.")
  int bins;

  @Option(names = "--monitor-alarm-p-value", defaultValue = "${env:RDV_MONITOR_ALARM_P_VALUE:-0.0001}",
      description = "A window whose p-value is below this raises the drift alarm: the false-alarm rate per "
          + "window when nothing changed.")
  double alarmPValue;

  @Option(names = "--monitor-paired-window", defaultValue = "${env:RDV_MONITOR_PAIRED_WINDOW:-200}",
      description = "The last requests scored by both a model and the canary that the paired statistics cover.")
  int pairedWindow;

  @Option(names = "--monitor-output", defaultValue = "${env:RDV_MONITOR_OUTPUT}",
      description = "The output tensor whose elements are the scores. Unset: each model's first output.")
  String output;

  /** The monitor of one problem. */
  public MonitorConfig toConfig(String problem) {
    return new MonitorConfig(problem, "rdv." + problem + ".monitor", referenceSize, windowSize, bins, alarmPValue,
        pairedWindow, output);
  }
}
