package dev.rendezvous.proxy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rendezvous.common.Tensor;
import java.util.List;

/**
 * Where the answer to one inference request goes: the HTTP response or the gRPC call that asked. Everything
 * between parsing and answering (the record, the deadline guard, the table of waiting requests, the metrics) is
 * the same for both; only the writing differs. Called once per request, on the event loop that holds it.
 */
interface InferReply {

  /**
   * One answer: a model's or the schedule's default.
   *
   * @param problem the problem, the response's model name
   * @param scheduleVersion the version of the schedule that decided, the response's model version
   * @param clientId the client's id of the request, or null
   * @param parameters the response's parameters ({@code answered_by}, {@code tier}, {@code default}, ...)
   * @param outputs every output of the answer; the reply writes those the request asked for
   * @param request the parsed request
   * @param inTime whether the answer came back through the pipeline (a model's, or a default the rendezvous
   *     decided by the schedule); false when the proxy had to answer itself (its deadline guard, or Kafka
   *     refusing the request): the admission limit's sample of whether the pipeline keeps up
   */
  record Answer(String problem, long scheduleVersion, String clientId, ObjectNode parameters, List<Tensor> outputs,
      InferRequestParser.Parsed request, boolean inTime) {}

  /** Writes the answer. */
  void answer(Answer answer);

  /** Refuses a request that was parsed but cannot be taken in (HTTP status and message, e.g. 413). */
  void refuse(int httpStatus, String message);
}
