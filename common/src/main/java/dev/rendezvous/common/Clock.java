package dev.rendezvous.common;

/**
 * The source of time for everything that expires or measures elapsed time, so tests can drive time by
 * hand. Readings are epoch microseconds; implementations must be safe to call from any thread.
 */
@FunctionalInterface
public interface Clock {

  /** Current time in microseconds since the epoch. */
  long nowMicros();

  /** Wall-clock time with microsecond resolution, comparable across processes on synchronized hosts. */
  Clock SYSTEM = () -> {
    java.time.Instant now = java.time.Instant.now();
    return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000L;
  };
}
