package dev.rendezvous.decoy;

import dev.rendezvous.common.Clock;
import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.GZIPOutputStream;

/**
 * Appends one kind of archive line to a problem's current segment. Lines accumulate in an open gzip member;
 * {@link #sync()} finishes the member and forces the file to disk, so that every synced line survives a
 * crash. A gzip file may hold any number of members one after another ({@code zcat} and
 * {@link java.util.zip.GZIPInputStream} read them all), which is what makes appending cheap and a torn
 * last member harmless: the reader keeps the complete ones. A segment is never reopened once closed or after
 * a restart; a new one is started when the current one reaches {@code maxBytes}, is {@code maxAgeMs} old,
 * or its hour has ended. Not thread-safe: the decoy calls it from its one thread.
 *
 * <p>When a write or a sync fails (a full disk), {@link #discardUnsynced()} cuts the segment back to what the
 * last sync made durable, so that the lines written again afterwards are in the archive once.
 */
public final class SegmentWriter implements AutoCloseable {

  /** Opens a new segment file for writing; the seam where tests put a disk that fills up. */
  @FunctionalInterface
  interface FileOpener {
    FileChannel open(Path file) throws IOException;

    FileOpener DEFAULT = file -> FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
  }

  private final ArchiveLayout layout;
  private final String problem;
  private final Kind kind;
  private final String writerId;
  private final long maxBytes;
  private final long maxAgeMs;
  private final Clock clock;
  private final FileOpener opener;
  private FileChannel channel;
  private long syncedBytes;
  private Path file;
  private long openedAtMs;
  private long hourEndMs;
  private OutputStream fileOut;
  private GZIPOutputStream member;
  private int segmentsOpened;

  public SegmentWriter(ArchiveLayout layout, String problem, Kind kind, String writerId, long maxBytes, long maxAgeMs,
      Clock clock) {
    this(layout, problem, kind, writerId, maxBytes, maxAgeMs, clock, FileOpener.DEFAULT);
  }

  SegmentWriter(ArchiveLayout layout, String problem, Kind kind, String writerId, long maxBytes, long maxAgeMs,
      Clock clock, FileOpener opener) {
    this.opener = opener;
    this.layout = layout;
    this.problem = problem;
    this.kind = kind;
    this.writerId = writerId;
    this.maxBytes = maxBytes;
    this.maxAgeMs = maxAgeMs;
    this.clock = clock;
  }

  /** Adds a line to the open member; it is durable only after the next {@link #sync()}. */
  public void append(byte[] line) throws IOException {
    if (channel == null) {
      open();
    }
    if (member == null) {
      member = new GZIPOutputStream(new FilterOutputStream(fileOut) {
        @Override
        public void write(byte[] b, int off, int len) throws IOException {
          out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
          flush(); // finishing a member must not close the file
        }
      }, 64 * 1024);
    }
    member.write(line);
  }

  /** Finishes the open member and forces it to disk; then starts a new segment if this one is full or old. */
  void sync() throws IOException {
    if (member != null) {
      member.close();
      member = null;
      channel.force(false);
      syncedBytes = channel.position();
    }
    if (channel != null) {
      long now = clock.nowMicros() / 1000;
      if (channel.size() >= maxBytes || now - openedAtMs >= maxAgeMs || now >= hourEndMs) {
        closeSegment();
      }
    }
  }

  /**
   * Drops every line appended since the last successful {@link #sync()}: the open member is abandoned and the
   * segment cut back to its synced length (a segment with nothing synced is deleted). If even that fails, the
   * segment is closed as it is and the next line opens a new one; its tail then holds at most a torn or an
   * uncommitted member, which the reader skips or de-duplicates.
   */
  void discardUnsynced() {
    member = null; // its deflater is freed when collected; closing it would write to the file
    fileOut = null;
    if (channel == null) {
      return;
    }
    try {
      if (syncedBytes == 0) {
        channel.close();
        Files.deleteIfExists(file);
        channel = null;
        file = null;
        return;
      }
      channel.truncate(syncedBytes);
      channel.position(syncedBytes);
      fileOut = new BufferedOutputStream(Channels.newOutputStream(channel), 64 * 1024);
    } catch (IOException e) {
      try {
        channel.close();
      } catch (IOException ignored) {
        // closing is all that is left to try
      }
      channel = null;
      file = null;
    }
  }

  /** The current segment, or null when none is open. */
  Path file() {
    return file;
  }

  private void open() throws IOException {
    long now = clock.nowMicros() / 1000;
    Path dir = layout.hourDir(problem, now);
    boolean created = !Files.isDirectory(dir);
    Files.createDirectories(dir);
    file = dir.resolve(ArchiveLayout.segmentName(kind, now, writerId + "-" + segmentsOpened++));
    channel = opener.open(file);
    syncedBytes = 0;
    fileOut = new BufferedOutputStream(Channels.newOutputStream(channel), 64 * 1024);
    openedAtMs = now;
    hourEndMs = (now / 3_600_000L + 1) * 3_600_000L;
    // The new file's name must be durable too, or a crash could lose the whole file.
    forceDirectory(dir);
    if (created) {
      forceDirectory(dir.getParent());
      forceDirectory(dir.getParent().getParent());
    }
  }

  private void closeSegment() throws IOException {
    fileOut.flush();
    channel.close();
    channel = null;
    fileOut = null;
    file = null;
  }

  static void forceDirectory(Path dir) {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException e) {
      // Some file systems cannot open a directory for syncing; the file's own force still holds its data.
    }
  }

  @Override
  public void close() throws IOException {
    sync();
    if (channel != null) {
      closeSegment();
    }
  }
}
