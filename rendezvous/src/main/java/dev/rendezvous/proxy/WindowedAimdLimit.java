package dev.rendezvous.proxy;

import com.netflix.concurrency.limits.limit.AbstractLimit;

/**
 * Additive increase, multiplicative decrease, with at most one decrease per overload: TCP's rule for losses
 * (RFC 5681, RFC 6582), where only a loss of a segment sent after the last reduction reduces the window again.
 * A drop (the deadline guard answered) takes a tenth off the limit only when its request was admitted after
 * the last decrease; drops of requests admitted before it belong to the overload that decrease already
 * answered. The increase is TCP's too (slow start, then congestion avoidance), while at least half the limit
 * is in flight: one per answer in time up to the limit the last decrease left, then one per round trip (a
 * limit's worth of answers in time, each adding one limit-th). Once a request admitted {@link #CALM_NANOS}
 * after the last decrease is answered in time, the overload is over and the limit grows by one per answer
 * in time again, up to the ceiling: the clients refused during the overload were told to come back after
 * that long ({@code Retry-After: 1}), and must find room.
 *
 * <p>Why not Netflix's {@code AIMDLimit}, which takes a tenth off at every drop and adds one at every answer
 * in time: one stall of the machine (a young collection of 15-30 ms, the compiler holding a core) makes every
 * request in flight late at once, tens of drops for one event at 1,000 req/s, and the limit fell far below
 * what the traffic needed (hey against {@code up} on two cores, capped at 1,000 req/s: 1.3-2.8% refused,
 * here 0.3%); and under a flood its one-per-answer increase let in more than the pipeline answered in time
 * (p99 85-104 ms, here 68-70 ms). docs/benchmark.md has the runs.
 *
 * <p>Updated under {@link AbstractLimit}'s lock; the times are the limiter's clock (nanoseconds).
 */
final class WindowedAimdLimit extends AbstractLimit {

  /** The share of the limit kept at a decrease: AIMDLimit's default. */
  static final double BACKOFF_RATIO = 0.9;
  /** How long after a decrease without another one the overload is taken as over: one Retry-After. */
  static final long CALM_NANOS = 1_000_000_000L;

  private final int minLimit;
  private final int maxLimit;
  /** When the last decrease was made: drops of requests admitted before it are not counted again. */
  private long lastDecreaseNanos = Long.MIN_VALUE;
  /** Up to this limit it grows by one per answer in time, above it by one per round trip. */
  private int threshold;
  /** Answers in time since the last step up above the threshold, in limits: at 1, the limit grows by one. */
  private double growth;

  WindowedAimdLimit(int initialLimit, int minLimit, int maxLimit) {
    super(initialLimit);
    this.minLimit = minLimit;
    this.maxLimit = maxLimit;
    this.threshold = maxLimit;
  }

  @Override
  protected int _update(long startTime, long rtt, int inflight, boolean didDrop) {
    int limit = getLimit();
    if (didDrop) {
      if (startTime > lastDecreaseNanos) {
        limit = Math.max(minLimit, (int) (limit * BACKOFF_RATIO));
        lastDecreaseNanos = startTime + rtt;
        threshold = limit;
        growth = 0;
      }
    } else if (inflight * 2 >= limit) {
      if (threshold < maxLimit && startTime - lastDecreaseNanos > CALM_NANOS) {
        threshold = maxLimit;
      }
      if (limit < threshold) {
        limit++;
      } else {
        growth += 1.0 / limit;
        if (growth >= 1) {
          growth -= 1;
          limit++;
        }
      }
    }
    return Math.min(maxLimit, Math.max(minLimit, limit));
  }

  @Override
  public String toString() {
    return "WindowedAimdLimit [limit=" + getLimit() + "]";
  }
}
