package dev.rendezvous.rollout;

import static dev.rendezvous.proxy.JsonResponses.error;
import static dev.rendezvous.proxy.JsonResponses.json;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rendezvous.auth.AccessControl;
import dev.rendezvous.common.Json;
import dev.rendezvous.proxy.AdminExecutor;
import dev.rendezvous.schedule.ScheduleException;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.util.function.BiConsumer;

/**
 * The schedule endpoints of the proxy:
 * <ul>
 *   <li>{@code GET /v2/models/{problem}/schedule}: the schedule in force, its history, the models seen
 *       scoring, warnings and the last refused edit;
 *   <li>{@code POST /v2/models/{problem}/schedule} with the YAML as body: validate and apply
 *       ({@code ?dry_run=true}: validate only); 400 with the loader's message when invalid;
 *   <li>{@code POST /v2/models/{problem}/schedule/rollback?version=N}: re-apply version N as a new version.
 * </ul>
 * Applying talks to Kafka and waits for the version to be in force, so it runs off the event loop, on the
 * proxy's {@link AdminExecutor} (never on the pool the request path's Kafka sends use); so does the status. The
 * proxy's {@link AccessControl} lets only the admin token through to the POSTs; the status names the Kafka
 * cluster only to the admin.
 */
public final class ScheduleRoutes implements BiConsumer<Router, WorkerExecutor> {

  private final ScheduleControl control;

  public ScheduleRoutes(ScheduleControl control) {
    this.control = control;
  }

  /** Adds the endpoints to a router of the proxy, whose {@code admin} executor runs their work. */
  @Override
  public void accept(Router router, WorkerExecutor admin) {
    router.get("/v2/models/:problem/schedule").handler(ctx -> status(ctx, admin));
    router.post("/v2/models/:problem/schedule/rollback").handler(ctx -> rollback(ctx, admin));
    router.post("/v2/models/:problem/schedule").handler(ctx -> apply(ctx, admin));
  }

  private void status(RoutingContext ctx, WorkerExecutor admin) {
    String problem = ctx.pathParam("problem");
    boolean isAdmin = AccessControl.isAdmin(ctx);
    admin.executeBlocking(() -> control.status(problem, isAdmin), false).onComplete(ar -> {
      if (ar.failed()) {
        error(ctx, 503, ar.cause().getMessage());
      } else if (ar.result() == null) {
        error(ctx, 404, "unknown problem '" + problem + "'");
      } else {
        json(ctx, 200, ar.result());
      }
    });
  }

  private void apply(RoutingContext ctx, WorkerExecutor admin) {
    String problem = ctx.pathParam("problem");
    Buffer body = ctx.body().buffer();
    String yaml = body == null ? "" : body.toString(StandardCharsets.UTF_8);
    boolean dryRun = "true".equals(ctx.queryParams().get("dry_run"));
    String source = ctx.queryParams().get("source") != null ? ctx.queryParams().get("source") : "http";
    admin.executeBlocking(() -> {
      ScheduleControl.Outcome o;
      try {
        o = control.apply(yaml, source, dryRun, problem);
      } catch (ScheduleException e) {
        if (!dryRun) {
          control.reject(problem, source, e.getMessage());
        }
        throw e;
      }
      return o;
    }, false).onComplete(ar -> {
      if (ar.succeeded()) {
        json(ctx, 200, outcome(ar.result()));
      } else if (ar.cause() instanceof ScheduleException || ar.cause() instanceof IllegalArgumentException) {
        error(ctx, 400, ar.cause().getMessage());
      } else {
        error(ctx, 503, ar.cause().getMessage());
      }
    });
  }

  private void rollback(RoutingContext ctx, WorkerExecutor admin) {
    String problem = ctx.pathParam("problem");
    long version;
    try {
      version = Long.parseLong(ctx.queryParams().get("version"));
    } catch (NumberFormatException e) {
      error(ctx, 400, "version must be a whole number, not '" + ctx.queryParams().get("version") + "'");
      return;
    }
    admin.executeBlocking(() -> control.rollback(problem, version), false).onComplete(ar -> {
      if (ar.succeeded()) {
        json(ctx, 200, outcome(ar.result()));
      } else if (ar.cause() instanceof ScheduleException || ar.cause() instanceof IllegalArgumentException) {
        error(ctx, 400, ar.cause().getMessage());
      } else {
        error(ctx, 503, ar.cause().getMessage());
      }
    });
  }

  private static ObjectNode outcome(ScheduleControl.Outcome o) {
    ObjectNode body = Json.MAPPER.createObjectNode();
    body.put("problem", o.schedule().problem());
    body.put("valid", true);
    if (o.applied() != null) {
      body.put("version", o.applied().version());
      body.put("changed", o.changed());
      body.put("source", o.applied().source());
      body.put("diff", o.applied().diff());
      if (o.applied().rollbackOf() != null) {
        body.put("rollback_of", o.applied().rollbackOf());
      }
    }
    o.warnings().forEach(body.putArray("warnings")::add);
    return body;
  }
}
