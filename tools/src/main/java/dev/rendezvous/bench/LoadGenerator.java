package dev.rendezvous.bench;

import com.fasterxml.jackson.databind.JsonNode;
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
 * An open-loop load generator: request i is due at start + i / rate whatever happened to earlier ones, and its
 * latency is measured from that due time, not from when a connection became free, so a stall shows up in full
 * (no coordinated omission). Latencies are recorded in microseconds in an HdrHistogram with 3 significant
 * digits, for every HTTP answer whatever its status (a refusal is an answer too); a request that got no answer
 * (connection error, or none by the end) is counted, not recorded. It also reports when it could not keep its
 * own schedule: a request that obtained its connection more than {@value #LATE_SEND_MS} ms after its due time
 * was sent late (the generator starved of CPU, or all connections busy), and the most requests in flight at
 * once against the pool's size says whether the connection count capped the rate. It only sends to loopback
 * addresses and stops after a bounded count and time.
 */
public final class LoadGenerator {

  /** A request sent more than this many milliseconds after its due time counts as sent late. */
  public static final long LATE_SEND_MS = 5;

  /**
   * What to send.
   *
   * @param url base URL of a proxy on this machine
   * @param problem the problem to score
   * @param bodies request bodies, sent in turn
   * @param rate requests per second
   * @param durationMs how long to send
   * @param slaMs an answer later than this (from its due time) counts as an SLA miss
   * @param connections most concurrent HTTP connections
   */
  public record Settings(String url, String problem, List<String> bodies, double rate, long durationMs, double slaMs,
      int connections) {}

  /**
   * What came back. Latencies in microseconds.
   *
   * @param sent requests due in the run
   * @param answered answers with status 200
   * @param errors requests without a 200 answer: other statuses, connection errors and requests still unanswered
   *     at the end
   * @param slaMisses 200 answers later than the SLA
   * @param achievedRate 200 answers per second of the sending time
   * @param latencyUs every HTTP answer (any status), from its request's due time
   * @param answers 200 answers by model and tier, or default and its reason ({@link AnswerRecorder#answerKey})
   * @param statuses HTTP answers by status code
   * @param connectionErrors requests that failed without an HTTP answer or had none by the end
   * @param lateSends requests that obtained their connection more than {@link #LATE_SEND_MS} ms after due
   * @param maxSendLagUs the latest any request obtained its connection, after its due time
   * @param maxInFlight most requests in flight at once, those waiting for a free connection included; at or above
   *     the pool's size means every connection was busy at some point, and the pool may have capped the rate
   * @param firstGoodDueMs due time (ms after the start) of the first request answered 200 by a model within the
   *     SLA, or -1 if none was
   */
  public record Outcome(Settings settings, long sent, long answered, long errors, long slaMisses, double achievedRate,
      Histogram latencyUs, Map<String, Long> answers, Map<Integer, Long> statuses, long connectionErrors,
      long lateSends, long maxSendLagUs, int maxInFlight, long firstGoodDueMs) {

    public double slaAttainment() {
      return sent == 0 ? 0 : (double) (answered - slaMisses) / sent;
    }

    public double percentileMs(double p) {
      return latencyUs.getTotalCount() == 0 ? Double.NaN : latencyUs.getValueAtPercentile(p) / 1000.0;
    }

    public double maxMs() {
      return latencyUs.getTotalCount() == 0 ? Double.NaN : latencyUs.getMaxValue() / 1000.0;
    }

    /** Share of all requests sent that were answered by the default (200 with a default flag). */
    public double defaultShare() {
      return sent == 0 ? 0 : (double) AnswerRecorder.defaults(answers) / sent;
    }

    /** True when every connection of the pool was busy at some point: the pool may have capped the rate. */
    public boolean poolCapped() {
      return maxInFlight >= settings.connections();
    }
  }

  private LoadGenerator() {}

  public static Outcome run(Settings s) throws Exception {
    String path = "/v2/models/" + s.problem() + "/infer";
    long total = (long) Math.floor(s.rate() * s.durationMs() / 1000.0);
    Vertx vertx = Vertx.vertx();
    AnswerRecorder recorder = new AnswerRecorder(s.slaMs());
    AtomicLong finished = new AtomicLong();
    AtomicLong sent = new AtomicLong();
    AtomicLong lateSends = new AtomicLong();
    AtomicLong maxLagUs = new AtomicLong();
    AtomicLong firstGood = new AtomicLong(Long.MAX_VALUE);
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger maxInFlight = new AtomicInteger();
    CompletableFuture<Void> done = new CompletableFuture<>();
    List<Buffer> buffers = s.bodies().stream().map(Buffer::buffer).toList();
    try {
      HttpClient client = AnswerRecorder.loopbackClient(vertx, s.url(), s.connections());
      long startNs = System.nanoTime();
      // One event-loop tick per millisecond sends every request that has come due.
      vertx.setPeriodic(1, 1, id -> {
        long elapsedNs = System.nanoTime() - startNs;
        long due = Math.min(total, (long) (elapsedNs / 1e9 * s.rate()) + 1);
        while (sent.get() < due) {
          long i = sent.getAndIncrement();
          long dueNs = startNs + (long) (i * 1e9 / s.rate());
          Buffer body = buffers.get((int) (i % buffers.size()));
          maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
          int[] status = {0};
          client.request(HttpMethod.POST, path)
              .compose(req -> {
                long lagUs = (System.nanoTime() - dueNs) / 1000;
                maxLagUs.accumulateAndGet(lagUs, Math::max);
                if (lagUs > LATE_SEND_MS * 1000) {
                  lateSends.incrementAndGet();
                }
                return req.putHeader("content-type", "application/json").send(body);
              })
              .compose(resp -> {
                status[0] = resp.statusCode();
                return resp.body();
              })
              .onComplete(ar -> {
                inFlight.decrementAndGet();
                long latencyUs = (System.nanoTime() - dueNs) / 1000;
                String key = recorder.record(status[0], ar.succeeded() ? ar.result() : null, latencyUs);
                if (key != null && !key.startsWith("default") && !recorder.missesSla(latencyUs)) {
                  firstGood.accumulateAndGet((dueNs - startNs) / 1_000_000, Math::min);
                }
                if (finished.incrementAndGet() == total) {
                  done.complete(null);
                }
              });
        }
        if (sent.get() >= total) {
          vertx.cancelTimer(id);
        }
      });
      if (total == 0) {
        done.complete(null);
      }
      long sendTimeNs = (long) (total * 1e9 / s.rate());
      try {
        done.get(s.durationMs() + 30_000, TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        // Whatever has not come back by now counts as a connection error below.
      }
      AnswerRecorder.Recorded r = recorder.recorded();
      long missing = total - finished.get();
      double achieved = sendTimeNs == 0 ? 0 : r.answered() / (sendTimeNs / 1e9);
      long good = firstGood.get();
      return new Outcome(s, total, r.answered(), total - r.answered(), r.slaMisses(), achieved, r.latencyUs(),
          r.answers(), r.statuses(), r.connectionErrors() + missing, lateSends.get(), maxLagUs.get(),
          maxInFlight.get(), good == Long.MAX_VALUE ? -1 : good);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /** Builds single-row request bodies from the rows of a reference file ({@code rows}: arrays of numbers). */
  public static List<String> bodiesFromRows(JsonNode rows, String inputName, String datatype) {
    List<String> out = new java.util.ArrayList<>();
    for (JsonNode row : rows) {
      out.add("{\"inputs\":[{\"name\":\"" + inputName + "\",\"datatype\":\"" + datatype + "\",\"shape\":[1,"
          + row.size() + "],\"data\":" + row + "}]}");
    }
    return out;
  }

}
