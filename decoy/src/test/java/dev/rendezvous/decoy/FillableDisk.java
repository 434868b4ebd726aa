package dev.rendezvous.decoy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A disk that can be made full: segment files are real files, but while {@link #fill()} is in effect every write
 * and every force fails as a full disk does ({@code IOException: No space left on device}), and so does opening
 * a new file. Truncating and closing still work, as they do on a full Linux file system.
 */
final class FillableDisk implements SegmentWriter.FileOpener {

  private final AtomicBoolean full = new AtomicBoolean();
  private final AtomicInteger refused = new AtomicInteger();

  void fill() {
    full.set(true);
  }

  void free() {
    full.set(false);
  }

  /** Writes, forces and opens refused so far. */
  int refused() {
    return refused.get();
  }

  private void check() throws IOException {
    if (full.get()) {
      refused.incrementAndGet();
      throw new IOException("No space left on device");
    }
  }

  @Override
  public FileChannel open(Path file) throws IOException {
    check();
    return new Channel(DEFAULT.open(file));
  }

  private final class Channel extends FileChannel {
    private final FileChannel d;

    Channel(FileChannel delegate) {
      this.d = delegate;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      check();
      return d.write(src);
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
      check();
      return d.write(srcs, offset, length);
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
      check();
      return d.write(src, position);
    }

    @Override
    public void force(boolean metaData) throws IOException {
      check();
      d.force(metaData);
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
      return d.read(dst);
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
      return d.read(dsts, offset, length);
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
      return d.read(dst, position);
    }

    @Override
    public long position() throws IOException {
      return d.position();
    }

    @Override
    public FileChannel position(long newPosition) throws IOException {
      d.position(newPosition);
      return this;
    }

    @Override
    public long size() throws IOException {
      return d.size();
    }

    @Override
    public FileChannel truncate(long size) throws IOException {
      d.truncate(size);
      return this;
    }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
      return d.transferTo(position, count, target);
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
      check();
      return d.transferFrom(src, position, count);
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
      return d.map(mode, position, size);
    }

    @Override
    public FileLock lock(long position, long size, boolean shared) throws IOException {
      return d.lock(position, size, shared);
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) throws IOException {
      return d.tryLock(position, size, shared);
    }

    @Override
    protected void implCloseChannel() throws IOException {
      d.close();
    }
  }
}
