package dev.rendezvous.bench;

import dev.rendezvous.common.InferenceRequest;
import dev.rendezvous.common.Json;
import dev.rendezvous.common.Tensor;
import dev.rendezvous.common.TensorSpec;
import dev.rendezvous.proxy.BadRequestException;
import dev.rendezvous.proxy.InferRequestParser;
import dev.rendezvous.runner.OnnxModel;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The serving limit: the champion's ONNX model called directly inside a plain Vert.x HTTP handler, with the
 * same request parsing as the proxy and inference on Vert.x worker threads. No Kafka, no other model.
 */
public final class DirectOnnxServer implements AutoCloseable {

  private final Vertx vertx;
  private final HttpServer server;
  private final OnnxModel model;

  private DirectOnnxServer(Vertx vertx, HttpServer server, OnnxModel model) {
    this.vertx = vertx;
    this.server = server;
    this.model = model;
  }

  public static DirectOnnxServer start(Path modelFile, List<TensorSpec> signature) throws Exception {
    Vertx vertx = Vertx.vertx();
    OnnxModel model = new OnnxModel(modelFile, 1, 1);
    model.warmUp();
    HttpServer server = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
      InferRequestParser.Parsed parsed;
      try {
        parsed = InferRequestParser.parse(body.getBytes(), signature);
      } catch (BadRequestException e) {
        req.response().setStatusCode(e.status()).end(Buffer.buffer(Json.encode(Map.of("error", e.getMessage()))));
        return;
      }
      vertx.<List<Tensor>>executeBlocking(() -> model.score(List.of(new InferenceRequest("direct",
              parsed.clientId(), "", "", 0, 0, parsed.inputs()))).get(0), false)
          .onSuccess(outputs -> req.response().putHeader("content-type", "application/json")
              .end(Buffer.buffer(Json.encode(Map.of("outputs", outputs,
                  "parameters", Map.of("answered_by", "direct", "tier", 0))))))
          .onFailure(e -> req.response().setStatusCode(500).end(e.getMessage()));
    }));
    await(server.listen(0, "127.0.0.1"));
    return new DirectOnnxServer(vertx, server, model);
  }

  public String url() {
    return "http://127.0.0.1:" + server.actualPort();
  }

  @Override
  public void close() throws Exception {
    await(vertx.close());
    model.close();
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }
}
