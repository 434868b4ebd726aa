package dev.rendezvous.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Many pollers of /metrics cost one scrape at a time, and no answer predates its request. */
class CoalescedScrapeTest {

  final Vertx vertx = Vertx.vertx();
  final WorkerExecutor executor = vertx.createSharedWorkerExecutor("scrape-test", 2);
  final AtomicInteger started = new AtomicInteger();
  final AtomicInteger running = new AtomicInteger();
  final AtomicInteger mostAtOnce = new AtomicInteger();
  volatile CountDownLatch release = new CountDownLatch(0);

  /** A scrape whose text is its own number, held until {@link #release} opens. */
  String scrape() throws InterruptedException {
    int n = started.incrementAndGet();
    mostAtOnce.accumulateAndGet(running.incrementAndGet(), Math::max);
    try {
      release.await(10, TimeUnit.SECONDS);
      return Integer.toString(n);
    } finally {
      running.decrementAndGet();
    }
  }

  @AfterEach
  void close() {
    vertx.close().await();
  }

  @Test
  void pollers_arriving_during_a_scrape_share_the_next_one_and_never_get_an_older_one() throws Exception {
    CoalescedScrape scrapes = new CoalescedScrape(vertx, executor, this::scrape, 0);
    release = new CountDownLatch(1);
    Future<String> first = scrapes.get();
    while (started.get() < 1) {
      Thread.sleep(1);
    }
    List<Future<String>> during = new ArrayList<>();
    for (int i = 0; i < 48; i++) {
      during.add(scrapes.get());
    }
    release.countDown();
    assertThat(first.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS)).isEqualTo("1");
    for (Future<String> f : during) {
      assertThat(f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS))
          .as("asked during scrape 1: answered by scrape 2, which started after").isEqualTo("2");
    }
    assertThat(started.get()).as("49 requests, two scrapes").isEqualTo(2);
    assertThat(mostAtOnce.get()).as("one scrape at a time, though the executor has two threads").isEqualTo(1);

    // A lone request later gets a scrape of its own.
    assertThat(scrapes.get().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS)).isEqualTo("3");
  }

  @Test
  void back_to_back_requests_wait_for_the_interval_between_two_starts() throws Exception {
    CoalescedScrape scrapes = new CoalescedScrape(vertx, executor, this::scrape, 200);
    long t0 = System.nanoTime();
    assertThat(scrapes.get().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS)).isEqualTo("1");
    assertThat(scrapes.get().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS)).isEqualTo("2");
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).as("the second started 200 ms after the first")
        .isGreaterThanOrEqualTo(199);
  }
}
