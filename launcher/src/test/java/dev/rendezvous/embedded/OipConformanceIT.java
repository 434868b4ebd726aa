package dev.rendezvous.embedded;

import static dev.rendezvous.embedded.TestSystems.get;
import static dev.rendezvous.embedded.TestSystems.post;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rendezvous.common.Datatype;
import dev.rendezvous.common.InferenceRequest;
import dev.rendezvous.common.Json;
import dev.rendezvous.common.Role;
import dev.rendezvous.common.Tensor;
import dev.rendezvous.common.Topics;
import dev.rendezvous.embedded.TestSystems.Response;
import dev.rendezvous.broker.EmbeddedKafka;
import dev.rendezvous.runner.RunnerConfig;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Open Inference Protocol REST surface, walked end to end against the embedded default: every endpoint
 * (versioned ones included), every datatype in its JSON and binary forms through the proxy, the input topic and a
 * real ONNX model ({@code echo-all-types.onnx}, which returns each input it takes as {@code <name>_out} and computes
 * {@code bool_not}), requested outputs, and the binary tensor data extension both ways. UINT16, UINT32 and UINT64,
 * which ONNX Runtime's Java API cannot feed, go as far as the input topic.
 */
class OipConformanceIT {

  static final String P = "oip";
  static final List<Datatype> FED = List.of(Datatype.BOOL, Datatype.UINT8, Datatype.INT8, Datatype.INT16,
      Datatype.INT32, Datatype.INT64, Datatype.FP16, Datatype.FP32, Datatype.FP64, Datatype.BYTES);
  static final List<Datatype> TOPIC_ONLY = List.of(Datatype.UINT16, Datatype.UINT32, Datatype.UINT64);

  @TempDir static Path dir;
  static EmbeddedKafka broker;
  static EmbeddedSystem system;
  static KafkaConsumer<String, byte[]> inputTopic;
  final HttpClient http = HttpClient.newHttpClient();

  static String name(Datatype d) {
    return d.name().toLowerCase();
  }

  /** Every input; the outputs the echo model gives, each with a default of its own type. */
  static String schedule() {
    StringBuilder s = new StringBuilder("problem: " + P + "\ndeadline_ms: 2500\ninputs:\n");
    Stream.concat(FED.stream(), TOPIC_ONLY.stream()).forEach(d ->
        s.append("  - {name: ").append(name(d)).append(", datatype: ").append(d).append(", shape: [-1, 2]}\n"));
    s.append("outputs:\n");
    FED.forEach(d -> s.append("  - {name: ").append(name(d)).append("_out, datatype: ").append(d)
        .append(", shape: [-1, 2]}\n"));
    s.append("  - {name: bool_not, datatype: BOOL, shape: [-1, 2]}\n");
    s.append("tiers:\n  - {until_ms: 2000, accept: [echo]}\ndefault:\n  outputs:\n");
    FED.forEach(d -> s.append("    - {name: ").append(name(d)).append("_out, datatype: ").append(d)
        .append(", shape: [1, 2], data: ").append(switch (d) {
          case BOOL -> "[true, false]";
          case BYTES -> "[\"none\", \"\"]";
          default -> "[1, 0]";
        }).append("}\n"));
    s.append("    - {name: bool_not, datatype: BOOL, shape: [1, 2], data: [false, true]}\n");
    return s.toString();
  }

  @BeforeAll
  static void start() throws Exception {
    broker = EmbeddedKafka.start(dir.resolve("broker"), 0);
    Path schedules = Files.createDirectories(dir.resolve("schedules"));
    Files.writeString(schedules.resolve(P + ".yaml"), schedule());
    RunnerConfig echo = new RunnerConfig(P, "echo", "1", Role.SERVING,
        TestSystems.REPO.resolve("model-runners/models/conformance/echo-all-types.onnx"), 64, 1, 1, null, null, 0);
    system = TestSystems.start(dir.resolve(P), schedules, broker.bootstrapServers(), 2, List.of(echo),
        TestSystems.PERMISSIVE);
    Properties props = new Properties();
    props.put("bootstrap.servers", broker.bootstrapServers());
    inputTopic = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
    List<TopicPartition> partitions = inputTopic.partitionsFor(Topics.of(P).input()).stream()
        .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
    inputTopic.assign(partitions);
    inputTopic.seekToEnd(partitions);
    partitions.forEach(inputTopic::position);
  }

  @AfterAll
  static void stop() throws Exception {
    inputTopic.close();
    system.close();
    broker.close();
  }

  /** Two elements of each datatype, its extremes where JSON can carry them, in JSON form and as a tensor. */
  static String json(Datatype d) {
    return switch (d) {
      case BOOL -> "[true, false]";
      case BYTES -> "[\"héllo, \\\"wörld\\\" 😀\", \"\"]";
      case FP16 -> "[-65504, 0.5]";
      case FP32 -> "[-3.4028234663852886E38, 0.25]";
      case FP64 -> "[-1.7976931348623157E308, 0.1]";
      case UINT64 -> "[0, 9007199254740992]";
      case INT64 -> "[-9007199254740992, 9007199254740992]";
      default -> "[" + d.min() + ", " + d.max() + "]";
    };
  }

  static Tensor tensor(Datatype d) {
    long[] shape = {1, 2};
    return switch (d) {
      case BOOL -> new Tensor(name(d), "BOOL", shape, new double[] {1, 0});
      case BYTES -> Tensor.ofStrings(name(d), shape, List.of("héllo, \"wörld\" 😀", ""));
      case FP16 -> new Tensor(name(d), "FP16", shape, new double[] {-65504, 0.5});
      case FP32 -> new Tensor(name(d), "FP32", shape, new double[] {-Float.MAX_VALUE, 0.25});
      case FP64 -> new Tensor(name(d), "FP64", shape, new double[] {-Double.MAX_VALUE, 0.1});
      default -> new Tensor(name(d), d.name(), shape, new double[] {d.min(), d.max()});
    };
  }

  static List<Datatype> all() {
    return Stream.concat(FED.stream(), TOPIC_ONLY.stream()).toList();
  }

  static String inputsJson() {
    List<String> inputs = new ArrayList<>();
    for (Datatype d : all()) {
      inputs.add("{\"name\": \"" + name(d) + "\", \"datatype\": \"" + d + "\", \"shape\": [1, 2], \"data\": " + json(d)
          + "}");
    }
    return "[" + String.join(", ", inputs) + "]";
  }

  String url(String path) {
    return system.url() + path;
  }

  long servedVersion() throws Exception {
    return get(http, url("/v2/models/" + P)).body().get("versions").get(0).asLong();
  }

  /** The request the proxy wrote to the input topic under this request id. */
  static InferenceRequest fromInputTopic(String requestId) {
    long until = System.currentTimeMillis() + 30_000;
    while (System.currentTimeMillis() < until) {
      for (ConsumerRecord<String, byte[]> r : inputTopic.poll(Duration.ofMillis(200))) {
        if (r.key().equals(requestId)) {
          return Json.decode(r.value(), InferenceRequest.class);
        }
      }
    }
    throw new AssertionError("request " + requestId + " not seen on the input topic in 30 s");
  }

  static JsonNode output(JsonNode body, String name) {
    for (JsonNode o : body.get("outputs")) {
      if (o.get("name").asText().equals(name)) {
        return o;
      }
    }
    throw new AssertionError("no output " + name + " in " + body);
  }

  /** The JSON data of an output compared with the tensor sent: FP16 and FP32 as floats, BOOL as booleans. */
  static void assertEchoed(JsonNode data, Tensor sent) {
    assertThat(data.size()).isEqualTo(sent.size());
    for (int i = 0; i < sent.size(); i++) {
      JsonNode v = data.get(i);
      switch (Datatype.parse(sent.datatype())) {
        case BYTES -> assertThat(v.asText()).isEqualTo(sent.strings().get(i));
        case BOOL -> assertThat(v.isBoolean() && v.asBoolean() == (sent.data()[i] != 0)).as(v.toString()).isTrue();
        case FP16, FP32 -> assertThat((float) v.asDouble()).isEqualTo((float) sent.data()[i]);
        case FP64 -> assertThat(v.asDouble()).isEqualTo(sent.data()[i]);
        default -> assertThat(v.isIntegralNumber() && v.asLong() == (long) sent.data()[i]).as(v.toString()).isTrue();
      }
    }
  }

  @Test
  void every_metadata_and_health_endpoint_answers_as_the_protocol_says() throws Exception {
    assertThat(get(http, url("/v2/health/live")).body().get("live").asBoolean()).isTrue();
    assertThat(get(http, url("/v2/health/ready")).status()).isEqualTo(200);
    JsonNode server = get(http, url("/v2")).body();
    assertThat(server.get("name").asText()).isEqualTo("rendezvous");
    assertThat(server.get("extensions").toString()).contains("binary_tensor_data");
    assertThat(get(http, url("/v2/models")).body().get("models").get(0).get("name").asText()).isEqualTo(P);
    Response meta = get(http, url("/v2/models/" + P));
    assertThat(meta.status()).isEqualTo(200);
    Map<String, String> datatypes = new LinkedHashMap<>();
    meta.body().get("inputs").forEach(i -> datatypes.put(i.get("name").asText(), i.get("datatype").asText()));
    all().forEach(d -> assertThat(datatypes).containsEntry(name(d), d.name()));
    assertThat(meta.body().get("outputs")).hasSize(FED.size() + 1);
    Response ready = get(http, url("/v2/models/" + P + "/ready"));
    assertThat(ready.status()).isEqualTo(200);
    assertThat(ready.body().get("ready").asBoolean()).isTrue();
  }

  @Test
  void versioned_routes_answer_for_the_served_schedule_version_and_404_for_any_other() throws Exception {
    long v = servedVersion();
    String versioned = "/v2/models/" + P + "/versions/" + v;
    Response meta = get(http, url(versioned));
    assertThat(meta.status()).isEqualTo(200);
    assertThat(meta.body()).isEqualTo(get(http, url("/v2/models/" + P)).body());
    assertThat(get(http, url(versioned + "/ready")).status()).isEqualTo(200);
    Response infer = post(http, url(versioned + "/infer"), "{\"id\": \"v\", \"inputs\": " + inputsJson() + "}");
    assertThat(infer.status()).isEqualTo(200);
    assertThat(infer.body().get("model_version").asText()).isEqualTo(Long.toString(v));
    assertThat(infer.body().get("id").asText()).isEqualTo("v");

    String other = "/v2/models/" + P + "/versions/" + (v + 1);
    for (Response r : List.of(get(http, url(other)), get(http, url(other + "/ready")),
        post(http, url(other + "/infer"), "{\"inputs\": " + inputsJson() + "}"))) {
      assertThat(r.status()).isEqualTo(404);
      assertThat(r.body().get("error").asText()).contains("has no version '" + (v + 1) + "'")
          .contains("the version served is " + v);
    }
    Response unknown = get(http, url("/v2/models/nope/versions/1"));
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(unknown.body().get("error").asText()).contains("unknown problem 'nope'");
  }

  @Test
  void every_datatype_in_json_reaches_the_input_topic_unchanged_and_comes_back_from_the_model() throws Exception {
    Response r = post(http, url("/v2/models/" + P + "/infer"), "{\"id\": \"all\", \"inputs\": " + inputsJson() + "}");
    assertThat(r.status()).as(r.body().toString()).isEqualTo(200);
    assertThat(r.body().get("parameters").get("answered_by").asText()).isEqualTo("echo");

    InferenceRequest onTopic = fromInputTopic(r.body().get("parameters").get("request_id").asText());
    assertThat(onTopic.inputs()).containsExactlyElementsOf(all().stream().map(OipConformanceIT::tensor).toList());

    assertThat(r.body().get("outputs")).hasSize(FED.size() + 1);
    for (Datatype d : FED) {
      JsonNode out = output(r.body(), name(d) + "_out");
      assertThat(out.get("datatype").asText()).isEqualTo(d.name());
      assertThat(out.get("shape").toString()).isEqualTo("[1,2]");
      assertEchoed(out.get("data"), tensor(d));
    }
    assertThat(output(r.body(), "bool_not").get("data").toString()).isEqualTo("[false,true]");
  }

  @Test
  void requested_outputs_are_the_only_ones_returned_in_the_order_asked_and_an_unknown_one_is_400() throws Exception {
    Response r = post(http, url("/v2/models/" + P + "/infer"), "{\"outputs\": [{\"name\": \"bytes_out\"}, "
        + "{\"name\": \"bool_not\", \"parameters\": {\"binary_data\": false}}], \"inputs\": " + inputsJson() + "}");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body().get("outputs")).extracting(o -> o.get("name").asText()).containsExactly("bytes_out",
        "bool_not");

    Response unknown = post(http, url("/v2/models/" + P + "/infer"), "{\"outputs\": [{\"name\": \"nope\"}], "
        + "\"inputs\": " + inputsJson() + "}");
    assertThat(unknown.status()).isEqualTo(400);
    assertThat(unknown.body().get("error").asText()).contains("unknown output 'nope'");
  }

  @Test
  void the_default_answer_holds_every_datatype_of_the_schedule_s_default() throws Exception {
    // A deadline no model meets (the guard answers 3 ms before it): the proxy answers with the default itself.
    Response r = post(http, url("/v2/models/" + P + "/infer"), "{\"parameters\": {\"deadline_ms\": 3}, "
        + "\"outputs\": [{\"name\": \"bytes_out\"}, {\"name\": \"bool_out\"}, {\"name\": \"uint8_out\"}], "
        + "\"inputs\": " + inputsJson() + "}");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body().get("parameters").get("default").asBoolean()).isTrue();
    assertThat(output(r.body(), "bytes_out").get("data").toString()).isEqualTo("[\"none\",\"\"]");
    assertThat(output(r.body(), "bool_out").get("data").toString()).isEqualTo("[true,false]");
    assertThat(output(r.body(), "uint8_out").get("data").toString()).isEqualTo("[1,0]");
  }

  static Stream<Arguments> badValues() {
    return Stream.of(
        Arguments.of("uint8", "UINT8", "[0, 256]", "256 is out of range for UINT8 (0 to 255)"),
        Arguments.of("int8", "INT8", "[0, 1.5]", "1.5 is not an integer, as INT8 needs"),
        Arguments.of("uint64", "UINT64", "[0, 9007199254740993]", "out of range for UINT64 (0 to 2^53)"),
        Arguments.of("bool", "BOOL", "[0, 1]", "BOOL data must hold only true or false, found 0"),
        Arguments.of("bytes", "BYTES", "[\"a\", 2]", "BYTES data must hold only strings, found 2"),
        Arguments.of("fp16", "FP16", "[0, 70000]", "does not fit in FP16"),
        Arguments.of("fp32", "FP32", "[0, 1, 2]", "shape [1,2] needs 2 elements, data has 3"),
        Arguments.of("fp32", "FP64", "[0, 1]", "input 'fp32' must have datatype FP32, not FP64"));
  }

  @ParameterizedTest(name = "{0} {2}")
  @MethodSource("badValues")
  void a_value_its_datatype_cannot_hold_is_a_400_with_the_reason(String input, String datatype, String data,
      String message) throws Exception {
    String inputs = inputsJson().replace("{\"name\": \"" + input + "\", \"datatype\": \"" + Datatype.valueOf(
        input.toUpperCase()) + "\", \"shape\": [1, 2], \"data\": " + json(Datatype.valueOf(input.toUpperCase())) + "}",
        "{\"name\": \"" + input + "\", \"datatype\": \"" + datatype + "\", \"shape\": [1, 2], \"data\": " + data + "}");
    Response r = post(http, url("/v2/models/" + P + "/infer"), "{\"inputs\": " + inputs + "}");
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.body().get("error").asText()).contains(message);
  }

  /** A tensor's elements in the binary form, written here independently of the server's codec. */
  static byte[] binary(Tensor t) {
    Datatype d = Datatype.parse(t.datatype());
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    if (d == Datatype.BYTES) {
      for (String s : t.strings()) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length).array());
        out.writeBytes(b);
      }
      return out.toByteArray();
    }
    ByteBuffer b = ByteBuffer.allocate(t.size() * d.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    for (double v : t.data()) {
      switch (d) {
        case BOOL, UINT8, INT8 -> b.put((byte) (long) v);
        case UINT16, INT16 -> b.putShort((short) (long) v);
        case UINT32, INT32 -> b.putInt((int) (long) v);
        case UINT64, INT64 -> b.putLong((long) v);
        case FP16 -> b.putShort(v == 0.5 ? (short) 0x3800 : (short) 0xfbff); // 0.5 and -65504, the values sent
        case FP32 -> b.putFloat((float) v);
        default -> b.putDouble(v);
      }
    }
    return b.array();
  }

  @Test
  void the_binary_extension_carries_every_datatype_in_and_the_chosen_outputs_out() throws Exception {
    List<String> inputs = new ArrayList<>();
    ByteArrayOutputStream data = new ByteArrayOutputStream();
    for (Datatype d : all()) {
      byte[] b = binary(tensor(d));
      inputs.add("{\"name\": \"" + name(d) + "\", \"datatype\": \"" + d + "\", \"shape\": [1, 2], "
          + "\"parameters\": {\"binary_data_size\": " + b.length + "}}");
      data.writeBytes(b);
    }
    String header = "{\"id\": \"bin\", \"parameters\": {\"binary_data_output\": true}, \"outputs\": ["
        + "{\"name\": \"fp16_out\"}, {\"name\": \"bytes_out\"}, {\"name\": \"uint8_out\", \"parameters\": "
        + "{\"binary_data\": false}}, {\"name\": \"bool_not\"}], \"inputs\": [" + String.join(", ", inputs) + "]}";
    byte[] json = header.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes(json);
    body.writeBytes(data.toByteArray());
    HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create(url("/v2/models/" + P + "/infer")))
        .header("content-type", "application/octet-stream")
        .header("Inference-Header-Content-Length", Integer.toString(json.length))
        .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    assertThat(r.statusCode()).as(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type")).hasValue("application/octet-stream");
    int headerLength = Integer.parseInt(r.headers().firstValue("Inference-Header-Content-Length").orElseThrow());
    JsonNode head = Json.MAPPER.readTree(new String(r.body(), 0, headerLength, StandardCharsets.UTF_8));
    assertThat(head.get("id").asText()).isEqualTo("bin");
    assertThat(head.get("parameters").get("answered_by").asText()).isEqualTo("echo");
    assertThat(head.get("outputs")).extracting(o -> o.get("name").asText())
        .containsExactly("fp16_out", "bytes_out", "uint8_out", "bool_not");

    // Binary outputs follow the header in the order listed; uint8_out asked for JSON and has its data inline.
    int offset = headerLength;
    Map<String, byte[]> parts = new LinkedHashMap<>();
    for (JsonNode o : head.get("outputs")) {
      if (o.has("data")) {
        assertThat(o.path("parameters").has("binary_data_size")).isFalse();
        continue;
      }
      int size = o.get("parameters").get("binary_data_size").asInt();
      byte[] part = new byte[size];
      System.arraycopy(r.body(), offset, part, 0, size);
      parts.put(o.get("name").asText(), part);
      offset += size;
    }
    assertThat(offset).isEqualTo(r.body().length);
    assertThat(parts.get("fp16_out")).isEqualTo(binary(tensor(Datatype.FP16)));
    assertThat(parts.get("bytes_out")).isEqualTo(binary(tensor(Datatype.BYTES)));
    assertThat(parts.get("bool_not")).containsExactly(0, 1);
    assertEchoed(output(head, "uint8_out").get("data"), tensor(Datatype.UINT8));

    InferenceRequest onTopic = fromInputTopic(head.get("parameters").get("request_id").asText());
    assertThat(onTopic.inputs()).containsExactlyElementsOf(all().stream().map(OipConformanceIT::tensor).toList());
  }

  @Test
  void a_binary_body_whose_sizes_do_not_add_up_is_a_400() throws Exception {
    String header = "{\"inputs\": [{\"name\": \"bool\", \"datatype\": \"BOOL\", \"shape\": [1, 2], "
        + "\"parameters\": {\"binary_data_size\": 2}}]}";
    byte[] json = header.getBytes(StandardCharsets.UTF_8);
    byte[] body = new byte[json.length + 3];
    System.arraycopy(json, 0, body, 0, json.length);
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url("/v2/models/" + P + "/infer")))
        .header("content-type", "application/octet-stream")
        .header("Inference-Header-Content-Length", Integer.toString(json.length))
        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(Json.MAPPER.readTree(r.body()).get("error").asText())
        .contains("has 3 bytes after its JSON header, but the inputs' binary_data_size parameters add up to 2");
  }
}
