package dev.rendezvous.runtime;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * Warm-up that lasts until the JIT compiler is quiet: load is applied in slices, and after each slice the JVM's
 * total compilation time ({@link CompilationMXBean#getTotalCompilationTime()}, milliseconds of compiler threads)
 * is sampled; warm-up ends once that total grew by less than {@code quietMsPerSecond} per second over the last
 * {@code windowMs}, and in any case after {@code maxMs}. A fixed warm-up ({@code fixedMs > 0}) simply runs slices
 * for that long. Time and the compilation total are read through suppliers, so the rule is tested with a made-up
 * series.
 */
public final class JitWarmUp {

  /**
   * How long to warm up.
   *
   * @param fixedMs warm up for exactly this long (in whole slices); 0 = until the JIT is quiet
   * @param minMs never stop before this
   * @param maxMs never go on after this
   * @param windowMs the compilation rate is measured over this much time
   * @param quietMsPerSecond compiler milliseconds per second below which the JIT counts as quiet
   * @param sliceMs load is applied in slices of this length, the compilation total sampled after each
   */
  public record Policy(long fixedMs, long minMs, long maxMs, long windowMs, double quietMsPerSecond, long sliceMs) {

    public Policy {
      if (sliceMs <= 0 || maxMs < 0 || windowMs <= 0) {
        throw new IllegalArgumentException("warm-up slice and window must be positive, the bound not negative");
      }
    }

    public String describe() {
      return fixedMs > 0 ? String.format(Locale.ROOT, "fixed %.0f s", fixedMs / 1000.0)
          : String.format(Locale.ROOT, "until the JIT compiled less than %.0f ms/s over %.0f s (at least %.0f s, "
              + "at most %.0f s)", quietMsPerSecond, windowMs / 1000.0, minMs / 1000.0, maxMs / 1000.0);
    }
  }

  /**
   * What a warm-up did.
   *
   * @param elapsedMs how long it lasted
   * @param quiet whether it ended because the JIT was quiet (false: fixed length, bound reached, or no
   *     compilation time available)
   * @param lastRateMsPerSecond the compilation rate over the last window at the end, NaN if not measured
   * @param compileMs compiler milliseconds spent during the warm-up
   */
  public record Result(long elapsedMs, boolean quiet, double lastRateMsPerSecond, long compileMs) {

    public String describe() {
      return String.format(Locale.ROOT, "%.1f s%s, JIT %s ms/s at the end%s", elapsedMs / 1000.0,
          quiet ? " (JIT quiet)" : "", Double.isNaN(lastRateMsPerSecond) ? "n/a"
              : String.format(Locale.ROOT, "%.1f", lastRateMsPerSecond),
          compileMs < 0 ? "" : ", " + compileMs + " ms compiling");
    }
  }

  /** Applies load for about the given time. */
  @FunctionalInterface
  public interface Slice {
    void run(long ms) throws Exception;
  }

  /** The rule on its own: samples in, "quiet" out. */
  public static final class Detector {

    private final long windowMs;
    private final double quietMsPerSecond;
    private final Deque<long[]> samples = new ArrayDeque<>();

    public Detector(long windowMs, double quietMsPerSecond) {
      this.windowMs = windowMs;
      this.quietMsPerSecond = quietMsPerSecond;
    }

    /** Adds a sample: wall time and the compilation total, both in milliseconds. */
    public void add(long nowMs, long compileMs) {
      samples.addLast(new long[] {nowMs, compileMs});
      // Keep the newest sample at least a window old as the window's start, drop older ones.
      while (samples.size() > 2) {
        long[] second = samples.stream().skip(1).findFirst().orElseThrow();
        if (nowMs - second[0] >= windowMs) {
          samples.removeFirst();
        } else {
          break;
        }
      }
    }

    /** Compiler ms per second over the last window, or NaN while the samples span less than a window. */
    public double rate() {
      if (samples.size() < 2) {
        return Double.NaN;
      }
      long[] first = samples.getFirst();
      long[] last = samples.getLast();
      long span = last[0] - first[0];
      if (span < windowMs) {
        return Double.NaN;
      }
      return (last[1] - first[1]) * 1000.0 / span;
    }

    public boolean quiet() {
      double r = rate();
      return !Double.isNaN(r) && r < quietMsPerSecond;
    }
  }

  private JitWarmUp() {}

  /** Warms up this JVM: wall time from {@link System#nanoTime()}, compilation from the platform bean. */
  public static Result run(Policy p, Slice slice) throws Exception {
    CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
    LongSupplier compile = jit != null && jit.isCompilationTimeMonitoringSupported() ? jit::getTotalCompilationTime
        : () -> -1;
    return run(p, slice, () -> System.nanoTime() / 1_000_000, compile);
  }

  /**
   * Warms up with the given clock and compilation total (milliseconds; a negative total means not available,
   * and the warm-up then lasts {@code maxMs}).
   */
  public static Result run(Policy p, Slice slice, LongSupplier nowMs, LongSupplier compileMs) throws Exception {
    Detector d = new Detector(p.windowMs(), p.quietMsPerSecond());
    long start = nowMs.getAsLong();
    long compileStart = compileMs.getAsLong();
    boolean measurable = compileStart >= 0;
    d.add(start, compileStart);
    long limit = p.fixedMs() > 0 ? p.fixedMs() : p.maxMs();
    while (nowMs.getAsLong() - start < limit) {
      slice.run(Math.min(p.sliceMs(), limit - (nowMs.getAsLong() - start)));
      long now = nowMs.getAsLong();
      d.add(now, compileMs.getAsLong());
      if (p.fixedMs() <= 0 && measurable && now - start >= p.minMs() && d.quiet()) {
        return new Result(now - start, true, d.rate(), compileMs.getAsLong() - compileStart);
      }
    }
    long end = nowMs.getAsLong();
    return new Result(end - start, false, measurable ? d.rate() : Double.NaN,
        measurable ? compileMs.getAsLong() - compileStart : -1);
  }
}
