package dev.rendezvous.embedded;

import static dev.rendezvous.embedded.TestSystems.runner;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import dev.rendezvous.auth.AccessControl;
import dev.rendezvous.auth.AdminToken;
import dev.rendezvous.auth.ApiKeys;
import dev.rendezvous.grpc.oip.GRPCInferenceServiceGrpc;
import dev.rendezvous.grpc.oip.GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub;
import dev.rendezvous.grpc.oip.GrpcPredictV2.InferParameter;
import dev.rendezvous.grpc.oip.GrpcPredictV2.InferTensorContents;
import dev.rendezvous.grpc.oip.GrpcPredictV2.ModelInferRequest;
import dev.rendezvous.grpc.oip.GrpcPredictV2.ModelInferResponse;
import dev.rendezvous.grpc.oip.GrpcPredictV2.ModelMetadataRequest;
import dev.rendezvous.grpc.oip.GrpcPredictV2.ModelMetadataResponse;
import dev.rendezvous.grpc.oip.GrpcPredictV2.ModelReadyRequest;
import dev.rendezvous.grpc.oip.GrpcPredictV2.ServerLiveRequest;
import dev.rendezvous.grpc.oip.GrpcPredictV2.ServerMetadataRequest;
import dev.rendezvous.grpc.oip.GrpcPredictV2.ServerReadyRequest;
import dev.rendezvous.broker.EmbeddedKafka;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Open Inference Protocol over gRPC, end to end with grpc-java's client generated from the same
 * grpc_predict_v2.proto that KServe's clients use: the health and metadata calls, ModelInfer answered by a real
 * model (typed contents and raw contents both), the credentials (scoring keys on), errors as gRPC status codes,
 * and the call's gRPC deadline as the request's deadline. A second system, with no rendezvous behind its proxy,
 * answers every request with the default at its deadline: there a gRPC deadline shorter than the schedule's
 * gives the default at the gRPC deadline.
 */
class GrpcInferenceIT {

  static final String P = "grpc";
  static final String ALONE = "grpc-alone";
  static final String KEY = "scoring-key-of-the-grpc-client-0001";

  @TempDir static Path dir;
  static EmbeddedKafka broker;
  static EmbeddedSystem system;
  static EmbeddedSystem alone;
  static ManagedChannel channel;
  static ManagedChannel aloneChannel;
  static JsonNode reference;

  @BeforeAll
  static void start() throws Exception {
    broker = EmbeddedKafka.start(dir.resolve("broker"), 0);
    reference = TestSystems.reference();
    Path keys = Files.writeString(dir.resolve("keys"), KEY + "\n");
    system = EmbeddedSystem.start(options(P, true), List.of(runner(P, "bc-mlp")),
        new AccessControl(AdminToken.of("admin-token-of-the-grpc-test-0001"), ApiKeys.load(keys)));
    alone = EmbeddedSystem.start(options(ALONE, false), List.of());
    channel = ManagedChannelBuilder.forAddress("127.0.0.1", system.grpcPort()).usePlaintext().build();
    aloneChannel = ManagedChannelBuilder.forAddress("127.0.0.1", alone.grpcPort()).usePlaintext().build();
  }

  static EmbeddedSystem.Options options(String problem, boolean rendezvous) throws Exception {
    Path schedules = Files.createDirectories(dir.resolve(problem + "-schedules"));
    Files.writeString(schedules.resolve(problem + ".yaml"), TestSystems.schedule(problem));
    List<String> args = new java.util.ArrayList<>(List.of("--data", dir.resolve(problem).toString(), "--schedules",
        schedules.toString(), "--port", "0", "--grpc-port", "0", "--bootstrap-servers", broker.bootstrapServers(),
        "--partitions", "2", "--warm-up", rendezvous ? "24" : "0", "--warm-up-jit-max", "0", rendezvous ? "--rendezvous" : "--no-rendezvous"));
    args.addAll(List.of(TestSystems.PERMISSIVE));
    return EmbeddedSystem.Options.parse(args.toArray(String[]::new));
  }

  @AfterAll
  static void stop() throws Exception {
    for (ManagedChannel c : new ManagedChannel[] {channel, aloneChannel}) {
      if (c != null) {
        c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
    if (alone != null) {
      alone.close();
    }
    if (system != null) {
      system.close();
    }
    broker.close();
  }

  static GRPCInferenceServiceBlockingStub client(ManagedChannel c, String key) {
    GRPCInferenceServiceBlockingStub stub = GRPCInferenceServiceGrpc.newBlockingStub(c)
        .withDeadlineAfter(30, TimeUnit.SECONDS);
    if (key == null) {
      return stub;
    }
    Metadata headers = new Metadata();
    headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + key);
    return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  static float[] row(int i) {
    JsonNode r = reference.get("rows").get(i);
    float[] out = new float[r.size()];
    for (int j = 0; j < out.length; j++) {
      out[j] = (float) r.get(j).asDouble();
    }
    return out;
  }

  static ModelInferRequest.Builder request(String problem, String id, float[] features) {
    InferTensorContents.Builder c = InferTensorContents.newBuilder();
    for (float f : features) {
      c.addFp32Contents(f);
    }
    return ModelInferRequest.newBuilder().setModelName(problem).setId(id)
        .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("features").setDatatype("FP32")
            .addShape(1).addShape(features.length).setContents(c));
  }

  static Status.Code code(Runnable call) {
    try {
      call.run();
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
    return Status.Code.OK;
  }

  /**
   * ModelInfer until a model answers, at most five times: a busy machine that stalls the system past the
   * schedule's deadline rightly gets the default, which is not what the callers are about.
   */
  static ModelInferResponse inferAnsweredByModel(ModelInferRequest request) {
    ModelInferResponse r = null;
    for (int attempt = 0; attempt < 5; attempt++) {
      r = client(channel, KEY).modelInfer(request);
      if (!r.getParametersOrThrow("default").getBoolParam()) {
        return r;
      }
      System.out.printf("default answer (%s), sending again%n", r.getParametersMap());
    }
    return r;
  }

  @Test
  void healthCallsNeedNoCredential() {
    GRPCInferenceServiceBlockingStub anonymous = client(channel, null);
    assertThat(anonymous.serverLive(ServerLiveRequest.getDefaultInstance()).getLive()).isTrue();
    assertThat(anonymous.serverReady(ServerReadyRequest.getDefaultInstance()).getReady()).isTrue();
    assertThat(anonymous.modelReady(ModelReadyRequest.newBuilder().setName(P).build()).getReady()).isTrue();
    assertThat(code(() -> anonymous.modelReady(ModelReadyRequest.newBuilder().setName("no-such").build())))
        .isEqualTo(Status.Code.NOT_FOUND);
  }

  @Test
  void metadataDescribesTheServerAndTheProblem() {
    var server = client(channel, KEY).serverMetadata(ServerMetadataRequest.getDefaultInstance());
    assertThat(server.getName()).isEqualTo("rendezvous");
    assertThat(server.getExtensionsList()).contains("binary_tensor_data");
    ModelMetadataResponse model = client(channel, KEY).modelMetadata(ModelMetadataRequest.newBuilder().setName(P)
        .build());
    assertThat(model.getName()).isEqualTo(P);
    assertThat(model.getVersionsList()).hasSize(1);
    assertThat(model.getInputsList()).singleElement().satisfies(t -> {
      assertThat(t.getName()).isEqualTo("features");
      assertThat(t.getDatatype()).isEqualTo("FP32");
      assertThat(t.getShapeList()).containsExactly(-1L, 30L);
    });
    assertThat(model.getOutputs(0).getName()).isEqualTo("probability");
    assertThat(code(() -> client(channel, KEY).modelMetadata(ModelMetadataRequest.newBuilder().setName(P)
        .setVersion("999").build()))).isEqualTo(Status.Code.NOT_FOUND);
  }

  @Test
  void modelInferIsAnsweredByTheModelWithItsPrediction() {
    ModelInferResponse r = inferAnsweredByModel(request(P, "row-0", row(0)).build());
    assertThat(r.getModelName()).isEqualTo(P);
    assertThat(r.getId()).isEqualTo("row-0");
    assertThat(r.getParametersOrThrow("answered_by").getStringParam()).isEqualTo("bc-mlp");
    assertThat(r.getParametersOrThrow("default").getBoolParam()).isFalse();
    assertThat(r.getParametersMap()).containsKeys("tier", "schedule_version", "elapsed_ms", "request_id");
    assertThat(r.getOutputsList()).singleElement().satisfies(o -> {
      assertThat(o.getName()).isEqualTo("probability");
      assertThat(o.getDatatype()).isEqualTo("FP32");
      assertThat(o.getShapeList()).containsExactly(1L, 1L);
      assertThat((double) o.getContents().getFp32Contents(0))
          .isCloseTo(reference.get("predictions").get("bc-mlp").get(0).asDouble(), within(1e-5));
    });
  }

  @Test
  void rawInputContentsGetRawOutputContents() {
    float[] features = row(1);
    ByteBuffer raw = ByteBuffer.allocate(features.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : features) {
      raw.putFloat(f);
    }
    ModelInferRequest.Builder b = request(P, "row-1", features);
    b.getInputsBuilder(0).clearContents();
    ModelInferResponse r = inferAnsweredByModel(b.addRawInputContents(ByteString.copyFrom(raw.array())).build());
    assertThat(r.getParametersOrThrow("answered_by").getStringParam()).isEqualTo("bc-mlp");
    assertThat(r.getOutputs(0).hasContents()).isFalse();
    assertThat(r.getRawOutputContentsList()).hasSize(1);
    float probability = r.getRawOutputContents(0).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).getFloat();
    assertThat((double) probability)
        .isCloseTo(reference.get("predictions").get("bc-mlp").get(1).asDouble(), within(1e-5));
  }

  @Test
  void credentialsAreCheckedAsOverHttp() {
    ModelInferRequest request = request(P, "anonymous", row(0)).build();
    StatusRuntimeException none = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
        () -> client(channel, null).modelInfer(request));
    assertThat(none.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(none.getStatus().getDescription()).contains("scoring key").contains(ApiKeys.ENV);
    assertThat(code(() -> client(channel, "not-a-key-of-this-server-000001").modelInfer(request)))
        .isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(code(() -> client(channel, null).serverMetadata(ServerMetadataRequest.getDefaultInstance())))
        .isEqualTo(Status.Code.UNAUTHENTICATED);
  }

  @Test
  void badRequestsAreInvalidArgumentWithTheReason() {
    ModelInferRequest.Builder shortRow = request(P, "bad", java.util.Arrays.copyOf(row(0), 29));
    assertThatThrownBy(() -> client(channel, KEY).modelInfer(shortRow.build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).contains("features");
        });
    ModelInferRequest.Builder wrongField = request(P, "bad", row(0));
    wrongField.getInputsBuilder(0).setDatatype("FP64");
    assertThat(code(() -> client(channel, KEY).modelInfer(wrongField.build())))
        .isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(code(() -> client(channel, KEY).modelInfer(request("no-such", "x", row(0)).build())))
        .isEqualTo(Status.Code.NOT_FOUND);
  }

  @Test
  void theGrpcDeadlineIsTheRequestsDeadline() {
    // Nothing answers behind this proxy: the deadline guard answers with the default at the request's deadline,
    // which the gRPC deadline of 150 ms sets to 135 ms (the rest is the answer's way back), not at the schedule's
    // 250 ms. A call without a deadline, first, gets the default at the schedule's deadline (and warms the path).
    ModelInferResponse noDeadline = GRPCInferenceServiceGrpc.newBlockingStub(aloneChannel)
        .modelInfer(request(ALONE, "no-deadline", row(0)).build());
    assertThat(noDeadline.getParametersOrThrow("default").getBoolParam()).isTrue();
    assertThat(noDeadline.getParametersOrThrow("elapsed_ms").getDoubleParam()).isBetween(200.0, 1000.0);
    ModelInferResponse r = null;
    for (int attempt = 0; attempt < 5 && r == null; attempt++) {
      try {
        r = GRPCInferenceServiceGrpc.newBlockingStub(aloneChannel).withDeadlineAfter(150, TimeUnit.MILLISECONDS)
            .modelInfer(request(ALONE, "short", row(0)).build());
      } catch (StatusRuntimeException e) {
        // The answer leaves 15 ms before the client's deadline; a stall of the shared machine can use them up.
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        System.out.println("the default came after the client's deadline, sending again");
      }
    }
    assertThat(r).as("a default within the gRPC deadline in five attempts").isNotNull();
    Map<String, InferParameter> p = r.getParametersMap();
    System.out.printf("default after %s ms%n", p.get("elapsed_ms").getDoubleParam());
    assertThat(p.get("default").getBoolParam()).isTrue();
    assertThat(p.get("default_reason").getStringParam()).isEqualTo("proxy-deadline");
    assertThat(p.get("elapsed_ms").getDoubleParam()).isBetween(100.0, 150.0);
    assertThat(r.getOutputs(0).getContents().getFp32Contents(0)).isEqualTo(-1.0f);
  }

  @Test
  void grpcCallsAreCountedWithTheHttpOnes() throws Exception {
    inferAnsweredByModel(request(P, "counted", row(2)).build());
    code(() -> client(channel, null).modelInfer(request(P, "anonymous", row(2)).build()));
    HttpResponse<String> scrape = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create(system.url() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(scrape.body())
        .containsPattern("rdv_proxy_grpc_calls_total\\{code=\"OK\",method=\"ModelInfer\"[^}]*\\} [1-9]")
        .containsPattern("rdv_proxy_grpc_calls_total\\{code=\"UNAUTHENTICATED\",method=\"ModelInfer\"[^}]*\\} [1-9]")
        .containsPattern("rdv_proxy_requests_total\\{problem=\"" + P + "\",status=\"200\"[^}]*\\} [1-9]")
        .containsPattern("rdv_proxy_requests_total\\{problem=\"" + P + "\",status=\"401\"[^}]*\\} [1-9]")
        .containsPattern("rdv_proxy_answers_total\\{answered_by=\"bc-mlp\",problem=\"" + P + "\"");
  }
}
