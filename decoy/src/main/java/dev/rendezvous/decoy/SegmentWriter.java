package dev.rendezvous.decoy;

import dev.rendezvous.common.Clock;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * Appends one kind of archive line to a problem's current segment. Lines accumulate in an open gzip member;
 * {@link #sync()} finishes the member and forces the file to disk, so that every synced line survives a
 * crash. A gzip file may hold any number of members one after another ({@code zcat} and
 * {@link java.util.zip.GZIPInputStream} read them all), which is what makes appending cheap and a torn
 * last member harmless: the reader keeps the complete ones. A segment is never reopened once closed or after
 * a restart; a new one is started when the current one reaches {@code maxBytes}, is {@code maxAgeMs} old,
 * or its hour has ended. Not thread-safe: the decoy calls it from its one thread.
 *
 * <p>Each member is written by hand (RFC 1952: a ten-byte header, raw deflate, CRC-32 and length) with one
 * {@link Deflater} and one buffer for the writer's life, reset between members: a {@code GZIPOutputStream} per
 * member would set up zlib's state (about 256 KiB) and a new buffer at every sync.
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
  private final Deflater deflater = new Deflater(COMPRESSION_LEVEL, true);
  private final CRC32 crc = new CRC32();
  private final byte[] deflated = new byte[16 * 1024];
  private boolean memberOpen;
  private long memberLength;
  private int segmentsOpened;

  /**
   * zlib's level 1: measured on an archive of a load test, files 15-20% larger than at the default level 6
   * for under half the CPU time, which the decoy shares with the request path.
   */
  static final int COMPRESSION_LEVEL = Deflater.BEST_SPEED;

  /** A gzip member's header: magic, deflate, no flags, no time, no extra flags, unknown OS. */
  private static final byte[] GZIP_HEADER = {0x1f, (byte) 0x8b, Deflater.DEFLATED, 0, 0, 0, 0, 0, 0, (byte) 0xff};

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
    if (!memberOpen) {
      fileOut.write(GZIP_HEADER);
      deflater.reset();
      crc.reset();
      memberLength = 0;
      memberOpen = true;
    }
    crc.update(line);
    memberLength += line.length;
    deflater.setInput(line);
    while (!deflater.needsInput()) {
      drainDeflater();
    }
  }

  private void drainDeflater() throws IOException {
    int n = deflater.deflate(deflated, 0, deflated.length, Deflater.NO_FLUSH);
    if (n > 0) {
      fileOut.write(deflated, 0, n);
    }
  }

  /** Ends the open member: the rest of the deflate stream, then CRC-32 and length, little-endian. */
  private void finishMember() throws IOException {
    deflater.finish();
    while (!deflater.finished()) {
      drainDeflater();
    }
    writeIntLe((int) crc.getValue());
    writeIntLe((int) memberLength); // ISIZE is the length modulo 2^32
    fileOut.flush();
    memberOpen = false;
  }

  private void writeIntLe(int v) throws IOException {
    fileOut.write(v);
    fileOut.write(v >>> 8);
    fileOut.write(v >>> 16);
    fileOut.write(v >>> 24);
  }

  /** Finishes the open member and forces it to disk; then starts a new segment if this one is full or old. */
  void sync() throws IOException {
    if (memberOpen) {
      finishMember();
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
    memberOpen = false; // the next line starts a new member; the deflater is reset then
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
    try {
      sync();
      if (channel != null) {
        closeSegment();
      }
    } finally {
      deflater.end();
    }
  }
}
