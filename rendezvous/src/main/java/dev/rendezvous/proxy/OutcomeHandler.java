package dev.rendezvous.proxy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rendezvous.common.Clock;
import dev.rendezvous.common.Json;
import dev.rendezvous.common.Outcome;
import dev.rendezvous.common.Topics;
import dev.rendezvous.schedule.ScheduleRegistry;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import java.util.Iterator;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /v2/models/{problem}/outcome}: the ground truth for a request answered earlier, as
 * {@code {"request_id": "<the request_id the response carried>", "outcome": <number, label or object>}}.
 * It is written to the problem's outcomes topic keyed by request id, and answered 200 only once Kafka has
 * acknowledged it; the decoy archives it beside the request's inputs and scores. The request id is not
 * checked against past requests (the proxy keeps none); an unknown one simply joins nothing at export. Only
 * the admin credential may post outcomes ({@link dev.rendezvous.auth.AccessControl}), and request ids cannot
 * be guessed, so one client cannot label another's requests.
 */
final class OutcomeHandler implements Handler<RoutingContext> {

  private static final Logger LOG = LoggerFactory.getLogger(OutcomeHandler.class);
  private static final Set<String> FIELDS = Set.of("request_id", "outcome");

  private final ScheduleRegistry schedules;
  private final KafkaProducer<String, byte[]> producer;
  private final Clock clock;

  OutcomeHandler(ScheduleRegistry schedules, KafkaProducer<String, byte[]> producer, Clock clock) {
    this.schedules = schedules;
    this.producer = producer;
    this.clock = clock;
  }

  @Override
  public void handle(RoutingContext ctx) {
    String problem = ctx.pathParam("problem");
    if (schedules.current(problem).isEmpty()) {
      JsonResponses.error(ctx, 404, "unknown problem '" + problem + "'; served: "
          + String.join(", ", schedules.problems()));
      return;
    }
    Outcome outcome;
    try {
      outcome = parse(problem, ctx.body().buffer());
    } catch (BadRequestException e) {
      JsonResponses.error(ctx, e.status(), e.getMessage());
      return;
    }
    producer.send(KafkaProducerRecord.create(Topics.of(problem).outcomes(), outcome.requestId(), Json.encode(outcome)))
        .onSuccess(md -> JsonResponses.json(ctx, 200, Json.MAPPER.createObjectNode()
            .put("request_id", outcome.requestId()).put("recorded", true)))
        .onFailure(e -> {
          LOG.warn("outcome for {} not written to Kafka: {}", outcome.requestId(), e.getMessage());
          JsonResponses.error(ctx, 503, "the outcome could not be recorded, try again: " + e.getMessage());
        });
  }

  private Outcome parse(String problem, Buffer body) {
    String usage = "the body must be {\"request_id\": \"...\", \"outcome\": <number, label or object>}";
    if (body == null || body.length() == 0) {
      throw new BadRequestException("empty body; " + usage);
    }
    JsonNode root;
    try {
      root = Json.STRICT_READER.readTree(body.getBytes());
    } catch (Exception e) {
      throw new BadRequestException("the body is not valid JSON: " + e.getMessage().split("\n")[0]);
    }
    if (root == null || !root.isObject()) {
      throw new BadRequestException(usage);
    }
    for (Iterator<String> names = root.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!FIELDS.contains(name)) {
        throw new BadRequestException("unknown field '" + name + "'; " + usage);
      }
    }
    JsonNode id = root.get("request_id");
    if (id == null || !id.isTextual() || id.asText().isBlank()) {
      throw new BadRequestException("'request_id' must be the non-empty request_id string of the answered request");
    }
    JsonNode value = root.get("outcome");
    if (value == null || value.isNull()) {
      throw new BadRequestException("'outcome' is missing; " + usage);
    }
    return new Outcome(id.asText(), problem, value, clock.nowMicros());
  }
}
