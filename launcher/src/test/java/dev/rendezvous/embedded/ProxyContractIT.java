package dev.rendezvous.embedded;

import static dev.rendezvous.embedded.TestSystems.get;
import static dev.rendezvous.embedded.TestSystems.inferBody;
import static dev.rendezvous.embedded.TestSystems.post;
import static dev.rendezvous.embedded.TestSystems.runner;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rendezvous.common.Json;
import dev.rendezvous.embedded.TestSystems.Response;
import dev.rendezvous.broker.EmbeddedKafka;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.PoolOptions;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The proxy's Open Inference Protocol contract: metadata, every kind of bad input, and concurrency. */
class ProxyContractIT {

  static final String P = "contract";
  @TempDir static Path dir;
  static EmbeddedKafka broker;
  static EmbeddedSystem system;
  static JsonNode reference;
  final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    broker = EmbeddedKafka.start(dir.resolve("broker"), 0);
    reference = TestSystems.reference();
    // The contract without refusals, a thousand requests at once among it: admission out of the way
    // (AdmissionEndToEndIT checks exactly-once answers with refusals).
    system = TestSystems.start(broker, dir, P, true, List.of(runner(P, "bc-mlp"), runner(P, "bc-gbt"),
        runner(P, "bc-logreg"), runner(P, "bc-canary")), TestSystems.PERMISSIVE);
  }

  @AfterAll
  static void stop() throws Exception {
    system.close();
    broker.close();
  }

  private String infer() {
    return system.url() + "/v2/models/" + P + "/infer";
  }

  private String goodBody() {
    return inferBody("good", reference.get("rows").get(0), null);
  }

  @Test
  void serverAndModelMetadata() throws Exception {
    assertThat(get(http, system.url() + "/v2/health/live").body().get("live").asBoolean()).isTrue();
    Response ready = get(http, system.url() + "/v2/health/ready");
    assertThat(ready.status()).isEqualTo(200);
    assertThat(ready.body().get("ready").asBoolean()).isTrue();
    assertThat(get(http, system.url() + "/v2").body().get("name").asText()).isEqualTo("rendezvous");
    assertThat(get(http, system.url() + "/v2/models").body().get("models").get(0).get("name").asText()).isEqualTo(P);
    Response meta = get(http, system.url() + "/v2/models/" + P);
    assertThat(meta.status()).isEqualTo(200);
    assertThat(meta.body().get("inputs").get(0).get("name").asText()).isEqualTo("features");
    assertThat(meta.body().get("inputs").get(0).get("shape").toString()).isEqualTo("[-1,30]");
    assertThat(meta.body().get("outputs").get(0).get("name").asText()).isEqualTo("probability");
    assertThat(get(http, system.url() + "/v2/models/" + P + "/ready").status()).isEqualTo(200);
    assertThat(get(http, system.url() + "/v2/models/nope").status()).isEqualTo(404);
    assertThat(get(http, system.url() + "/v2/models/nope/ready").status()).isEqualTo(404);
  }

  static Stream<Arguments> badRequests() {
    String row = "[" + String.join(",", java.util.Collections.nCopies(30, "1.5")) + "]";
    String tensor = "{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":[1,30],\"data\":" + row + "}";
    return Stream.of(
        Arguments.of("malformed JSON", "{\"inputs\": [", 400, "malformed JSON"),
        Arguments.of("not an object", "[1,2]", 400, "JSON object"),
        Arguments.of("no inputs", "{\"id\":\"x\"}", 400, "'inputs'"),
        Arguments.of("missing input", "{\"inputs\":[{\"name\":\"other\",\"datatype\":\"FP32\",\"shape\":[1],"
            + "\"data\":[1]}]}", 400, "unknown input 'other'"),
        Arguments.of("unknown extra input", "{\"inputs\":[" + tensor + ",{\"name\":\"extra\",\"datatype\":\"FP32\","
            + "\"shape\":[1],\"data\":[1]}]}", 400, "unknown input 'extra'"),
        Arguments.of("wrong datatype", "{\"inputs\":[" + tensor.replace("FP32", "INT64") + "]}", 400,
            "must have datatype FP32"),
        Arguments.of("unsupported datatype", "{\"inputs\":[" + tensor.replace("FP32", "FP8") + "]}", 400,
            "not supported"),
        Arguments.of("wrong shape", "{\"inputs\":[" + tensor.replace("[1,30]", "[1,29]") + "]}", 400,
            "must have shape [-1, 30]"),
        Arguments.of("element count", "{\"inputs\":[" + tensor.replace("[1,30]", "[2,30]") + "]}", 400,
            "needs 60 elements, data has 30"),
        Arguments.of("non-numeric data", "{\"inputs\":[" + tensor.replace("[1.5,", "[\"a\",") + "]}", 400,
            "only numbers"),
        Arguments.of("negative deadline", "{\"parameters\":{\"deadline_ms\":-5},\"inputs\":[" + tensor + "]}", 400,
            "deadline_ms must be a positive number"),
        Arguments.of("string deadline", "{\"parameters\":{\"deadline_ms\":\"soon\"},\"inputs\":[" + tensor + "]}",
            400, "deadline_ms must be a positive number"),
        Arguments.of("zero deadline", "{\"parameters\":{\"deadline_ms\":0},\"inputs\":[" + tensor + "]}", 400,
            "deadline_ms must be a positive number"),
        Arguments.of("deadline past the maximum", "{\"parameters\":{\"deadline_ms\":1e16},\"inputs\":[" + tensor
            + "]}", 400, "deadline_ms may be at most 60000 ms"),
        Arguments.of("dimension of 2^64+1", "{\"inputs\":[" + tensor.replace("[1,30]", "[18446744073709551617,30]")
            + "]}", 400, "shape must be an array of integers from 0 to"),
        Arguments.of("trailing bytes", "{\"inputs\":[" + tensor + "]} {\"inputs\":[]}", 400, "malformed JSON"),
        Arguments.of("trailing garbage", "{\"inputs\":[" + tensor + "]}xyz", 400, "malformed JSON"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badRequests")
  void badInputGetsAClearClientErrorAndTheServerKeepsServing(String what, String body, int status, String message)
      throws Exception {
    Response bad = post(http, infer(), body);
    assertThat(bad.status()).isEqualTo(status);
    assertThat(bad.body().get("error").asText()).contains(message);

    Response good = TestSystems.postWithinFirstTier(http, infer(), goodBody());
    assertThat(good.status()).isEqualTo(200);
    assertThat(good.body().get("parameters").get("answered_by").asText()).isEqualTo("bc-mlp");
  }

  @Test
  void unknownProblemIs404() throws Exception {
    Response r = post(http, system.url() + "/v2/models/nope/infer", goodBody());
    assertThat(r.status()).isEqualTo(404);
    assertThat(r.body().get("error").asText()).contains("unknown problem 'nope'").contains(P);
  }

  @Test
  void bodyOverTheLimitIs413() throws Exception {
    String huge = "{\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":[1,30],\"data\":["
        + "1.0,".repeat(400_000) + "1.0]}]}";
    Response r = post(http, infer(), huge);
    assertThat(r.status()).isEqualTo(413);
    assertThat(r.body().get("error").asText()).contains("exceeds the limit");
    assertThat(post(http, infer(), goodBody()).status()).isEqualTo(200);
  }

  @Test
  void aBatchedRequestGetsOneRowPerInputRow() throws Exception {
    JsonNode rows = reference.get("rows");
    StringBuilder data = new StringBuilder();
    for (int i = 0; i < 3; i++) {
      rows.get(i).forEach(v -> data.append(data.length() == 0 ? "" : ",").append(v.asDouble()));
    }
    Response r = post(http, infer(), "{\"id\":\"batch\",\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP32\","
        + "\"shape\":[3,30],\"data\":[" + data + "]}]}");
    JsonNode out = r.body().get("outputs").get(0);
    assertThat(out.get("shape").toString()).isEqualTo("[3,1]");
    for (int i = 0; i < 3; i++) {
      assertThat(out.get("data").get(i).asDouble())
          .isCloseTo(reference.get("predictions").get("bc-mlp").get(i).asDouble(), org.assertj.core.api.Assertions.within(1e-5));
    }
  }

  @Test
  void aThousandConcurrentRequestsEachGetExactlyOneAnswerWithTheirOwnId() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      WebClient client = WebClient.create(vertx, new WebClientOptions()
          .setDefaultHost("127.0.0.1").setDefaultPort(system.port()), new PoolOptions().setHttp1MaxSize(64));
      int n = 1000;
      List<Future<HttpResponse<Buffer>>> futures = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        String body = inferBody("c-" + i, reference.get("rows").get(i % 114), 2_000.0);
        futures.add(client.post("/v2/models/" + P + "/infer").putHeader("content-type", "application/json")
            .sendBuffer(Buffer.buffer(body)));
      }
      Future.all(futures).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      Map<String, Integer> answers = new HashMap<>();
      for (Future<HttpResponse<Buffer>> f : futures) {
        HttpResponse<Buffer> r = f.result();
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode body = Json.MAPPER.readTree(r.body().getBytes());
        answers.merge(body.get("id").asText(), 1, Integer::sum);
      }
      assertThat(answers).hasSize(n);
      assertThat(answers.values()).containsOnly(1);
      for (int i = 0; i < n; i++) {
        assertThat(answers).containsKey("c-" + i);
      }
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  private java.net.http.HttpResponse<String> postAs(String contentType, String body) throws Exception {
    java.net.http.HttpRequest.Builder b = java.net.http.HttpRequest.newBuilder(java.net.URI.create(infer()))
        .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body));
    if (contentType != null) {
      b.header("content-type", contentType);
    }
    return http.send(b.build(), java.net.http.HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aDeclaredContentTypeMustBeJsonAndAMissingOneIsReadAsJson() throws Exception {
    java.net.http.HttpResponse<String> form = postAs("application/x-www-form-urlencoded", goodBody());
    assertThat(form.statusCode()).isEqualTo(415);
    assertThat(Json.MAPPER.readTree(form.body()).get("error").asText())
        .contains("content-type 'application/x-www-form-urlencoded' is not accepted here")
        .contains("-H 'content-type: application/json'");
    assertThat(postAs("text/plain", goodBody()).statusCode()).isEqualTo(415);
    assertThat(postAs("application/yaml", goodBody()).statusCode()).isEqualTo(415);
    assertThat(postAs("application/json; charset=utf-8", goodBody()).statusCode()).isEqualTo(200);
    assertThat(postAs("Application/JSON", goodBody()).statusCode()).isEqualTo(200);
    assertThat(postAs(null, goodBody()).statusCode()).isEqualTo(200);
  }

  @Test
  void aBatchWhoseRecordWouldExceedTheProducerLimitIs413WithWhatToDo() throws Exception {
    // 9,000 rows of integer ones: 0.54 MB of body, under the 1 MiB HTTP limit, but each 1 is written to the
    // record as 1.0, which makes a record above the producer's 1 MiB max.request.size.
    int rows = 9_000;
    String data = String.join(",", java.util.Collections.nCopies(rows * 30, "1"));
    String body = "{\"id\":\"big\",\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":["
        + rows + ",30],\"data\":[" + data + "]}]}";
    assertThat(body.length()).isLessThan(1 << 20);
    Response r = post(http, infer(), body);
    assertThat(r.status()).isEqualTo(413);
    assertThat(r.body().get("error").asText()).contains("max.request.size").contains("1048576")
        .contains("9000 rows in smaller batches");
    assertThat(post(http, infer(), goodBody()).status()).isEqualTo(200);
  }

  @Test
  void requestIdsAreDistinctAndCarryNinetySixRandomBitsEach() throws Exception {
    List<byte[]> bits = new ArrayList<>();
    java.util.Set<String> ids = new java.util.HashSet<>();
    String prefix = null;
    for (int i = 0; i < 40; i++) {
      String id = post(http, infer(), goodBody()).body().get("parameters").get("request_id").asText();
      assertThat(ids.add(id)).as(id).isTrue();
      // <proxy id>-<16 characters of URL-safe Base64: 96 bits>
      assertThat(id.charAt(id.length() - 17)).as(id).isEqualTo('-');
      String own = id.substring(0, id.length() - 17);
      prefix = prefix == null ? own : prefix;
      assertThat(own).as("the proxy's prefix").isEqualTo(prefix);
      bits.add(java.util.Base64.getUrlDecoder().decode(id.substring(id.length() - 16)));
    }
    // Consecutive ids differ in about half of their 96 bits; a counter would differ in a few low ones.
    for (int i = 1; i < bits.size(); i++) {
      int differing = 0;
      for (int k = 0; k < 12; k++) {
        differing += Integer.bitCount((bits.get(i)[k] ^ bits.get(i - 1)[k]) & 0xff);
      }
      assertThat(differing).as("bits differing between ids %d and %d", i - 1, i).isBetween(16, 80);
    }
  }
}
