package dev.rendezvous.proxy;

/**
 * How the proxy keeps its deadlines under load: which requests it takes in, when its deadline guard fires,
 * and where the work off the request path runs. Every setting is an option of the proxy and of {@code up}, with an
 * environment variable (docs/configuration.md); the defaults are the sources' own, named beside each.
 *
 * @param limit the adaptive concurrency limit on admitted, unanswered requests per problem: {@code aimd}
 *     (the default, {@link WindowedAimdLimit}: a tenth off the limit when the proxy's deadline guard has to
 *     answer a request admitted after the last decrease, so at most once per overload and per round trip;
 *     growing while at least half the limit is in flight, as TCP's window does), {@code gradient2}
 *     (Gradient2Limit: shrinks when the latest round trip grows past the long-term average; blind to answers
 *     at the deadline, which keep the round trip flat), {@code vegas} (VegasLimit: estimates the queue from
 *     the minimum round trip), or {@code none}. Measured under a flood of 256 clients on 2 cores
 *     (docs/benchmark.md): gradient2 stayed at its ceiling while 95% of what it let in was answered by the
 *     guard; AIMD fell to its floor within a second
 * @param initialLimit the limit before any answer has been measured; 20, the limiters' own default
 * @param minLimit the limit never goes below this; 5: under a flood, a floor of 20 still let in more than the
 *     pipeline answered in time, and a second after the last decrease the limit grows by one per answer in
 *     time again when traffic is busy
 * @param maxLimit the limit never goes above this; 200, the limiters' own default
 * @param lagTargetMs the event loop's standing delay (how late a timer fires) that the proxy tolerates; 5 ms,
 *     the target of the controlled-delay queue (CoDel, Nichols and Jacobson 2012)
 * @param lagIntervalMs how long the delay must stay above the target before new requests are refused; 100 ms,
 *     CoDel's interval: long enough to ride out one garbage-collection pause, short enough to stop a flood
 *     within a few deadlines
 * @param lagProbeMs how often the event loop's delay is sampled; 10 ms, ten samples per interval
 * @param retryAfterSeconds the {@code Retry-After} of a refusal; 1 s, the smallest the header can say
 * @param guardMarginMs the deadline guard fires this long before the deadline, so that the default's answer is
 *     written by the deadline even when the event loop is a little late; 3 ms: the timer's delay is rounded
 *     down to whole milliseconds (up to 1 ms early), writing the default takes one short turn of the loop, and
 *     the rest absorbs a small delay; how late the guard really fires is {@code rdv_proxy_guard_lateness_seconds},
 *     to set the margin by
 * @param guardFollowsLag whether the guard fires earlier still by how late the event loop's timers fire lately
 *     (the smoothed delay of the loop's probe, at most a quarter of the request's budget): a busy loop fires
 *     every timer late, the guard's included, and a fixed margin covers only a small delay. Measured under a
 *     flood of 256 clients on 2 cores (docs/benchmark.md), the guard fired 6-12 ms late on average with the
 *     margin alone; on by default
 * @param adminThreads the threads of the executor that runs what is off the request path ({@code /metrics}
 *     scrapes, the status page, schedule changes and status); 2, so that two slow scrapes cannot take more
 *     than two threads, and one scrape does not wait for another
 */
public record AdmissionConfig(String limit, int initialLimit, int minLimit, int maxLimit, double lagTargetMs,
    double lagIntervalMs, long lagProbeMs, int retryAfterSeconds, double guardMarginMs, boolean guardFollowsLag,
    int adminThreads) {

  /** The limit algorithms understood by {@link #limit}. */
  public static final java.util.List<String> LIMITS = java.util.List.of("aimd", "gradient2", "vegas", "none");

  public AdmissionConfig {
    if (!LIMITS.contains(limit)) {
      throw new IllegalArgumentException("admission limit must be one of " + LIMITS + ", not '" + limit + "'");
    }
    if (minLimit < 1 || maxLimit < minLimit || initialLimit < minLimit || initialLimit > maxLimit) {
      throw new IllegalArgumentException("admission limits must satisfy 1 <= min <= initial <= max, not min "
          + minLimit + ", initial " + initialLimit + ", max " + maxLimit);
    }
    if (lagTargetMs <= 0 || lagIntervalMs <= 0 || lagProbeMs < 1) {
      throw new IllegalArgumentException("event-loop lag target, interval and probe period must be positive");
    }
    if (retryAfterSeconds < 0 || guardMarginMs < 0 || adminThreads < 1) {
      throw new IllegalArgumentException("Retry-After and the guard margin cannot be negative, and the admin "
          + "executor needs at least one thread");
    }
  }

  public static AdmissionConfig defaults() {
    return new AdmissionConfig("aimd", 20, 5, 200, 5, 100, 10, 1, 3, true, 2);
  }
}
