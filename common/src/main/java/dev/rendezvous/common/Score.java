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

  /**
   * Decodes a score as read from the scores topic and checks that it has what every reader relies on: a
   * request id, a model id and version, a role, and outputs or an error.
   *
   * @throws RuntimeException (UncheckedIOException or IllegalArgumentException) naming what is wrong when the
   *     bytes are not such a score; readers skip the record as poison
   */
  public static Score fromJson(byte[] bytes) {
    Score s = Json.decode(bytes, Score.class);
    String missing = s == null ? "anything (null)"
        : s.requestId == null || s.requestId.isBlank() ? "requestId"
        : s.modelId == null || s.modelId.isBlank() ? "modelId"
        : s.modelVersion == null ? "modelVersion"
        : s.role == null ? "role"
        : s.outputs == null && s.error == null ? "outputs or error"
        : s.outputs != null && s.outputs.contains(null) ? "outputs"
        : null;
    if (missing != null) {
      throw new IllegalArgumentException("not a valid Score: no " + missing);
    }
    return s;
  }

  public boolean failed() {
    return error != null;
  }
}
