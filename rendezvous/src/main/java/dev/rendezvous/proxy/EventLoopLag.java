package dev.rendezvous.proxy;

/**
 * Whether the proxy's event loop has a standing delay, judged as a controlled-delay queue (CoDel) judges its
 * queue: a probe timer is armed again and again, and how late each one fires is the time any event (a request,
 * a result, a guard timer) waits for the loop. The loop is <em>overloaded</em> once every probe for at least
 * {@code intervalUs} has fired more than {@code targetUs} late, and stays so until one fires within the target.
 * One garbage-collection pause makes one late probe and no standing delay; a flood makes them all late.
 *
 * <p>Times are microseconds on the caller's clock. Not thread-safe: the event loop that owns it feeds it and
 * reads it.
 */
public final class EventLoopLag {

  /** The smoothed delay moves an eighth of the way to each probe's, as TCP smooths its round-trip time. */
  private static final long SMOOTHING = 8;

  private final long targetUs;
  private final long intervalUs;
  private long lastLagUs;
  private long smoothedLagUs;
  private long aboveSinceUs = -1;
  private boolean overloaded;

  public EventLoopLag(long targetUs, long intervalUs) {
    this.targetUs = targetUs;
    this.intervalUs = intervalUs;
  }

  /**
   * Notes one probe.
   *
   * @param dueAtUs when the probe was due to fire
   * @param firedAtUs when it fired
   */
  public void probed(long dueAtUs, long firedAtUs) {
    lastLagUs = Math.max(0, firedAtUs - dueAtUs);
    smoothedLagUs += (lastLagUs - smoothedLagUs) / SMOOTHING;
    if (lastLagUs <= targetUs) {
      aboveSinceUs = -1;
      overloaded = false;
    } else if (aboveSinceUs < 0) {
      aboveSinceUs = firedAtUs;
    } else if (firedAtUs - aboveSinceUs >= intervalUs) {
      overloaded = true;
    }
  }

  /** True while the loop's delay has stayed above the target for a whole interval. */
  public boolean overloaded() {
    return overloaded;
  }

  /**
   * How late the loop's timers fire lately, in microseconds: the probes' delay, smoothed so that one pause moves
   * it by an eighth and a standing delay reaches it within a few intervals.
   */
  public long smoothedLagUs() {
    return smoothedLagUs;
  }

  /** How late the last probe fired, in microseconds. */
  public long lastLagUs() {
    return lastLagUs;
  }
}
