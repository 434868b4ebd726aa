package dev.rendezvous.proxy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rendezvous.common.Json;
import io.vertx.ext.web.RoutingContext;

/** The answer to an HTTP inference request: a JSON (or binary tensor data) response. */
record HttpInferReply(RoutingContext ctx) implements InferReply {

  @Override
  public void answer(Answer a) {
    Admission.answered(ctx, a.inTime());
    ObjectNode body = Json.MAPPER.createObjectNode();
    body.put("model_name", a.problem());
    body.put("model_version", Long.toString(a.scheduleVersion()));
    if (a.clientId() != null) {
      body.put("id", a.clientId());
    }
    body.set("parameters", a.parameters());
    InferResponse.send(ctx, body, a.outputs(), a.request());
  }

  @Override
  public void refuse(int httpStatus, String message) {
    JsonResponses.error(ctx, httpStatus, message);
  }
}
