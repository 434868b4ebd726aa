package dev.rendezvous.proxy;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Message;
import dev.rendezvous.auth.AccessControl;
import dev.rendezvous.auth.AccessControl.Need;
import dev.rendezvous.common.TensorSpec;
import dev.rendezvous.grpc.oip.GrpcPredictV2.ModelInferRequest;
import dev.rendezvous.grpc.oip.GrpcPredictV2.ModelInferResponse;
import dev.rendezvous.grpc.oip.GrpcPredictV2.ModelMetadataRequest;
import dev.rendezvous.grpc.oip.GrpcPredictV2.ModelMetadataResponse;
import dev.rendezvous.grpc.oip.GrpcPredictV2.ModelReadyRequest;
import dev.rendezvous.grpc.oip.GrpcPredictV2.ModelReadyResponse;
import dev.rendezvous.grpc.oip.GrpcPredictV2.ServerLiveRequest;
import dev.rendezvous.grpc.oip.GrpcPredictV2.ServerLiveResponse;
import dev.rendezvous.grpc.oip.GrpcPredictV2.ServerMetadataRequest;
import dev.rendezvous.grpc.oip.GrpcPredictV2.ServerMetadataResponse;
import dev.rendezvous.grpc.oip.GrpcPredictV2.ServerReadyRequest;
import dev.rendezvous.grpc.oip.GrpcPredictV2.ServerReadyResponse;
import dev.rendezvous.schedule.ScheduleRegistry;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.grpc.common.GrpcMessageDecoder;
import io.vertx.grpc.common.GrpcMessageEncoder;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerOptions;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.GrpcServerResponse;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Open Inference Protocol over gRPC ({@code inference.GRPCInferenceService}, src/main/proto) for one proxy
 * instance, on the instance's event loop. Every call passes the same checks as its HTTP twin: the health calls
 * (ServerLive, ServerReady, ModelReady) need no credential; the metadata calls and ModelInfer need a scoring key
 * when keys are configured, sent as {@code authorization: Bearer <key>} metadata (none: UNAUTHENTICATED; a wrong
 * one: PERMISSION_DENIED). ModelInfer is parsed into the same request as HTTP's ({@link GrpcTensors}), admitted
 * by the same limits (a refusal is UNAVAILABLE, which clients may retry), and taken in by
 * {@link ProxyVerticle#submit}: the same record, deadline guard, answer and metrics. The call's gRPC deadline,
 * when it has one, sets the request's deadline ({@link GrpcTensors#GRPC_DEADLINE_SHARE} of it, the rest left for
 * the answer's way back; capped at {@link InferRequestParser#MAX_DEADLINE_MS}; with {@code parameters.deadline_ms}
 * too, the shorter), so a client that sets one gets the schedule's default before its deadline rather than
 * DEADLINE_EXCEEDED.
 *
 * <p>Every call is counted in {@code rdv_proxy_grpc_calls_total} by method and status code; ModelInfer calls
 * are also counted in {@code rdv_proxy_requests_total} with the HTTP status of their HTTP twin, so the request
 * counters cover both transports.
 */
final class GrpcInference {

  private static final Logger LOG = LoggerFactory.getLogger(GrpcInference.class);

  static final ServiceName SERVICE = ServiceName.create("inference", "GRPCInferenceService");

  private final ProxyVerticle instance;
  private final Proxy proxy;
  private final ScheduleRegistry schedules;
  private final AccessControl access;
  private final Map<String, Counter> calls = new HashMap<>();

  private GrpcInference(ProxyVerticle instance) {
    this.instance = instance;
    this.proxy = instance.proxy();
    this.schedules = proxy.schedules;
    this.access = proxy.access;
  }

  /**
   * The gRPC server of one instance, not yet listening; made on the instance's context so that its calls run on
   * the instance's event loop. Over TLS (when the HTTP port has it) gRPC needs ALPN, which is switched on.
   */
  static HttpServer server(Vertx vertx, ProxyVerticle instance, HttpServerOptions options) {
    GrpcInference g = new GrpcInference(instance);
    GrpcServer grpc = GrpcServer.server(vertx, new GrpcServerOptions()
        .setMaxMessageSize(instance.proxy().config.bodyLimitBytes()));
    g.unary(grpc, "ServerLive", ServerLiveRequest.getDefaultInstance(), Need.NOTHING, g::serverLive);
    g.unary(grpc, "ServerReady", ServerReadyRequest.getDefaultInstance(), Need.NOTHING, g::serverReady);
    g.unary(grpc, "ModelReady", ModelReadyRequest.getDefaultInstance(), Need.NOTHING, g::modelReady);
    g.unary(grpc, "ServerMetadata", ServerMetadataRequest.getDefaultInstance(), Need.SCORING_KEY,
        g::serverMetadata);
    g.unary(grpc, "ModelMetadata", ModelMetadataRequest.getDefaultInstance(), Need.SCORING_KEY, g::modelMetadata);
    g.unary(grpc, "ModelInfer", ModelInferRequest.getDefaultInstance(), Need.SCORING_KEY, g::modelInfer);
    if (instance.proxy().access.tls().isPresent()) {
      options.setUseAlpn(true);
    }
    return vertx.createHttpServer(options).requestHandler(grpc);
  }

  /** One call's handling: answer through {@code call}, once. */
  private interface Handler<Req> {
    void handle(Call<Req> call);
  }

  /** A call whose message has arrived and passed the access check. */
  private final class Call<Req> {
    final String method;
    final GrpcServerRequest<Req, Message> request;
    final Req message;

    Call(String method, GrpcServerRequest<Req, Message> request, Req message) {
      this.method = method;
      this.request = request;
      this.message = message;
    }

    void ok(Message response) {
      count(method, GrpcStatus.OK);
      request.response().send(response);
    }

    void fail(GrpcStatus status, String message) {
      count(method, status);
      request.response().status(status).statusMessage(message).end();
    }
  }

  @SuppressWarnings("unchecked")
  private <Req extends Message> void unary(GrpcServer grpc, String method, Req prototype, Need need,
      Handler<Req> handler) {
    ServiceMethod<Req, Message> m = ServiceMethod.server(SERVICE, method, GrpcMessageEncoder.encoder(),
        GrpcMessageDecoder.decoder(prototype));
    counter(method, GrpcStatus.OK); // exported from the start, at zero, as the HTTP counters are
    grpc.callHandler(m, request -> request.last().onSuccess(message -> {
      Call<Req> call = new Call<>(method, request, message);
      AccessControl.Verdict verdict = access.verdict(need, request.headers().get("authorization"));
      if (!verdict.allowed()) {
        if (method.equals("ModelInfer")) {
          instance.countRequest(((ModelInferRequest) message).getModelName(),
              verdict == AccessControl.Verdict.NO_CREDENTIAL ? 401 : 403);
        }
        call.fail(verdict == AccessControl.Verdict.NO_CREDENTIAL ? GrpcStatus.UNAUTHENTICATED
            : GrpcStatus.PERMISSION_DENIED, AccessControl.refusal(need, verdict));
        return;
      }
      try {
        handler.handle(call);
      } catch (RuntimeException e) {
        LOG.error("unexpected error in gRPC {}", method, e);
        call.fail(GrpcStatus.INTERNAL, "internal error: " + e.getMessage());
      }
    }).onFailure(e -> count(method, GrpcStatus.CANCELLED)));
  }

  private void serverLive(Call<ServerLiveRequest> call) {
    call.ok(ServerLiveResponse.newBuilder().setLive(true).build());
  }

  private void serverReady(Call<ServerReadyRequest> call) {
    call.ok(ServerReadyResponse.newBuilder().setReady(instance.ready()).build());
  }

  private void modelReady(Call<ModelReadyRequest> call) {
    if (served(call, call.message.getName(), call.message.getVersion()) != null) {
      call.ok(ModelReadyResponse.newBuilder().setReady(instance.ready(call.message.getName())).build());
    }
  }

  private void serverMetadata(Call<ServerMetadataRequest> call) {
    JsonNode m = ProxyVerticle.serverMetadata();
    ServerMetadataResponse.Builder b = ServerMetadataResponse.newBuilder().setName(m.get("name").asText())
        .setVersion(m.get("version").asText());
    m.get("extensions").forEach(e -> b.addExtensions(e.asText()));
    call.ok(b.build());
  }

  private void modelMetadata(Call<ModelMetadataRequest> call) {
    ScheduleRegistry.Versioned v = served(call, call.message.getName(), call.message.getVersion());
    if (v == null) {
      return;
    }
    ModelMetadataResponse.Builder b = ModelMetadataResponse.newBuilder().setName(call.message.getName())
        .addVersions(Long.toString(v.version())).setPlatform("rendezvous");
    v.schedule().inputs().forEach(s -> b.addInputs(metadata(s)));
    v.schedule().outputs().forEach(s -> b.addOutputs(metadata(s)));
    call.ok(b.build());
  }

  private static ModelMetadataResponse.TensorMetadata metadata(TensorSpec s) {
    ModelMetadataResponse.TensorMetadata.Builder t = ModelMetadataResponse.TensorMetadata.newBuilder()
        .setName(s.name()).setDatatype(s.datatype());
    for (long d : s.shape()) {
      t.addShape(d);
    }
    return t.build();
  }

  private void modelInfer(Call<ModelInferRequest> call) {
    long receivedAt = proxy.clock.nowMicros();
    ModelInferRequest r = call.message;
    String problem = r.getModelName();
    ScheduleRegistry.Versioned versioned = served(call, problem, r.getModelVersion());
    if (versioned == null) {
      instance.countRequest(problem, 404);
      return;
    }
    InferRequestParser.Parsed parsed;
    try {
      parsed = GrpcTensors.parse(r, versioned.schedule().inputs(), versioned.schedule().outputs(),
          call.request.timeout());
    } catch (BadRequestException e) {
      instance.countRequest(problem, e.status());
      call.fail(e.status() == 413 ? GrpcStatus.RESOURCE_EXHAUSTED : GrpcStatus.INVALID_ARGUMENT, e.getMessage());
      return;
    }
    Admission admission = instance.admission();
    Admission.Decision d = admission.admit(problem);
    if (!d.admitted()) {
      String why = d.refusal() == Admission.Reason.EVENT_LOOP_LAG
          ? "the proxy is falling behind (its event loop is late)"
          : "too many requests in flight for '" + problem + "' (limit " + admission.limit(problem) + ")";
      instance.countRequest(problem, 503);
      call.fail(GrpcStatus.UNAVAILABLE, "overloaded: " + why + "; the request was not taken in, retry later");
      return;
    }
    Admission.Permit permit = d.permit();
    // A call the client cancels gives its permit back at once, as a closed HTTP connection does.
    call.request.exceptionHandler(e -> permit.release());
    boolean warmUp = proxy.warmUpKey.marks(call.request.headers().get(WarmUpKey.HEADER));
    instance.submit(versioned, parsed, receivedAt, warmUp, new InferReply() {
      @Override
      public void answer(Answer a) {
        permit.answered(a.inTime());
        instance.countRequest(problem, 200);
        count(call.method, GrpcStatus.OK);
        try {
          call.request.response().send(GrpcTensors.response(a)).onComplete(x -> permit.release());
        } catch (IllegalStateException e) {
          permit.release(); // the client cancelled the call, or its deadline passed, before the answer
        }
      }

      @Override
      public void refuse(int httpStatus, String message) {
        permit.release();
        instance.countRequest(problem, httpStatus);
        call.fail(httpStatus == 413 ? GrpcStatus.RESOURCE_EXHAUSTED : GrpcStatus.INVALID_ARGUMENT, message);
      }
    });
  }

  /** The version of {@code problem} in force, when it is served and is {@code version} (empty: any); else NOT_FOUND. */
  private ScheduleRegistry.Versioned served(Call<?> call, String problem, String version) {
    ScheduleRegistry.Versioned v = schedules.current(problem).orElse(null);
    if (v == null) {
      call.fail(GrpcStatus.NOT_FOUND, instance.unknownProblem(problem));
      return null;
    }
    if (!version.isEmpty() && !Long.toString(v.version()).equals(version)) {
      call.fail(GrpcStatus.NOT_FOUND, "model '" + problem + "' has no version '" + version + "' being served; the "
          + "version served is " + v.version() + " (the schedule version in force)");
      return null;
    }
    return v;
  }

  private void count(String method, GrpcStatus status) {
    counter(method, status).increment();
  }

  private Counter counter(String method, GrpcStatus status) {
    return calls.computeIfAbsent(method + '|' + status.name(), k -> Counter.builder("rdv.proxy.grpc.calls")
        .description("gRPC calls of the Open Inference Protocol, by method and final status code")
        .tags("method", method, "code", status.name()).register(proxy.metrics));
  }

}
