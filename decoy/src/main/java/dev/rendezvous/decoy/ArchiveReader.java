package dev.rendezvous.decoy;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads archive segments back. The decoy delivers at least once, so a record can appear twice (written,
 * then the process died before its offset was committed, then read again); {@link #readDistinct} keeps the
 * first copy of each. Identity is the request id for inputs (the proxy stamps one per request) and the source
 * topic, partition and offset for scores and outcomes (one request has many scores, and may get a corrected
 * outcome). A segment whose last gzip member was torn by a crash yields every complete line before the tear.
 */
public final class ArchiveReader {

  private static final Logger LOG = LoggerFactory.getLogger(ArchiveReader.class);

  private ArchiveReader() {}

  /** Every line of the files in order, duplicates included. {@code bytesRead} hears compressed bytes read. */
  public static void readAll(List<Path> files, Kind kind, Consumer<ArchivedRecord> sink, LongConsumer bytesRead) {
    for (Path f : files) {
      readFile(f, kind, sink, bytesRead);
    }
  }

  /** Every distinct record of the files, in the order first archived. */
  public static void readDistinct(List<Path> files, Kind kind, Consumer<ArchivedRecord> sink,
      LongConsumer bytesRead) {
    Set<Object> seen = new HashSet<>();
    readAll(files, kind, r -> {
      if (seen.add(identity(r))) {
        sink.accept(r);
      }
    }, bytesRead);
  }

  /** Convenience: the distinct records as a list. */
  public static List<ArchivedRecord> readDistinct(List<Path> files, Kind kind) {
    List<ArchivedRecord> out = new ArrayList<>();
    readDistinct(files, kind, out::add, n -> {});
    return out;
  }

  static Object identity(ArchivedRecord r) {
    if (r.kind() == Kind.INPUT) {
      return r.requestId();
    }
    if (r.partition() < 0) {
      return r; // replayed: written once, never re-delivered
    }
    return r.topic() + "/" + r.partition() + "/" + r.offset();
  }

  private static void readFile(Path file, Kind kind, Consumer<ArchivedRecord> sink, LongConsumer bytesRead) {
    try (CountingInput counted = new CountingInput(Files.newInputStream(file), bytesRead);
        InputStream in = new GZIPInputStream(new BufferedInputStream(counted, 64 * 1024), 64 * 1024)) {
      ByteArrayOutputStream line = new ByteArrayOutputStream(4096);
      byte[] buf = new byte[64 * 1024];
      long lineNo = 0;
      while (true) {
        int n;
        try {
          n = in.read(buf);
        } catch (EOFException | ZipException e) {
          // A torn last member: the process died while writing it, before its records' offsets were
          // committed; those records were delivered again and written to a later segment.
          LOG.debug("{} ends in an incomplete gzip member ({}); its complete lines were read", file, e.getMessage());
          return;
        }
        if (n < 0) {
          break;
        }
        int from = 0;
        for (int i = 0; i < n; i++) {
          if (buf[i] == '\n') {
            line.write(buf, from, i - from);
            lineNo++;
            emit(file, lineNo, kind, line, sink);
            line.reset();
            from = i + 1;
          }
        }
        line.write(buf, from, n - from);
      }
      if (line.size() > 0) {
        LOG.warn("{}: ignoring an unterminated last line", file);
      }
    } catch (EOFException e) {
      LOG.debug("{} is empty or torn in its first gzip header", file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read archive segment " + file, e);
    }
  }

  private static void emit(Path file, long lineNo, Kind kind, ByteArrayOutputStream line,
      Consumer<ArchivedRecord> sink) {
    byte[] bytes = line.toByteArray();
    ArchivedRecord r;
    try {
      r = ArchivedRecord.parse(kind, bytes, bytes.length);
    } catch (IllegalArgumentException e) {
      LOG.warn("{}:{}: skipping a line that is not an archive record: {}", file, lineNo, e.getMessage());
      return;
    }
    sink.accept(r);
  }

  /** Counts the compressed bytes read, for progress reports. */
  private static final class CountingInput extends java.io.FilterInputStream {
    private final LongConsumer counter;

    CountingInput(InputStream in, LongConsumer counter) {
      super(in);
      this.counter = counter;
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b >= 0) {
        counter.accept(1);
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = super.read(b, off, len);
      if (n > 0) {
        counter.accept(n);
      }
      return n;
    }
  }
}
