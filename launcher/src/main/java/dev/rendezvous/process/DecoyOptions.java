package dev.rendezvous.process;

import dev.rendezvous.decoy.DecoyConfig;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The decoy's archive: where it is, how segments are cut and synced, how long it is kept (docs/decoy.md). */
public final class DecoyOptions {

  @Option(names = "--archive", defaultValue = "${env:RDV_ARCHIVE}",
      description = "Archive directory; a persistent volume in production. Unset: data/archive "
          + "(`up`: <--data>/archive).")
  Path archive;

  @Option(names = "--retention-hours", defaultValue = "${env:RDV_RETENTION_HOURS:-168}",
      description = "Hour directories that ended longer ago are deleted (checked at start and every 10 minutes); "
          + "0 keeps everything.")
  int retentionHours;

  @Option(names = "--archive-flush-interval-ms", defaultValue = "${env:RDV_ARCHIVE_FLUSH_INTERVAL_MS:-200}",
      description = "Archived records are synced to disk and their offsets committed at least this often while "
          + "records arrive: the most a crash makes the decoy read again.")
  long flushIntervalMs;

  @Option(names = "--archive-flush-max-records", defaultValue = "${env:RDV_ARCHIVE_FLUSH_MAX_RECORDS:-5000}",
      description = "... or as soon as this many records wait.")
  int flushMaxRecords;

  @Option(names = "--archive-segment-max-bytes", defaultValue = "${env:RDV_ARCHIVE_SEGMENT_MAX_BYTES:-134217728}",
      description = "A segment is closed and a new one started once it is this large (128 MiB).")
  long segmentMaxBytes;

  @Option(names = "--archive-segment-max-age-ms", defaultValue = "${env:RDV_ARCHIVE_SEGMENT_MAX_AGE_MS:-900000}",
      description = "... or this old (15 minutes); segments never span an hour in any case.")
  long segmentMaxAgeMs;

  @Option(names = "--archive-warm-up", defaultValue = "${env:RDV_ARCHIVE_WARM_UP:-false}", arity = "0..1",
      description = "Archive the launcher's warm-up requests too, marked \"warm_up\": true (export and replay "
          + "skip them anyway).")
  boolean recordWarmUp;

  /** What the decoy process gives an archive that cannot be written before it exits: ten minutes. */
  public static final long PROCESS_FAIL_AFTER_MS = 600_000;

  @Option(names = "--fail-after-ms", defaultValue = "${env:RDV_DECOY_FAIL_AFTER_MS}",
      description = "When an archive cannot be written (a full disk), the decoy retries, not ready, for this long, "
          + "then stops; the decoy process exits with status 1, for a supervisor to restart it. 0 retries for "
          + "ever. Unset: " + PROCESS_FAIL_AFTER_MS + " for the decoy process; `up`: 0.")
  Long failAfterMs;

  /** The decoy of one problem as {@code up} runs it: retrying a failing archive for ever unless told otherwise. */
  public DecoyConfig toConfig(String problem, Path defaultArchive) {
    return toConfig(problem, defaultArchive, 0);
  }

  /**
   * The decoy of one problem, archiving under the given directory unless {@code --archive} names one, and
   * giving up on a failing archive after {@code defaultFailAfterMs} unless {@code --fail-after-ms} is given.
   */
  public DecoyConfig toConfig(String problem, Path defaultArchive, long defaultFailAfterMs) {
    return new DecoyConfig(problem, archive != null ? archive : defaultArchive, "rdv." + problem + ".decoy",
        segmentMaxBytes, segmentMaxAgeMs, flushIntervalMs, flushMaxRecords, retentionHours, recordWarmUp,
        failAfterMs != null ? failAfterMs : defaultFailAfterMs);
  }
}
