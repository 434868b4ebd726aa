package dev.rendezvous.decoy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Where archive files live: {@code <root>/<problem>/<yyyy-MM-dd>/<HH>/<kind>-<yyyyMMdd-HHmmss-SSS>-<writer>.jsonl.gz},
 * hours in UTC, one directory per hour in which a segment was opened. Replayed scores go to
 * {@code <root>/<problem>/replay/}. File names sort in the order the files were written.
 */
public final class ArchiveLayout {

  public static final String SUFFIX = ".jsonl.gz";
  private static final DateTimeFormatter DAY = DateTimeFormatter.ofPattern("yyyy-MM-dd").withZone(ZoneOffset.UTC);
  private static final DateTimeFormatter HOUR = DateTimeFormatter.ofPattern("HH").withZone(ZoneOffset.UTC);
  private static final DateTimeFormatter STAMP =
      DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss-SSS").withZone(ZoneOffset.UTC);

  private final Path root;

  public ArchiveLayout(Path root) {
    this.root = root;
  }

  public Path root() {
    return root;
  }

  public Path problemDir(String problem) {
    return root.resolve(problem);
  }

  /** The directory of the hour that holds {@code epochMs}. */
  public Path hourDir(String problem, long epochMs) {
    Instant t = Instant.ofEpochMilli(epochMs);
    return problemDir(problem).resolve(DAY.format(t)).resolve(HOUR.format(t));
  }

  /** The directory of the replayed scores. */
  public Path replayDir(String problem) {
    return problemDir(problem).resolve("replay");
  }

  /** The file name of a segment opened at {@code epochMs} by the writer {@code writerId}. */
  public static String segmentName(Kind kind, long epochMs, String writerId) {
    return kind.prefix() + "-" + STAMP.format(Instant.ofEpochMilli(epochMs)) + "-" + writerId + SUFFIX;
  }

  /** The start of the hour of a directory {@code <day>/<HH>}, epoch milliseconds, or -1 if it is not one. */
  static long hourStartMs(Path hourDir) {
    try {
      String day = hourDir.getParent().getFileName().toString();
      int hour = Integer.parseInt(hourDir.getFileName().toString());
      return java.time.LocalDate.parse(day).atStartOfDay(ZoneOffset.UTC).plusHours(hour).toInstant().toEpochMilli();
    } catch (RuntimeException e) {
      return -1;
    }
  }

  /** Every hour directory of a problem, oldest first. */
  public List<Path> hourDirs(String problem) {
    Path dir = problemDir(problem);
    List<Path> out = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return out;
    }
    try (Stream<Path> days = Files.list(dir)) {
      for (Path day : days.filter(Files::isDirectory).sorted().toList()) {
        try (Stream<Path> hours = Files.list(day)) {
          hours.filter(Files::isDirectory).filter(h -> hourStartMs(h) >= 0).sorted().forEach(out::add);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list the archive of " + problem + " in " + dir, e);
    }
    return out;
  }

  /**
   * The segments of one kind in hour directories from the hour before {@code sinceMs} on, in the order they
   * were written. Records are archived after they were received, so nothing received after {@code sinceMs}
   * sits in an earlier hour (one hour of slack covers clocks that disagree); the caller filters by time.
   */
  public List<Path> segments(String problem, Kind kind, long sinceMs) {
    long from = Instant.ofEpochMilli(sinceMs).truncatedTo(ChronoUnit.HOURS).toEpochMilli() - 3_600_000L;
    List<Path> out = new ArrayList<>();
    for (Path hour : hourDirs(problem)) {
      if (hourStartMs(hour) >= from) {
        out.addAll(files(hour, kind));
      }
    }
    return out;
  }

  /** The segments of one kind directly in a directory, sorted by name. */
  public static List<Path> files(Path dir, Kind kind) {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(f -> Kind.ofFile(f.getFileName().toString()) == kind).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir, e);
    }
  }
}
