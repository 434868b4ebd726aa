package dev.rendezvous.decoy;

import java.nio.file.Path;

/**
 * The decoy's settings; every one is listed with its default in {@code docs/decoy.md}.
 *
 * @param problem the problem whose topics are archived
 * @param archiveDir the archive root; files go to {@code <archiveDir>/<problem>/<day>/<hour>/}
 * @param groupId the consumer group ({@code rdv.<problem>.decoy}); its own, so the decoy sees every record
 * @param segmentMaxBytes a segment is closed and a new one started once it is this large (128 MiB)
 * @param segmentMaxAgeMs ... or this old (15 minutes); segments never span an hour in any case
 * @param flushIntervalMs archived records are synced to disk and their offsets committed at least this often
 *     while records arrive (200 ms): the most a crash makes the decoy read again
 * @param flushMaxRecords ... or as soon as this many records wait (5000)
 * @param retentionHours hour directories older than this are deleted (168, a week; 0 keeps everything)
 * @param recordWarmUp false (the default) skips the launcher's warm-up requests; true archives them with
 *     {@code "warm_up": true}
 * @param failAfterMs when the archive cannot be written (a full disk), the decoy retries, not ready, for this
 *     long and then stops reading and reports the failure (a decoy process then exits with status 1); 0 (the
 *     default here and in the embedded launcher) retries for as long as it takes
 */
public record DecoyConfig(String problem, Path archiveDir, String groupId, long segmentMaxBytes,
    long segmentMaxAgeMs, long flushIntervalMs, int flushMaxRecords, int retentionHours, boolean recordWarmUp,
    long failAfterMs) {

  public DecoyConfig {
    if (segmentMaxBytes < 1 || segmentMaxAgeMs < 1 || flushIntervalMs < 1 || flushMaxRecords < 1) {
      throw new IllegalArgumentException("segment and flush limits must be positive");
    }
    if (retentionHours < 0) {
      throw new IllegalArgumentException("retention_hours must not be negative");
    }
    if (failAfterMs < 0) {
      throw new IllegalArgumentException("fail_after_ms must not be negative");
    }
  }

  public static DecoyConfig defaults(String problem, Path archiveDir) {
    return new DecoyConfig(problem, archiveDir, "rdv." + problem + ".decoy", 128L << 20, 15 * 60_000L, 200, 5000,
        168, false, 0);
  }

  public DecoyConfig withFlushIntervalMs(long ms) {
    return new DecoyConfig(problem, archiveDir, groupId, segmentMaxBytes, segmentMaxAgeMs, ms, flushMaxRecords,
        retentionHours, recordWarmUp, failAfterMs);
  }

  public DecoyConfig withFailAfterMs(long ms) {
    return new DecoyConfig(problem, archiveDir, groupId, segmentMaxBytes, segmentMaxAgeMs, flushIntervalMs,
        flushMaxRecords, retentionHours, recordWarmUp, ms);
  }
}
