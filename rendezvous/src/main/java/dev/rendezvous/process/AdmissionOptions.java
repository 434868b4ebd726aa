package dev.rendezvous.process;

import dev.rendezvous.proxy.AdmissionConfig;
import picocli.CommandLine.Option;

/** The proxy's admission control and deadline-guard options (see {@link AdmissionConfig} for each default's reason). */
public final class AdmissionOptions {

  @Option(names = "--admission-limit", defaultValue = "${env:RDV_ADMISSION_LIMIT:-gradient2}",
      description = "Adaptive limit on requests in flight per problem: gradient2, vegas or none "
          + "(env RDV_ADMISSION_LIMIT; default: ${DEFAULT-VALUE}).")
  String limit;

  @Option(names = "--admission-initial-limit", defaultValue = "${env:RDV_ADMISSION_INITIAL_LIMIT:-20}",
      description = "The limit before any answer is measured (env RDV_ADMISSION_INITIAL_LIMIT; default: ${DEFAULT-VALUE}).")
  int initialLimit;

  @Option(names = "--admission-min-limit", defaultValue = "${env:RDV_ADMISSION_MIN_LIMIT:-20}",
      description = "Lowest limit (env RDV_ADMISSION_MIN_LIMIT; default: ${DEFAULT-VALUE}).")
  int minLimit;

  @Option(names = "--admission-max-limit", defaultValue = "${env:RDV_ADMISSION_MAX_LIMIT:-200}",
      description = "Highest limit (env RDV_ADMISSION_MAX_LIMIT; default: ${DEFAULT-VALUE}).")
  int maxLimit;

  @Option(names = "--admission-lag-target-ms", defaultValue = "${env:RDV_ADMISSION_LAG_TARGET_MS:-5}",
      description = "Event-loop delay tolerated (env RDV_ADMISSION_LAG_TARGET_MS; default: ${DEFAULT-VALUE}).")
  double lagTargetMs;

  @Option(names = "--admission-lag-interval-ms", defaultValue = "${env:RDV_ADMISSION_LAG_INTERVAL_MS:-100}",
      description = "How long the delay must stay above the target before requests are refused "
          + "(env RDV_ADMISSION_LAG_INTERVAL_MS; default: ${DEFAULT-VALUE}).")
  double lagIntervalMs;

  @Option(names = "--admission-lag-probe-ms", defaultValue = "${env:RDV_ADMISSION_LAG_PROBE_MS:-10}",
      description = "Period of the event-loop probe (env RDV_ADMISSION_LAG_PROBE_MS; default: ${DEFAULT-VALUE}).")
  long lagProbeMs;

  @Option(names = "--admission-retry-after-s", defaultValue = "${env:RDV_ADMISSION_RETRY_AFTER_S:-1}",
      description = "Retry-After of a refusal, seconds (env RDV_ADMISSION_RETRY_AFTER_S; default: ${DEFAULT-VALUE}).")
  int retryAfterSeconds;

  @Option(names = "--guard-margin-ms", defaultValue = "${env:RDV_GUARD_MARGIN_MS:-3}",
      description = "The deadline guard fires this long before the deadline (env RDV_GUARD_MARGIN_MS; "
          + "default: ${DEFAULT-VALUE}).")
  double guardMarginMs;

  @Option(names = "--admin-threads", defaultValue = "${env:RDV_ADMIN_THREADS:-2}",
      description = "Threads for /metrics, the status page and schedule changes, apart from the request path "
          + "(env RDV_ADMIN_THREADS; default: ${DEFAULT-VALUE}).")
  int adminThreads;

  AdmissionConfig config() {
    return new AdmissionConfig(limit, initialLimit, minLimit, maxLimit, lagTargetMs, lagIntervalMs, lagProbeMs,
        retryAfterSeconds, guardMarginMs, adminThreads);
  }
}
