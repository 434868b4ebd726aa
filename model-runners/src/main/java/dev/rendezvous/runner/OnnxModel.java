package dev.rendezvous.runner;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.rendezvous.common.Datatype;
import dev.rendezvous.common.InferenceRequest;
import dev.rendezvous.common.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One ONNX model in an ONNX Runtime session. {@link #score} runs several requests as one batch: their
 * inputs are stacked along dimension 0 and the outputs split back by each request's row count. A session is
 * safe for concurrent use, but a runner calls it from one thread.
 *
 * <p>On a GPU the session uses ONNX Runtime's CUDA execution provider, which needs the
 * {@code onnxruntime_gpu} build on the classpath (Maven profile {@code gpu}), the CUDA libraries and a GPU; the
 * plain {@code onnxruntime} build has no CUDA provider, so there {@code auto} always means the CPU.
 */
public final class OnnxModel implements ScoringModel {

  private static final Logger LOG = LoggerFactory.getLogger(OnnxModel.class);

  private final OrtEnvironment env;
  private final OrtSession session;
  private final String device;
  private final Map<String, TensorInfo> inputs = new LinkedHashMap<>();
  private final Map<String, TensorInfo> outputs = new LinkedHashMap<>();

  /** A model on the CPU. */
  public OnnxModel(Path file, int intraOpThreads, int interOpThreads) throws OrtException {
    this(file, intraOpThreads, interOpThreads, DeviceChoice.parse("cpu"));
  }

  /**
   * A model on the chosen device. For {@code cuda} a GPU session that cannot be made is an error; for
   * {@code auto} one log line says why (a warning when the build has a CUDA provider that could not be used)
   * and the session is made for the CPU.
   */
  public OnnxModel(Path file, int intraOpThreads, int interOpThreads, DeviceChoice choice) throws OrtException {
    this.env = OrtEnvironments.shared();
    OrtSession gpuSession = null;
    if (choice.triesGpu()) {
      try (OrtSession.SessionOptions options = options(intraOpThreads, interOpThreads)) {
        options.addCUDA(choice.gpu());
        gpuSession = env.createSession(file.toString(), options);
      } catch (OrtException | RuntimeException | LinkageError e) {
        String why = "no usable CUDA execution provider for GPU " + choice.gpu() + " (" + e.getMessage()
            + "; available providers: " + OrtEnvironment.getAvailableProviders() + ")";
        if (choice.kind() == DeviceChoice.Kind.CUDA) {
          throw new IllegalStateException("model " + file.getFileName() + " was configured for device "
              + choice.gpuName() + " but there is " + why, e);
        }
        if (OrtEnvironment.getAvailableProviders().contains(ai.onnxruntime.OrtProvider.CUDA)) {
          LOG.warn("model {}: {}; falling back to the CPU (device: auto)", file.getFileName(), why);
        } else {
          // The usual case on CPU-only builds: worth a line, not a warning.
          LOG.info("model {}: {}; falling back to the CPU (device: auto; build with -Pgpu for CUDA)",
              file.getFileName(), why);
        }
      }
    }
    if (gpuSession != null) {
      this.session = gpuSession;
      this.device = choice.gpuName();
    } else {
      try (OrtSession.SessionOptions options = options(intraOpThreads, interOpThreads)) {
        this.session = env.createSession(file.toString(), options);
      }
      this.device = "cpu";
    }
    LOG.info("model {} runs with ONNX Runtime on {}", file.getFileName(), device);
    for (Map.Entry<String, NodeInfo> e : session.getInputInfo().entrySet()) {
      TensorInfo info = (TensorInfo) e.getValue().getInfo();
      String unfeedable = OnnxTensors.unfeedable(e.getKey(), info);
      if (unfeedable != null) {
        session.close();
        throw new IllegalArgumentException("model " + file.getFileName() + " cannot be served: " + unfeedable);
      }
      inputs.put(e.getKey(), info);
    }
    for (Map.Entry<String, NodeInfo> e : session.getOutputInfo().entrySet()) {
      outputs.put(e.getKey(), (TensorInfo) e.getValue().getInfo());
    }
  }

  private static OrtSession.SessionOptions options(int intraOpThreads, int interOpThreads) throws OrtException {
    OrtSession.SessionOptions options = new OrtSession.SessionOptions();
    options.setIntraOpNumThreads(intraOpThreads);
    options.setInterOpNumThreads(interOpThreads);
    options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
    return options;
  }

  @Override
  public String device() {
    return device;
  }

  /**
   * Runs one all-zero row through the model so that the first real request does not pay for the session's
   * lazy initialisation. Dimensions the model leaves open are taken as 1.
   */
  @Override
  public void warmUp() throws OrtException {
    List<Tensor> zeros = new ArrayList<>();
    for (Map.Entry<String, TensorInfo> in : inputs.entrySet()) {
      long[] shape = in.getValue().getShape().clone();
      for (int i = 0; i < shape.length; i++) {
        shape[i] = shape[i] < 1 ? 1 : shape[i];
      }
      int n = (int) Tensor.elementCount(shape);
      Datatype datatype = OnnxTensors.datatype(in.getValue());
      zeros.add(datatype == Datatype.BYTES ? Tensor.ofStrings(in.getKey(), shape, Collections.nCopies(n, ""))
          : new Tensor(in.getKey(), datatype.name(), shape, new double[n]));
    }
    score(List.of(new InferenceRequest("warm-up", null, "", "", 0, 0, zeros)));
  }

  public Map<String, TensorInfo> inputs() {
    return inputs;
  }

  public Map<String, TensorInfo> outputs() {
    return outputs;
  }

  /**
   * Returns null when the request carries every input this model needs with the model's element type and a
   * compatible shape (same rank, equal fixed dimensions after the batch dimension), otherwise what is wrong. Checked per request before
   * batching so one bad request cannot fail its batch-mates.
   */
  @Override
  public String incompatibility(InferenceRequest request) {
    for (Map.Entry<String, TensorInfo> in : inputs.entrySet()) {
      Tensor t = null;
      for (Tensor candidate : request.inputs()) {
        if (candidate.name().equals(in.getKey())) {
          t = candidate;
        }
      }
      if (t == null) {
        return "the model needs input '" + in.getKey() + "', which the request lacks";
      }
      Datatype takes = OnnxTensors.datatype(in.getValue());
      if (!takes.name().equals(t.datatype())) {
        return "input '" + in.getKey() + "' is " + t.datatype() + " but the model takes " + takes;
      }
      long[] want = in.getValue().getShape();
      long[] have = t.shape();
      boolean ok = want.length == have.length;
      for (int i = 1; ok && i < want.length; i++) {
        ok = want[i] < 0 || want[i] == have[i];
      }
      if (!ok) {
        return "input '" + in.getKey() + "' has shape " + java.util.Arrays.toString(have) + " but the model takes "
            + java.util.Arrays.toString(want);
      }
    }
    return null;
  }

  /**
   * Scores the requests in one inference call and returns, per request in order, its output tensors.
   * Throws when a request lacks an input the model needs or the model fails; the caller then reports the
   * error for every request of the batch.
   */
  @Override
  public List<List<Tensor>> score(List<InferenceRequest> batch) throws OrtException {
    int[] rows = new int[batch.size()];
    int totalRows = 0;
    Map<String, OnnxTensor> feed = new HashMap<>();
    try {
      for (Map.Entry<String, TensorInfo> in : inputs.entrySet()) {
        String name = in.getKey();
        List<Tensor> parts = new ArrayList<>(batch.size());
        long[] rowShape = null;
        totalRows = 0;
        for (int i = 0; i < batch.size(); i++) {
          Tensor t = find(batch.get(i), name);
          rows[i] = (int) t.rows();
          totalRows += rows[i];
          rowShape = t.shape();
          parts.add(t);
        }
        long[] shape = rowShape.clone();
        if (shape.length > 0) {
          shape[0] = totalRows;
        }
        feed.put(name, OnnxTensors.create(env, parts, shape, OnnxTensors.datatype(in.getValue())));
      }
      try (OrtSession.Result result = session.run(feed)) {
        List<List<Tensor>> perRequest = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
          perRequest.add(new ArrayList<>(outputs.size()));
        }
        for (Map.Entry<String, OnnxValue> out : result) {
          split(out.getKey(), (OnnxTensor) out.getValue(), rows, totalRows, perRequest);
        }
        return perRequest;
      }
    } finally {
      feed.values().forEach(OnnxTensor::close);
    }
  }

  private static Tensor find(InferenceRequest request, String name) {
    for (Tensor t : request.inputs()) {
      if (t.name().equals(name)) {
        return t;
      }
    }
    throw new IllegalArgumentException("request " + request.requestId() + " has no input '" + name + "'");
  }

  private static void split(String name, OnnxTensor value, int[] rows, int totalRows,
      List<List<Tensor>> perRequest) throws OrtException {
    TensorInfo info = value.getInfo();
    Datatype datatype = OnnxTensors.datatype(info);
    if (datatype == null || datatype == Datatype.UINT16 || datatype == Datatype.UINT32
        || datatype == Datatype.UINT64) {
      throw new IllegalStateException("output '" + name + "' has ONNX type " + info.onnxType
          + ", which cannot be read from ONNX Runtime's Java API");
    }
    if (datatype == Datatype.BYTES) {
      ScoringModel.splitRows(name, info.getShape(), OnnxTensors.strings(value), rows, totalRows, perRequest);
    } else {
      ScoringModel.splitRows(name, datatype.name(), info.getShape(), OnnxTensors.numbers(value, datatype), rows,
          totalRows, perRequest);
    }
  }

  @Override
  public void close() throws OrtException {
    session.close();
  }
}
