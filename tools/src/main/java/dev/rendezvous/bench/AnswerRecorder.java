package dev.rendezvous.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rendezvous.common.Json;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import java.io.IOException;
import java.net.URI;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * What a load generator's requests add up to: the latency of every HTTP answer whatever its status, the answers
 * by status, the scoring answers by who gave them, SLA misses and requests that got no answer. Safe to call from
 * any thread; a body is parsed before the lock is taken.
 */
final class AnswerRecorder {

  /**
   * A copy of what was recorded.
   *
   * @param latencyUs every HTTP answer, in microseconds
   * @param statuses HTTP answers by status code
   * @param answers 200 answers of the scoring path by model and tier, or default and its reason
   * @param answered 200 answers of the scoring path
   * @param slaMisses 200 answers of the scoring path later than the SLA
   * @param connectionErrors requests that failed without an HTTP answer
   */
  record Recorded(Histogram latencyUs, Map<Integer, Long> statuses, Map<String, Long> answers, long answered,
      long slaMisses, long connectionErrors) {}

  private final long slaUs;
  private final Histogram latencyUs = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
  private final Map<Integer, Long> statuses = new TreeMap<>();
  private final Map<String, Long> answers = new TreeMap<>();
  private long answered;
  private long slaMisses;
  private long connectionErrors;

  AnswerRecorder(double slaMs) {
    this.slaUs = (long) (slaMs * 1000);
  }

  /**
   * Records how one request ended.
   *
   * @param status the HTTP status, or 0 when the request got no answer
   * @param scoringBody the body of an answer of the scoring path (read only when the status is 200), or null
   * @param latencyUs the request's latency
   * @return the answer's key ({@link #answerKey}) when it was a 200 answer of the scoring path, else null
   */
  String record(int status, Buffer scoringBody, long latencyUs) {
    String key = status == 200 && scoringBody != null ? answerKey(scoringBody) : null;
    synchronized (this) {
      if (status == 0) {
        connectionErrors++;
        return null;
      }
      this.latencyUs.recordValue(Math.min(latencyUs, this.latencyUs.getHighestTrackableValue()));
      statuses.merge(status, 1L, Long::sum);
      if (key != null) {
        answered++;
        answers.merge(key, 1L, Long::sum);
        if (latencyUs > slaUs) {
          slaMisses++;
        }
      }
    }
    return key;
  }

  /** Whether an answer this late misses the SLA. */
  boolean missesSla(long latencyUs) {
    return latencyUs > slaUs;
  }

  synchronized Recorded recorded() {
    return new Recorded(latencyUs.copy(), new TreeMap<>(statuses), new TreeMap<>(answers), answered, slaMisses,
        connectionErrors);
  }

  /** "model/tier N", or "default (reason)". */
  static String answerKey(Buffer body) {
    try {
      JsonNode p = Json.MAPPER.readTree(body.getBytes()).path("parameters");
      if (p.isMissingNode()) {
        return "echo";
      }
      if (p.path("default").asBoolean()) {
        return "default (" + p.path("default_reason").asText() + ")";
      }
      return p.path("answered_by").asText() + " / tier " + p.path("tier").asText();
    } catch (IOException e) {
      return "unparseable";
    }
  }

  /** How many answers of a breakdown by {@link #answerKey} were defaults. */
  static long defaults(Map<String, Long> answers) {
    return answers.entrySet().stream().filter(e -> e.getKey().startsWith("default")).mapToLong(Map.Entry::getValue)
        .sum();
  }

  /** A keep-alive HTTP client of {@code connections} connections to {@code url}, which must be on loopback. */
  static HttpClient loopbackClient(Vertx vertx, String url, int connections) {
    URI uri = URI.create(url);
    String host = uri.getHost();
    if (host == null || !(host.equals("localhost") || host.startsWith("127.") || host.equals("[::1]"))) {
      throw new IllegalArgumentException("the load generator only targets loopback, not " + host);
    }
    return vertx.createHttpClient(new HttpClientOptions().setDefaultHost(host)
        .setDefaultPort(uri.getPort() < 0 ? 80 : uri.getPort()).setKeepAlive(true),
        new PoolOptions().setHttp1MaxSize(connections).setMaxWaitQueueSize(-1));
  }
}
