package dev.rendezvous.common;

import java.util.List;

/**
 * One scoring request as the proxy writes it to the input topic, keyed by {@code requestId}.
 *
 * @param requestId unique id stamped by the proxy
 * @param clientId the {@code id} the client gave, echoed in the response (may be null)
 * @param problem the served problem
 * @param returnAddress where the result must go ({@link ReturnAddress#format()})
 * @param receivedAtUs when the proxy received the request, epoch microseconds
 * @param deadlineAtUs when the client must have its answer, epoch microseconds
 * @param inputs the input tensors exactly as validated by the proxy
 */
public record InferenceRequest(
    String requestId,
    String clientId,
    String problem,
    String returnAddress,
    long receivedAtUs,
    long deadlineAtUs,
    List<Tensor> inputs) {

  /**
   * Decodes a request as read from the input topic and checks that it has what every reader relies on: a
   * request id, a return address, a deadline and a list of inputs.
   *
   * @throws RuntimeException (UncheckedIOException or IllegalArgumentException) naming what is wrong when the
   *     bytes are not such a request; readers skip the record as poison
   */
  public static InferenceRequest fromJson(byte[] bytes) {
    InferenceRequest r = Json.decode(bytes, InferenceRequest.class);
    String missing = r == null ? "anything (null)"
        : r.requestId == null || r.requestId.isBlank() ? "requestId"
        : r.returnAddress == null ? "returnAddress"
        : r.deadlineAtUs <= 0 ? "deadlineAtUs"
        : r.inputs == null || r.inputs.contains(null) ? "inputs"
        : null;
    if (missing != null) {
      throw new IllegalArgumentException("not a valid InferenceRequest: no " + missing);
    }
    return r;
  }

  /** The time the client allowed, in milliseconds. */
  public double budgetMs() {
    return (deadlineAtUs - receivedAtUs) / 1000.0;
  }
}
