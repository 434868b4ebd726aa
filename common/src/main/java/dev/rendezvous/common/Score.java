package dev.rendezvous.common;

import java.util.List;

/**
 * One model's answer to one request, as a runner writes it to the scores topic, keyed by request id.
 * Exactly one of {@code outputs} and {@code error} is non-null.
 *
 * @param requestId the request scored
 * @param modelId the model's id, as schedules name it
 * @param modelVersion the model's version
 * @param role serving or canary
 * @param outputs the model's output tensors, or null when scoring failed
 * @param error why scoring failed, or null
 * @param runnerId the runner instance that scored it
 * @param device where inference ran (for example {@code cpu} or {@code cuda:0})
 * @param receivedAtUs when the proxy received the request, epoch microseconds (copied from the request)
 * @param scoredAtUs when the score was ready, epoch microseconds
 * @param inferenceUs time spent in the model call for the batch that held this request, microseconds
 */
public record Score(
    String requestId,
    String modelId,
    String modelVersion,
    Role role,
    List<Tensor> outputs,
    String error,
    String runnerId,
    String device,
    long receivedAtUs,
    long scoredAtUs,
    long inferenceUs) {

  public boolean failed() {
    return error != null;
  }
}
