package dev.rendezvous.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rendezvous.common.Json;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * An open-loop load generator: request i is due at start + i / rate whatever happened to earlier ones, and its
 * latency is measured from that due time, not from when a connection became free, so a stall shows up in full
 * (no coordinated omission). Latencies are recorded in microseconds in an HdrHistogram with 3 significant
 * digits. It only sends to loopback addresses and stops after a bounded count and time.
 */
public final class LoadGenerator {

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

  /** What came back. Latencies in microseconds. */
  public record Outcome(Settings settings, long sent, long answered, long errors, long slaMisses, double achievedRate,
      Histogram latencyUs, Map<String, Long> answers) {

    public double slaAttainment() {
      return sent == 0 ? 0 : (double) (answered - slaMisses) / sent;
    }

    public double percentileMs(double p) {
      return latencyUs.getValueAtPercentile(p) / 1000.0;
    }
  }

  private LoadGenerator() {}

  public static Outcome run(Settings s) throws Exception {
    URI uri = URI.create(s.url());
    String host = uri.getHost();
    if (!host.equals("localhost") && !host.startsWith("127.") && !host.equals("[::1]")) {
      throw new IllegalArgumentException("the load generator only targets loopback, not " + host);
    }
    int port = uri.getPort() < 0 ? 80 : uri.getPort();
    String path = "/v2/models/" + s.problem() + "/infer";
    long total = (long) Math.floor(s.rate() * s.durationMs() / 1000.0);
    Vertx vertx = Vertx.vertx();
    Histogram histogram = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
    Map<String, Long> answers = new TreeMap<>();
    AtomicLong answered = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    AtomicLong slaMisses = new AtomicLong();
    AtomicLong sent = new AtomicLong();
    CompletableFuture<Void> done = new CompletableFuture<>();
    List<Buffer> buffers = s.bodies().stream().map(Buffer::buffer).toList();
    try {
      HttpClient client = vertx.createHttpClient(new HttpClientOptions().setDefaultHost(host).setDefaultPort(port)
          .setKeepAlive(true), new PoolOptions().setHttp1MaxSize(s.connections()).setMaxWaitQueueSize(-1));
      long startNs = System.nanoTime();
      long slaUs = (long) (s.slaMs() * 1000);
      // One event-loop tick per millisecond sends every request that has come due.
      vertx.setPeriodic(1, 1, id -> {
        long elapsedNs = System.nanoTime() - startNs;
        long due = Math.min(total, (long) (elapsedNs / 1e9 * s.rate()) + 1);
        while (sent.get() < due) {
          long i = sent.getAndIncrement();
          long dueNs = startNs + (long) (i * 1e9 / s.rate());
          Buffer body = buffers.get((int) (i % buffers.size()));
          client.request(HttpMethod.POST, path)
              .compose(req -> req.putHeader("content-type", "application/json").send(body))
              .compose(resp -> resp.body().map(b -> resp.statusCode() == 200 ? b : null))
              .onComplete(ar -> {
                long latencyUs = (System.nanoTime() - dueNs) / 1000;
                synchronized (histogram) {
                  histogram.recordValue(Math.min(latencyUs, histogram.getHighestTrackableValue()));
                  if (ar.succeeded() && ar.result() != null) {
                    answered.incrementAndGet();
                    if (latencyUs > slaUs) {
                      slaMisses.incrementAndGet();
                    }
                    answers.merge(answerKey(ar.result()), 1L, Long::sum);
                  } else {
                    errors.incrementAndGet();
                  }
                }
                if (answered.get() + errors.get() == total) {
                  done.complete(null);
                }
              });
        }
        if (sent.get() >= total) {
          vertx.cancelTimer(id);
        }
      });
      long sendTimeNs = (long) (total * 1e9 / s.rate());
      try {
        done.get(s.durationMs() + 30_000, TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        // Whatever has not come back by now counts as an error below.
      }
      long finished = answered.get() + errors.get();
      errors.addAndGet(total - finished);
      double achieved = sendTimeNs == 0 ? 0 : answered.get() / (sendTimeNs / 1e9);
      synchronized (histogram) {
        return new Outcome(s, total, answered.get(), errors.get(), slaMisses.get(), achieved, histogram.copy(),
            new TreeMap<>(answers));
      }
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /** "model/tier N", or "default (reason)". */
  private static String answerKey(Buffer body) {
    try {
      JsonNode p = Json.MAPPER.readTree(body.getBytes()).path("parameters");
      if (p.isMissingNode()) {
        return "echo";
      }
      if (p.path("default").asBoolean()) {
        return "default (" + p.path("default_reason").asText() + ")";
      }
      return p.path("answered_by").asText() + " / tier " + p.path("tier").asText();
    } catch (java.io.IOException e) {
      return "unparseable";
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
