package dev.rendezvous.rollout;

/**
 * One version of a problem's schedule as written to the schedule log: the exact YAML text that was
 * validated, so every instance that reads it builds the same schedule.
 *
 * @param problem the served problem
 * @param version 1 for the first schedule applied for the problem, then one more for each
 * @param yaml the schedule file's text
 * @param appliedAtUs when it was written to the log, epoch microseconds
 * @param source where it came from: a file path, {@code http}, {@code cli}, or a rollback
 * @param diff the change against the previous version as {@code -}/{@code +} lines; the whole text for
 *     version 1
 * @param rollbackOf the earlier version whose text this one re-applies, or null
 */
public record AppliedSchedule(
    String problem, long version, String yaml, long appliedAtUs, String source, String diff, Long rollbackOf) {}
