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

  /** The time the client allowed, in milliseconds. */
  public double budgetMs() {
    return (deadlineAtUs - receivedAtUs) / 1000.0;
  }
}
