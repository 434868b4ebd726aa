package dev.rendezvous.common;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The ground truth for one request, learned after it was answered (the fraud was confirmed, the customer
 * churned), as the proxy writes it to the outcomes topic keyed by request id. A later outcome for the same
 * request corrects an earlier one.
 *
 * @param requestId the request the outcome is about, as the proxy stamped it
 * @param problem the served problem
 * @param outcome any JSON value: a number, a label or an object
 * @param recordedAtUs when the proxy received the outcome, epoch microseconds
 */
public record Outcome(String requestId, String problem, JsonNode outcome, long recordedAtUs) {

  /**
   * Decodes an outcome as read from the outcomes topic and checks that it names its request.
   *
   * @throws RuntimeException naming what is wrong when the bytes are not such an outcome
   */
  public static Outcome fromJson(byte[] bytes) {
    Outcome o = Json.decode(bytes, Outcome.class);
    if (o == null || o.requestId == null || o.requestId.isBlank()) {
      throw new IllegalArgumentException("not a valid Outcome: no requestId");
    }
    return o;
  }
}
