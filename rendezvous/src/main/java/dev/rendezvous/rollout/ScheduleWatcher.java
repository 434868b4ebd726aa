package dev.rendezvous.rollout;

import dev.rendezvous.schedule.ScheduleException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns an edited schedule file into a new version. Only an edit counts: at start a file merely seeds an empty
 * log ({@link ScheduleControl#seedFrom}), so that a restart never reverts what was applied over HTTP or the CLI.
 * It polls the schedules directory every {@code pollMs} milliseconds (polling rather than a file-system watch
 * service, which misses edits on some file systems and editors that replace files), and whenever a {@code *.yaml} or {@code *.yml} file's text
 * differs from what it last saw, hands the text to {@link ScheduleControl#apply}. A refused edit is logged with
 * the loader's message and recorded for the status endpoint; the schedule in force keeps serving, and the
 * same text is not tried again until the file changes.
 */
public final class ScheduleWatcher implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ScheduleWatcher.class);
  private static final Pattern PROBLEM_LINE = Pattern.compile("(?m)^problem:\\s*([a-z0-9][a-z0-9-]*)");

  /** Default polling interval of the schedules directory, milliseconds. */
  public static final long DEFAULT_POLL_MS = 200;

  private final Path dir;
  private final ScheduleControl control;
  private final long pollMs;
  private final Map<Path, String> seen = new HashMap<>();
  private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "schedule-watcher");
    t.setDaemon(true);
    return t;
  });

  /**
   * @param seen the text of each file as already applied at start, so that only later edits count
   */
  public ScheduleWatcher(Path dir, ScheduleControl control, long pollMs, Map<Path, String> seen) {
    this.dir = dir;
    this.control = control;
    this.pollMs = pollMs;
    this.seen.putAll(seen);
  }

  public ScheduleWatcher start() {
    executor.scheduleWithFixedDelay(this::poll, pollMs, pollMs, TimeUnit.MILLISECONDS);
    LOG.info("watching {} for schedule edits every {} ms", dir, pollMs);
    return this;
  }

  /** The schedule files of a directory ({@code *.yaml}, {@code *.yml}), in name order. */
  public static List<Path> files(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")).sorted().toList();
    }
  }

  /** Checks every schedule file once; runs on the watcher's thread. */
  void poll() {
    List<Path> files;
    try {
      files = files(dir);
    } catch (IOException e) {
      LOG.warn("cannot list schedules in {}: {}", dir, e.getMessage());
      return;
    }
    for (Path f : files) {
      String text;
      try {
        text = Files.readString(f, StandardCharsets.UTF_8);
      } catch (IOException e) {
        continue; // being replaced, or unreadable text: the next poll sees the final file
      }
      if (text.equals(seen.get(f))) {
        continue;
      }
      seen.put(f, text);
      try {
        ScheduleControl.Outcome o = control.apply(text, f.toString(), false);
        if (o.changed()) {
          LOG.info("schedule edit in {} applied as version {} of {}", f, o.applied().version(), o.applied().problem());
          for (String w : o.warnings()) {
            LOG.warn("{}: {}", f, w);
          }
        }
      } catch (ScheduleException e) {
        control.reject(problemOf(text), f.toString(), e.getMessage());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException e) {
        // The broker may be unreachable: forget the text so the next poll tries again.
        seen.remove(f);
        LOG.warn("schedule edit in {} not applied yet: {}", f, e.getMessage());
      }
    }
  }

  /** The problem a file means to be for, read leniently so that even an invalid file is attributed. */
  private static String problemOf(String text) {
    Matcher m = PROBLEM_LINE.matcher(text);
    return m.find() ? m.group(1) : null;
  }

  @Override
  public void close() throws InterruptedException {
    executor.shutdownNow();
    executor.awaitTermination(5, TimeUnit.SECONDS);
  }
}
