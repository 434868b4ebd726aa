package dev.rendezvous.proxy;

import dev.rendezvous.common.Json;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;

/**
 * How every handler mounted on the proxy's router answers: a JSON body with {@code content-type:
 * application/json}, and errors as {@code {"error": "<what was wrong>"}}. A response already ended (by the
 * deadline guard, or by a handler before) is left alone, so a late writer cannot fail the request.
 */
public final class JsonResponses {

  private JsonResponses() {}

  /** Ends the response with {@code body} encoded as JSON; headers set before are kept. */
  public static void json(RoutingContext ctx, int status, Object body) {
    encoded(ctx, status, Json.encode(body));
  }

  /** Ends the response with {@code {"error": message}}; headers set before are kept. */
  public static void error(RoutingContext ctx, int status, String message) {
    encoded(ctx, status, errorBody(message));
  }

  /** The body {@code {"error": message}}, encoded once for a response sent again and again. */
  public static byte[] errorBody(String message) {
    return Json.encode(Json.MAPPER.createObjectNode().put("error", message));
  }

  /** Ends the response with a JSON body already encoded; headers set before are kept. */
  public static void encoded(RoutingContext ctx, int status, byte[] body) {
    if (ctx.response().ended()) {
      return;
    }
    ctx.response().setStatusCode(status).putHeader("content-type", "application/json").end(Buffer.buffer(body));
  }
}
