package dev.rendezvous.runtime;

import java.time.Duration;
import java.util.Objects;

/**
 * When a {@link ConsumerLoop} commits the offsets of what it read, which is what a restarted member of the
 * same group resumes from.
 *
 * @param kind see {@link Kind}
 * @param autoInterval for {@link Kind#AUTO}: Kafka's {@code auto.commit.interval.ms}
 * @param maxRecords for {@link Kind#DURABLE}: commit once this many records were handled since the last commit
 * @param maxInterval for {@link Kind#DURABLE}: or once this long has passed since it, records pending
 */
public record CommitPolicy(Kind kind, Duration autoInterval, int maxRecords, Duration maxInterval) {

  public enum Kind {
    /** Never commit (no group, or a reader that always starts from a fixed position). */
    NONE,
    /**
     * Kafka's auto commit: on a later poll, what the previous polls returned. At least once, provided the
     * handler's effects are done by the time it returns; a crash may repeat up to {@code autoInterval}.
     */
    AUTO,
    /** Commit synchronously the offsets after each batch once its handler has returned. At least once. */
    AFTER_BATCH,
    /**
     * Commit only what the component has made durable: the loop keeps the offsets after every handled batch
     * and, when {@code maxRecords} or {@code maxInterval} is reached, when partitions are revoked (so that
     * the next owner starts exactly after what is durable), when the component asks ({@link
     * ConsumerLoop#commitNow}) and when the loop stops, it first runs the component's flush hook and then
     * commits synchronously. At least once, and nothing lost if the flush makes the records durable.
     */
    DURABLE
  }

  public CommitPolicy {
    Objects.requireNonNull(kind, "kind");
  }

  public static CommitPolicy none() {
    return new CommitPolicy(Kind.NONE, null, 0, null);
  }

  public static CommitPolicy auto(Duration interval) {
    return new CommitPolicy(Kind.AUTO, interval, 0, null);
  }

  public static CommitPolicy afterBatch() {
    return new CommitPolicy(Kind.AFTER_BATCH, null, 0, null);
  }

  public static CommitPolicy durable(int maxRecords, Duration maxInterval) {
    if (maxRecords < 1) {
      throw new IllegalArgumentException("maxRecords must be at least 1, was " + maxRecords);
    }
    return new CommitPolicy(Kind.DURABLE, null, maxRecords, Objects.requireNonNull(maxInterval));
  }
}
