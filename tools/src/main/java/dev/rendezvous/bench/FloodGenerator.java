package dev.rendezvous.bench;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * A closed-loop flood, the way {@code hey -c N} without {@code -q} floods: N workers, each on its own connection,
 * each sending its next request as soon as the previous one is answered, for a fixed time and with no rate cap.
 * Unlike {@link LoadGenerator} it measures from each request's own send time (there is no schedule to fall
 * behind); the point is how a system answers when far past its capacity. Every HTTP answer is recorded in
 * microseconds whatever its status, refusals included; a request that failed without an answer is a connection
 * error (the worker then carries on). It only sends to loopback addresses.
 */
public final class FloodGenerator {

  /**
   * What to send.
   *
   * @param url base URL of a server on this machine
   * @param method GET or POST
   * @param path request path
   * @param bodies request bodies sent in turn (POST), or empty (GET)
   * @param workers concurrent workers, one connection each
   * @param durationMs how long to send
   * @param slaMs a 200 answer later than this counts as an SLA miss
   */
  public record Settings(String url, HttpMethod method, String path, List<String> bodies, int workers,
      long durationMs, double slaMs) {}

  /**
   * What came back.
   *
   * @param sent requests sent
   * @param statuses HTTP answers by status code
   * @param connectionErrors requests that failed without an HTTP answer
   * @param latencyUs every HTTP answer, from its send time
   * @param answers 200 answers of the scoring path by model and tier, or default and its reason
   * @param slaMisses 200 answers later than the SLA
   * @param answersPerSecond HTTP answers per second of the run
   */
  public record Outcome(Settings settings, long sent, Map<Integer, Long> statuses, long connectionErrors,
      Histogram latencyUs, Map<String, Long> answers, long slaMisses, double answersPerSecond) {

    public long status(int code) {
      return statuses.getOrDefault(code, 0L);
    }

    /** Answers whose status is none of 200, 429 and 503. */
    public long otherStatuses() {
      return statuses.entrySet().stream().filter(e -> e.getKey() != 200 && e.getKey() != 429 && e.getKey() != 503)
          .mapToLong(Map.Entry::getValue).sum();
    }

    public double percentileMs(double p) {
      return latencyUs.getTotalCount() == 0 ? Double.NaN : latencyUs.getValueAtPercentile(p) / 1000.0;
    }

    public double maxMs() {
      return latencyUs.getTotalCount() == 0 ? Double.NaN : latencyUs.getMaxValue() / 1000.0;
    }

    /** Share of the 200 answers that were the default. */
    public double defaultShareOf200() {
      long ok = status(200);
      return ok == 0 ? 0 : (double) AnswerRecorder.defaults(answers) / ok;
    }
  }

  private FloodGenerator() {}

  public static Outcome run(Settings s) throws Exception {
    Vertx vertx = Vertx.vertx();
    AnswerRecorder recorder = new AnswerRecorder(s.slaMs());
    AtomicLong sent = new AtomicLong();
    AtomicInteger running = new AtomicInteger(s.workers());
    CompletableFuture<Void> done = new CompletableFuture<>();
    List<Buffer> buffers = s.bodies().stream().map(Buffer::buffer).toList();
    try {
      HttpClient client = AnswerRecorder.loopbackClient(vertx, s.url(), s.workers());
      long startNs = System.nanoTime();
      long endNs = startNs + s.durationMs() * 1_000_000;
      boolean scoring = s.path().endsWith("/infer");
      Runnable[] worker = new Runnable[s.workers()];
      for (int w = 0; w < s.workers(); w++) {
        int me = w;
        worker[w] = () -> {
          if (System.nanoTime() >= endNs) {
            if (running.decrementAndGet() == 0) {
              done.complete(null);
            }
            return;
          }
          long i = sent.getAndIncrement();
          long t0 = System.nanoTime();
          int[] status = {0};
          client.request(s.method(), s.path())
              .compose(req -> buffers.isEmpty() ? req.send()
                  : req.putHeader("content-type", "application/json").send(buffers.get((int) (i % buffers.size()))))
              .compose(resp -> {
                status[0] = resp.statusCode();
                return resp.body();
              })
              .onComplete(ar -> {
                long latencyUs = (System.nanoTime() - t0) / 1000;
                recorder.record(status[0], scoring && ar.succeeded() ? ar.result() : null, latencyUs);
                worker[me].run();
              });
        };
      }
      // Workers start on the client's event loop, as their follow-up requests do.
      vertx.runOnContext(v -> {
        for (Runnable r : worker) {
          r.run();
        }
      });
      try {
        done.get(s.durationMs() + 60_000, TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        // Workers still waiting for an answer a minute after the end: what came back is reported.
      }
      double seconds = (System.nanoTime() - startNs) / 1e9;
      AnswerRecorder.Recorded r = recorder.recorded();
      return new Outcome(s, sent.get(), r.statuses(), r.connectionErrors(), r.latencyUs(), r.answers(),
          r.slaMisses(), r.latencyUs().getTotalCount() / seconds);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }
}
