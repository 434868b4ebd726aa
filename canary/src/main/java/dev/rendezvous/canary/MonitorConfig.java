package dev.rendezvous.canary;

/**
 * The score monitor's settings; every one is listed with its default and its reason in {@code docs/monitor.md}.
 *
 * @param problem the problem whose scores topic is read
 * @param groupId the consumer group ({@code rdv.<problem>.monitor})
 * @param referenceSize scores per model that form its reference, the first ones seen (1000)
 * @param windowSize scores per recent window; each full window is tested once (200)
 * @param bins bins cut at the reference's quantiles (10)
 * @param alarmPValue a window whose p-value is below this raises the drift alarm (0.0001): the false-alarm
 *     rate per window when nothing changed
 * @param pairedWindow the last requests scored by both a model and the canary that the paired statistics
 *     cover (200)
 * @param output the output tensor whose elements are the scores, or null for each model's first output
 */
public record MonitorConfig(String problem, String groupId, int referenceSize, int windowSize, int bins,
    double alarmPValue, int pairedWindow, String output) {

  public MonitorConfig {
    if (!(alarmPValue > 0 && alarmPValue < 1)) {
      throw new IllegalArgumentException("alarm p-value must be between 0 and 1, not " + alarmPValue);
    }
    if (pairedWindow < 3) {
      throw new IllegalArgumentException("the paired window needs at least 3 requests");
    }
  }

  public static MonitorConfig defaults(String problem) {
    return new MonitorConfig(problem, "rdv." + problem + ".monitor", 1000, 200, 10, 1e-4, 200, null);
  }
}
