package dev.rendezvous.runtime;

import java.time.Duration;
import java.util.Objects;

/**
 * What a {@link ConsumerLoop} does when its handler throws: hand it the same batch again after an
 * exponential backoff ({@code initialBackoff}, doubled each time, at most {@code maxBackoff}), up to
 * {@code maxRetries} times; then either skip the batch (counted and logged, offsets move past it) or fail
 * the loop (it stops reading, its health turns not-ready, the failure is counted and logged). While it
 * retries, the loop's health is not-ready and says why.
 *
 * <p>{@code maxFailingTime}, when not null, also ends the retries once this long has passed since the first
 * failure of the current run of failures, however many retries that took: a component that can wait for a
 * fault to clear (a full disk) retries for a time rather than a count.
 */
public record ErrorPolicy(int maxRetries, Duration initialBackoff, Duration maxBackoff, Exhausted whenExhausted,
    Duration maxFailingTime) {

  /** What to do with a batch whose retries are spent. */
  public enum Exhausted {
    /** Count the batch as skipped, log it, and go on with the next. */
    SKIP,
    /** Stop the loop: a component that must not lose records (the decoy) stops visibly instead. */
    FAIL
  }

  public ErrorPolicy {
    if (maxRetries < 0) {
      throw new IllegalArgumentException("maxRetries must not be negative, was " + maxRetries);
    }
    Objects.requireNonNull(initialBackoff, "initialBackoff");
    Objects.requireNonNull(maxBackoff, "maxBackoff");
    Objects.requireNonNull(whenExhausted, "whenExhausted");
    if (initialBackoff.isNegative() || maxBackoff.compareTo(initialBackoff) < 0) {
      throw new IllegalArgumentException("backoff must satisfy 0 <= initial <= max, was " + initialBackoff
          + " and " + maxBackoff);
    }
    if (maxFailingTime != null && maxFailingTime.isNegative()) {
      throw new IllegalArgumentException("maxFailingTime must not be negative, was " + maxFailingTime);
    }
  }

  /** A policy bounded by the number of retries only. */
  public ErrorPolicy(int maxRetries, Duration initialBackoff, Duration maxBackoff, Exhausted whenExhausted) {
    this(maxRetries, initialBackoff, maxBackoff, whenExhausted, null);
  }

  /**
   * Retries from 100 ms up to 5 s apart for as long as {@code maxFailingTime} (null: for ever), then the given
   * action.
   */
  public static ErrorPolicy retryFor(Duration maxFailingTime, Exhausted whenExhausted) {
    return new ErrorPolicy(Integer.MAX_VALUE, Duration.ofMillis(100), Duration.ofSeconds(5), whenExhausted,
        maxFailingTime);
  }

  /** Whether the retries are spent after {@code failures} failures in a row, the first {@code failingFor} ago. */
  public boolean exhausted(int failures, Duration failingFor) {
    return failures > maxRetries || (maxFailingTime != null && failingFor.compareTo(maxFailingTime) >= 0);
  }

  /** Five retries from 100 ms up to 5 s (about 3 s in all), then the given action. */
  public static ErrorPolicy retryThen(Exhausted whenExhausted) {
    return new ErrorPolicy(5, Duration.ofMillis(100), Duration.ofSeconds(5), whenExhausted);
  }

  /** The wait before retry number {@code retry} (1 for the first retry). */
  public Duration backoff(int retry) {
    if (retry < 1) {
      throw new IllegalArgumentException("retries count from 1, was " + retry);
    }
    Duration d = initialBackoff;
    for (int i = 1; i < retry && d.compareTo(maxBackoff) < 0; i++) {
      d = d.multipliedBy(2);
    }
    return d.compareTo(maxBackoff) > 0 ? maxBackoff : d;
  }
}
