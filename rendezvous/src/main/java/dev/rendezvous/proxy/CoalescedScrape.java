package dev.rendezvous.proxy;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * {@code GET /metrics} under many pollers: one scrape at a time, at most one start per {@code minIntervalMs},
 * each request answered by the first scrape that starts after it arrived (so an answer never predates its
 * request). A scrape walks every meter of the process: 48 pollers used to keep both admin threads scraping
 * back to back, about a core of a 2-core machine taken from the request path (6% of the answers beside them
 * were defaults); coalesced, they cost one scrape per interval whatever their number. A lone scraper, such as
 * Prometheus every 15 s or a test right after a request, gets a scrape of its own at once.
 *
 * <p>Shared by the proxy's instances, whose event loops call {@link #get} concurrently.
 */
final class CoalescedScrape {

  private final Vertx vertx;
  private final WorkerExecutor executor;
  private final Callable<String> scrape;
  private final long minIntervalNanos;
  private List<Promise<String>> waiting = new ArrayList<>();
  private boolean busy;
  private long lastStartNanos;

  CoalescedScrape(Vertx vertx, WorkerExecutor executor, Callable<String> scrape, long minIntervalMs) {
    this.vertx = vertx;
    this.executor = executor;
    this.scrape = scrape;
    this.minIntervalNanos = TimeUnit.MILLISECONDS.toNanos(minIntervalMs);
    this.lastStartNanos = System.nanoTime() - minIntervalNanos;
  }

  /** The text of a scrape that starts after this call; completed on the executor's thread. */
  synchronized Future<String> get() {
    Promise<String> p = Promise.promise();
    waiting.add(p);
    if (!busy) {
      next();
    }
    return p.future();
  }

  /** Starts the next scrape now, or when the interval since the last start has passed. Holds the lock. */
  private void next() {
    busy = true;
    long waitNanos = lastStartNanos + minIntervalNanos - System.nanoTime();
    if (waitNanos <= 0) {
      run();
    } else {
      vertx.setTimer(Math.max(1, TimeUnit.NANOSECONDS.toMillis(waitNanos)), id -> {
        synchronized (this) {
          run();
        }
      });
    }
  }

  private void run() {
    List<Promise<String>> served = waiting;
    waiting = new ArrayList<>();
    lastStartNanos = System.nanoTime();
    executor.executeBlocking(scrape, false).onComplete(result -> {
      served.forEach(p -> p.handle(result));
      synchronized (this) {
        busy = false;
        if (!waiting.isEmpty()) {
          next();
        }
      }
    });
  }
}
