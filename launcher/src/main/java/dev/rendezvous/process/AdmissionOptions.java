package dev.rendezvous.process;

import dev.rendezvous.proxy.AdmissionConfig;
import picocli.CommandLine.Option;

/** The proxy's admission control and deadline-guard options (see {@link AdmissionConfig} for each default's reason). */
public final class AdmissionOptions {

  @Option(names = "--admission-limit", defaultValue = "${env:RDV_ADMISSION_LIMIT:-aimd}",
      description = "Adaptive limit on admitted requests in flight, per problem: aimd (a tenth off once per "
          + "overload when the deadline guard answers), gradient2, vegas or none.")
  String limit;

  @Option(names = "--admission-initial-limit", defaultValue = "${env:RDV_ADMISSION_INITIAL_LIMIT:-20}",
      description = "The limit before any answer has been measured.")
  int initialLimit;

  @Option(names = "--admission-min-limit", defaultValue = "${env:RDV_ADMISSION_MIN_LIMIT:-5}",
      description = "The limit's floor.")
  int minLimit;

  @Option(names = "--admission-max-limit", defaultValue = "${env:RDV_ADMISSION_MAX_LIMIT:-200}",
      description = "The limit's ceiling.")
  int maxLimit;

  @Option(names = "--admission-lag-target-ms", defaultValue = "${env:RDV_ADMISSION_LAG_TARGET_MS:-5}",
      description = "Event-loop delay tolerated.")
  double lagTargetMs;

  @Option(names = "--admission-lag-interval-ms", defaultValue = "${env:RDV_ADMISSION_LAG_INTERVAL_MS:-100}",
      description = "How long the delay must stay above the target before requests are refused.")
  double lagIntervalMs;

  @Option(names = "--admission-lag-probe-ms", defaultValue = "${env:RDV_ADMISSION_LAG_PROBE_MS:-10}",
      description = "Period of the probe timer that measures the event loop's delay.")
  long lagProbeMs;

  @Option(names = "--admission-retry-after-s", defaultValue = "${env:RDV_ADMISSION_RETRY_AFTER_S:-1}",
      description = "Retry-After of a refusal, in seconds.")
  int retryAfterSeconds;

  @Option(names = "--guard-margin-ms", defaultValue = "${env:RDV_GUARD_MARGIN_MS:-3}",
      description = "The deadline guard answers with the default this long before the deadline.")
  double guardMarginMs;

  @Option(names = "--guard-follows-lag", negatable = true, fallbackValue = "true",
      defaultValue = "${env:RDV_GUARD_FOLLOWS_LAG:-true}",
      description = "The deadline guard fires earlier still by the event loop's recent delay (at most a quarter of "
          + "the deadline), so that its answer is written by the deadline when the proxy is busy.")
  boolean guardFollowsLag;

  @Option(names = "--admin-threads", defaultValue = "${env:RDV_ADMIN_THREADS:-2}",
      description = "Threads for /metrics, the status page and the schedule endpoints, apart from the request "
          + "path.")
  int adminThreads;

  /** The settings given; {@link AdmissionConfig} checks that they fit together. */
  public AdmissionConfig toConfig() {
    return new AdmissionConfig(limit, initialLimit, minLimit, maxLimit, lagTargetMs, lagIntervalMs, lagProbeMs,
        retryAfterSeconds, guardMarginMs, guardFollowsLag, adminThreads);
  }
}
