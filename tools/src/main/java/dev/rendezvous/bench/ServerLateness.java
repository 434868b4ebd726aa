package dev.rendezvous.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;

/**
 * The server's own count of answers written after their deadline, read from its {@code /metrics} as an operator
 * would: {@code rdv_proxy_answer_lateness_seconds} counts every such answer, and its {@code le="0.005"} bucket
 * those within 5 ms of it. The generator's latencies count from each request's due time, so they also hold the
 * generator's own late sends and the wait before the server reads a request; this is the promise as the server
 * keeps it: every admitted request answered by its deadline plus at most 5 ms.
 */
public final class ServerLateness {

  private static final String NAME = "rdv_proxy_answer_lateness_seconds";
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  /**
   * Answers written after their deadline, and those of them more than 5 ms after it.
   *
   * @param late answers written after their deadline
   * @param beyondGrace answers written more than 5 ms after their deadline
   */
  public record Count(long late, long beyondGrace) {

    public Count minus(Count earlier) {
      return new Count(late - earlier.late, beyondGrace - earlier.beyondGrace);
    }
  }

  private ServerLateness() {}

  /** The counts now for {@code problem}, or empty when the system has no such metric (the relays have none). */
  public static Optional<Count> read(String baseUrl, String problem) {
    try {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(baseUrl + "/metrics"))
          .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? parse(r.body(), problem) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }

  /** The counts of {@code problem} in a Prometheus text exposition, or empty when it has none. */
  static Optional<Count> parse(String exposition, String problem) {
    String label = "problem=\"" + problem + "\"";
    double count = Double.NaN;
    double withinGrace = Double.NaN;
    for (String line : exposition.split("\n")) {
      if (!line.startsWith(NAME) || !line.contains(label)) {
        continue;
      }
      if (line.startsWith(NAME + "_count{")) {
        count = value(line);
      } else if (line.startsWith(NAME + "_bucket{") && line.contains("le=\"0.005\"")) {
        withinGrace = value(line);
      }
    }
    if (Double.isNaN(count) || Double.isNaN(withinGrace)) {
      return Optional.empty();
    }
    return Optional.of(new Count((long) count, (long) (count - withinGrace)));
  }

  private static double value(String line) {
    return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
  }
}
