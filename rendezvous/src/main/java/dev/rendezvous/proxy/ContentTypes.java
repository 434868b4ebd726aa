package dev.rendezvous.proxy;

import io.vertx.core.Handler;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.Locale;
import java.util.Set;

/**
 * The content types the proxy reads, checked before a body is buffered. Inference requests and outcomes are
 * JSON: {@code application/json}, parameters such as {@code charset=utf-8} allowed; an inference request may also
 * be {@code application/octet-stream}, a JSON header and binary tensor data (the binary tensor data extension,
 * whose header length says where the JSON ends, whatever the declared type). A schedule is YAML (or JSON,
 * which YAML reads too): {@code application/yaml}, {@code application/x-yaml}, {@code text/yaml},
 * {@code text/x-yaml}, {@code text/plain} or {@code application/json}. Any other declared type gets 415 with
 * the type to send, notably {@code application/x-www-form-urlencoded}, which {@code curl -d} sends unless told
 * otherwise and which would mean the body is not what the client thinks. A request with no content type at all
 * is read as the endpoint's type: the body says what it is, and nothing was declared to contradict it.
 */
public final class ContentTypes {

  private static final Set<String> JSON = Set.of("application/json");
  private static final Set<String> INFER = Set.of("application/json", "application/octet-stream");
  private static final Set<String> SCHEDULE = Set.of("application/yaml", "application/x-yaml", "text/yaml",
      "text/x-yaml", "text/plain", "application/json");

  private ContentTypes() {}

  /** Adds the checks of outcomes and schedules to the router, before the routes that read those bodies. */
  public static void mount(Router router) {
    router.post("/v2/models/:problem/outcome").handler(ctx -> check(ctx, JSON, "application/json"));
    router.post("/v2/models/:problem/schedule").handler(ctx -> check(ctx, SCHEDULE, "application/yaml"));
  }

  /** The check of an inference request, for the scoring route's own chain of handlers. */
  public static Handler<RoutingContext> inferCheck() {
    return ctx -> check(ctx, INFER, "application/json");
  }

  /** The media type of a content-type header, lower case and without parameters; null when absent or blank. */
  static String mediaType(String header) {
    if (header == null) {
      return null;
    }
    int semi = header.indexOf(';');
    String type = (semi < 0 ? header : header.substring(0, semi)).strip().toLowerCase(Locale.ROOT);
    return type.isEmpty() ? null : type;
  }

  private static void check(RoutingContext ctx, Set<String> accepted, String preferred) {
    String type = mediaType(ctx.request().getHeader("content-type"));
    if (type == null || accepted.contains(type)) {
      ctx.next();
      return;
    }
    String message = "content-type '" + type + "' is not accepted here; send 'content-type: " + preferred + "'"
        + (type.equals("application/x-www-form-urlencoded") ? " (curl -d sends a form unless given -H "
        + "'content-type: " + preferred + "')" : "");
    JsonResponses.error(ctx, 415, message);
  }
}
