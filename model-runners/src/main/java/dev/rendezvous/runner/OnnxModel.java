package dev.rendezvous.runner;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.rendezvous.common.InferenceRequest;
import dev.rendezvous.common.Tensor;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
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
      inputs.put(e.getKey(), (TensorInfo) e.getValue().getInfo());
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
      String datatype = in.getValue().type == OnnxJavaType.DOUBLE ? "FP64" : "FP32";
      zeros.add(new Tensor(in.getKey(), datatype, shape, new double[(int) Tensor.elementCount(shape)]));
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
   * Returns null when the request carries every input this model needs with a compatible shape (same rank,
   * equal fixed dimensions after the batch dimension), otherwise what is wrong. Checked per request before
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
        feed.put(name, stack(parts, shape, in.getValue().type));
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

  private OnnxTensor stack(List<Tensor> parts, long[] shape, OnnxJavaType type) throws OrtException {
    int n = (int) Tensor.elementCount(shape);
    switch (type) {
      case FLOAT -> {
        FloatBuffer buf = FloatBuffer.allocate(n);
        for (Tensor t : parts) {
          for (double v : t.data()) {
            buf.put((float) v);
          }
        }
        return OnnxTensor.createTensor(env, buf.flip(), shape);
      }
      case DOUBLE -> {
        DoubleBuffer buf = DoubleBuffer.allocate(n);
        parts.forEach(t -> buf.put(t.data()));
        return OnnxTensor.createTensor(env, buf.flip(), shape);
      }
      case INT64 -> {
        LongBuffer buf = LongBuffer.allocate(n);
        for (Tensor t : parts) {
          for (double v : t.data()) {
            buf.put((long) v);
          }
        }
        return OnnxTensor.createTensor(env, buf.flip(), shape);
      }
      case INT32 -> {
        IntBuffer buf = IntBuffer.allocate(n);
        for (Tensor t : parts) {
          for (double v : t.data()) {
            buf.put((int) v);
          }
        }
        return OnnxTensor.createTensor(env, buf.flip(), shape);
      }
      default -> throw new IllegalArgumentException("model input type " + type + " is not supported");
    }
  }

  private static void split(String name, OnnxTensor value, int[] rows, int totalRows,
      List<List<Tensor>> perRequest) {
    TensorInfo info = value.getInfo();
    String datatype = switch (info.type) {
      case FLOAT -> "FP32";
      case DOUBLE -> "FP64";
      case INT64 -> "INT64";
      case INT32 -> "INT32";
      default -> throw new IllegalStateException("output type " + info.type + " is not supported");
    };
    ScoringModel.splitRows(name, datatype, info.getShape(), toDoubles(value, info.type), rows, totalRows,
        perRequest);
  }


  private static double[] toDoubles(OnnxTensor value, OnnxJavaType type) {
    switch (type) {
      case FLOAT -> {
        FloatBuffer b = value.getFloatBuffer();
        double[] out = new double[b.remaining()];
        for (int i = 0; i < out.length; i++) {
          out[i] = b.get(i);
        }
        return out;
      }
      case DOUBLE -> {
        DoubleBuffer b = value.getDoubleBuffer();
        double[] out = new double[b.remaining()];
        b.get(out);
        return out;
      }
      case INT64 -> {
        LongBuffer b = value.getLongBuffer();
        double[] out = new double[b.remaining()];
        for (int i = 0; i < out.length; i++) {
          out[i] = b.get(i);
        }
        return out;
      }
      case INT32 -> {
        IntBuffer b = value.getIntBuffer();
        double[] out = new double[b.remaining()];
        for (int i = 0; i < out.length; i++) {
          out[i] = b.get(i);
        }
        return out;
      }
      default -> throw new IllegalStateException("output type " + type + " is not supported");
    }
  }

  @Override
  public void close() throws OrtException {
    session.close();
  }
}
