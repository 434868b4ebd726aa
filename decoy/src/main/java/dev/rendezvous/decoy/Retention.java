package dev.rendezvous.decoy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Deletes a problem's hour directories that ended more than the retention period ago. */
final class Retention {

  private static final Logger LOG = LoggerFactory.getLogger(Retention.class);

  private Retention() {}

  /** Returns the number of hour directories deleted; {@code retentionHours} 0 keeps everything. */
  static int sweep(ArchiveLayout layout, String problem, long nowMs, int retentionHours) {
    if (retentionHours <= 0) {
      return 0;
    }
    long cutoff = nowMs - retentionHours * 3_600_000L;
    int deleted = 0;
    for (Path hour : layout.hourDirs(problem)) {
      if (ArchiveLayout.hourStartMs(hour) + 3_600_000L <= cutoff) {
        deleteTree(hour);
        deleted++;
        try (Stream<Path> rest = Files.list(hour.getParent())) {
          if (rest.findAny().isEmpty()) {
            Files.delete(hour.getParent());
          }
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    }
    if (deleted > 0) {
      LOG.info("decoy retention: deleted {} hour(s) of {} archive older than {} h", deleted, problem, retentionHours);
    }
    return deleted;
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + dir, e);
    }
  }
}
