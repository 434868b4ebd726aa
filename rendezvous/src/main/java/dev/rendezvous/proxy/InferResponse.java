package dev.rendezvous.proxy;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rendezvous.common.Datatype;
import dev.rendezvous.common.Json;
import dev.rendezvous.common.Tensor;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;

/**
 * The body of an inference response. Its {@code outputs} are the answer's tensors (the chosen model's outputs, or
 * the schedule's default) or, when the request named outputs, exactly those that the answer holds, in the order
 * asked. Each output is written in its datatype's JSON form (FP16 and FP32 as floats, integers as integers, BOOL
 * as true or false, BYTES as strings) unless binary data was asked for it; then the body is the JSON header
 * followed by those outputs' binary data, its length in {@code Inference-Header-Content-Length}, and its type
 * {@code application/octet-stream}.
 */
final class InferResponse {

  private InferResponse() {}

  /**
   * Writes {@code head} (the response without its outputs) with the outputs the request asked for.
   *
   * @param request the parsed request, for its requested outputs and binary flags
   */
  static void send(RoutingContext ctx, ObjectNode head, List<Tensor> outputs, InferRequestParser.Parsed request) {
    if (ctx.response().ended()) {
      return;
    }
    List<Buffer> binary = new ArrayList<>();
    ArrayNode out = head.putArray("outputs");
    for (Tensor t : selected(outputs, request)) {
      ObjectNode o = out.addObject().put("name", t.name()).put("datatype", t.datatype());
      ArrayNode shape = o.putArray("shape");
      for (long d : t.shape()) {
        shape.add(d);
      }
      if (binary(t.name(), request)) {
        byte[] data = BinaryTensors.encode(t);
        o.putObject("parameters").put("binary_data_size", data.length);
        binary.add(Buffer.buffer(data));
      } else {
        writeData(o.putArray("data"), t);
      }
    }
    byte[] json = Json.encode(head);
    if (binary.isEmpty()) {
      ctx.response().setStatusCode(200).putHeader("content-type", "application/json").end(Buffer.buffer(json));
      return;
    }
    Buffer body = Buffer.buffer(json);
    binary.forEach(body::appendBuffer);
    ctx.response().setStatusCode(200).putHeader("content-type", "application/octet-stream")
        .putHeader(InferRequestParser.HEADER_LENGTH, Integer.toString(json.length)).end(body);
  }

  /** The outputs the request asked for, in its order, or all of them when it named none. */
  static List<Tensor> selected(List<Tensor> outputs, InferRequestParser.Parsed request) {
    if (request.outputs() == null) {
      return outputs;
    }
    List<Tensor> chosen = new ArrayList<>(request.outputs().size());
    for (InferRequestParser.RequestedOutput wanted : request.outputs()) {
      for (Tensor t : outputs) {
        if (t.name().equals(wanted.name())) {
          chosen.add(t);
        }
      }
    }
    return chosen;
  }

  private static boolean binary(String output, InferRequestParser.Parsed request) {
    if (request.outputs() != null) {
      for (InferRequestParser.RequestedOutput wanted : request.outputs()) {
        if (wanted.name().equals(output)) {
          return wanted.binary();
        }
      }
    }
    return request.binaryDataOutput();
  }

  /** The elements in their JSON form; FP32 values are printed as floats, not as their double widening. */
  static void writeData(ArrayNode data, Tensor t) {
    Datatype datatype = Datatype.parse(t.datatype());
    if (datatype == Datatype.BYTES) {
      t.strings().forEach(data::add);
      return;
    }
    for (double v : t.data()) {
      if (datatype == Datatype.FP32 || datatype == Datatype.FP16) {
        data.add((float) v);
      } else if (datatype == Datatype.BOOL) {
        data.add(v != 0);
      } else if (datatype != null && datatype.isInteger()) {
        data.add((long) v);
      } else {
        data.add(v);
      }
    }
  }
}
