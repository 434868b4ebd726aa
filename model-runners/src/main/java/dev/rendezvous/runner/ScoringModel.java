package dev.rendezvous.runner;

import dev.rendezvous.common.InferenceRequest;
import dev.rendezvous.common.Tensor;
import java.util.List;

/**
 * A loaded model that a runner scores batches with, whatever engine runs it. Implementations are called from
 * the runner's one thread; they need not be thread-safe.
 */
public interface ScoringModel extends AutoCloseable {

  /**
   * Opens the model named by the configuration with its engine ({@code onnxruntime} or {@code djl}) on its
   * device; with {@code device: auto} a missing GPU means the CPU, with {@code cuda} it means an exception.
   */
  static ScoringModel open(RunnerConfig config) throws Exception {
    DeviceChoice device = DeviceChoice.parse(config.device());
    return switch (config.engine()) {
      case "onnxruntime" -> new OnnxModel(config.model(), config.intraOpThreads(), config.interOpThreads(), device);
      case "djl" -> new DjlModel(config.model(), config.inputs(), config.outputs(), config.intraOpThreads(),
          config.interOpThreads(), device);
      default -> throw new IllegalArgumentException("unknown engine " + config.engine());
    };
  }

  /**
   * Scores the requests in one inference call and returns, per request in order, its output tensors. Throws
   * when the model fails; the caller then reports the error for every request of the batch.
   */
  List<List<Tensor>> score(List<InferenceRequest> batch) throws Exception;

  /**
   * Returns null when the request carries every input this model needs with a compatible shape, otherwise
   * what is wrong. Checked per request before batching so one bad request cannot fail its batch-mates.
   */
  String incompatibility(InferenceRequest request);

  /** Runs one all-zero row through the model so that the first real request does not pay for lazy set-up. */
  void warmUp() throws Exception;

  /** Where inference really runs: {@code cpu} or {@code cuda:N}. */
  String device();

  @Override
  void close() throws Exception;

  /**
   * Splits one output of a batched call back into the requests it came from: {@code all} holds the output's
   * elements for every row, {@code rows[i]} how many rows request i contributed; each request gets a tensor with
   * its own rows. Throws when the output's first dimension is not the batch's row count.
   */
  static void splitRows(String name, String datatype, long[] shape, double[] all, int[] rows, int totalRows,
      List<List<Tensor>> perRequest) {
    if (shape.length == 0 || shape[0] != totalRows) {
      throw new IllegalStateException("output '" + name + "' has shape " + java.util.Arrays.toString(shape)
          + ", expected " + totalRows + " rows");
    }
    int perRow = totalRows == 0 ? 0 : all.length / totalRows;
    int offset = 0;
    for (int i = 0; i < rows.length; i++) {
      long[] s = shape.clone();
      s[0] = rows[i];
      double[] data = new double[rows[i] * perRow];
      System.arraycopy(all, offset, data, 0, data.length);
      offset += data.length;
      perRequest.get(i).add(new Tensor(name, datatype, s, data));
    }
  }

  /** {@link #splitRows} for a BYTES output. */
  static void splitRows(String name, long[] shape, List<String> all, int[] rows, int totalRows,
      List<List<Tensor>> perRequest) {
    if (shape.length == 0 || shape[0] != totalRows) {
      throw new IllegalStateException("output '" + name + "' has shape " + java.util.Arrays.toString(shape)
          + ", expected " + totalRows + " rows");
    }
    int perRow = totalRows == 0 ? 0 : all.size() / totalRows;
    int offset = 0;
    for (int i = 0; i < rows.length; i++) {
      long[] s = shape.clone();
      s[0] = rows[i];
      perRequest.get(i).add(Tensor.ofStrings(name, s, all.subList(offset, offset + rows[i] * perRow)));
      offset += rows[i] * perRow;
    }
  }
}
