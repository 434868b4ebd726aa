package dev.rendezvous.proxy;

import dev.rendezvous.common.Json;
import dev.rendezvous.schedule.ScheduleRegistry;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * The protocol's versioned model routes: {@code /v2/models/{problem}/versions/{v}}, {@code .../ready} and
 * {@code .../infer}. The version a problem serves is the version of the schedule in force, the one every answer
 * names in {@code model_version} and metadata lists in {@code versions}: for that version a versioned route
 * answers exactly as the unversioned one (it is rerouted there, before any body is read); for any other it answers
 * 404 with {@code {"error": ...}} naming the version served. Mounted after the access check, which treats the
 * versioned routes as their unversioned twins.
 */
final class VersionRoutes {

  private static final String PREFIX = "/v2/models/";
  private static final String VERSIONS = "/versions/";

  private VersionRoutes() {}

  static void mount(Router router, ScheduleRegistry schedules) {
    router.getWithRegex("/v2/models/[^/]+/versions/[^/]+").handler(ctx -> route(ctx, schedules, ""));
    router.getWithRegex("/v2/models/[^/]+/versions/[^/]+/ready").handler(ctx -> route(ctx, schedules, "/ready"));
    router.postWithRegex("/v2/models/[^/]+/versions/[^/]+/infer").handler(ctx -> route(ctx, schedules, "/infer"));
  }

  private static void route(RoutingContext ctx, ScheduleRegistry schedules, String suffix) {
    String path = ctx.normalizedPath();
    int versions = path.indexOf(VERSIONS, PREFIX.length());
    String problemPath = path.substring(0, versions);
    String problem = decode(problemPath.substring(PREFIX.length()));
    String version = decode(path.substring(versions + VERSIONS.length(), path.length() - suffix.length()));
    ScheduleRegistry.Versioned served = schedules.current(problem).orElse(null);
    if (served == null) {
      notFound(ctx, "unknown problem '" + problem + "'; served: " + String.join(", ", schedules.problems()));
    } else if (!Long.toString(served.version()).equals(version)) {
      notFound(ctx, "model '" + problem + "' has no version '" + version + "' being served; the version served is "
          + served.version() + " (the schedule version in force)");
    } else {
      ctx.reroute(ctx.request().method(), problemPath + suffix);
    }
  }

  private static String decode(String segment) {
    return java.net.URLDecoder.decode(segment.replace("+", "%2B"), java.nio.charset.StandardCharsets.UTF_8);
  }

  private static void notFound(RoutingContext ctx, String message) {
    ctx.response().setStatusCode(404).putHeader("content-type", "application/json")
        .end(Buffer.buffer(Json.encode(Json.MAPPER.createObjectNode().put("error", message))));
  }
}
