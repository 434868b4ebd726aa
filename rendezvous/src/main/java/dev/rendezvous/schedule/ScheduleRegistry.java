package dev.rendezvous.schedule;

import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The schedules in force, one per problem, each with the version it was applied as. Safe to read from any
 * thread; a request is decided under the version it read once.
 */
public final class ScheduleRegistry {

  private static final Logger LOG = LoggerFactory.getLogger(ScheduleRegistry.class);

  /** A schedule and the version it was applied as (1 for the first applied for a problem). */
  public record Versioned(Schedule schedule, long version) {}

  private final Map<String, Versioned> current = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> versions = new ConcurrentHashMap<>();

  /** Puts a validated schedule in force for its problem and returns the version it got. */
  public Versioned apply(Schedule schedule) {
    long version = versions.computeIfAbsent(schedule.problem(), p -> new AtomicLong()).incrementAndGet();
    Versioned v = new Versioned(schedule, version);
    current.put(schedule.problem(), v);
    LOG.info("schedule for problem {} applied as version {} from {}", schedule.problem(), version,
        schedule.source());
    return v;
  }

  /**
   * Puts a schedule in force under a version assigned elsewhere (the schedule log), unless a version at
   * least as new is already in force: versions only move forward, so a record read twice or out of turn
   * never undoes a later one.
   *
   * @return true when the schedule was put in force
   */
  public boolean apply(Schedule schedule, long version) {
    Versioned v = new Versioned(schedule, version);
    boolean[] applied = {false};
    current.compute(schedule.problem(), (p, old) -> {
      if (old != null && old.version() >= version) {
        return old;
      }
      applied[0] = true;
      return v;
    });
    if (applied[0]) {
      versions.computeIfAbsent(schedule.problem(), p -> new AtomicLong()).accumulateAndGet(version, Math::max);
      LOG.info("schedule for problem {} in force as version {} from {}", schedule.problem(), version,
          schedule.source());
    }
    return applied[0];
  }

  public Optional<Versioned> current(String problem) {
    return Optional.ofNullable(current.get(problem));
  }

  public Set<String> problems() {
    return new TreeSet<>(current.keySet());
  }
}
