package dev.rendezvous.runner;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.engine.Engine;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ModelNotFoundException;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.NoopTranslator;
import ai.djl.translate.TranslateException;
import dev.rendezvous.common.InferenceRequest;
import dev.rendezvous.common.Tensor;
import dev.rendezvous.common.TensorSpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One model loaded through DJL: a TorchScript file ({@code .pt}, {@code .pth}, {@code .torchscript}) with the
 * PyTorch engine, or an {@code .onnx} file with DJL's ONNX Runtime engine. Batching works as in
 * {@link OnnxModel}: the requests' inputs are stacked along dimension 0 and the outputs split back by row count.
 *
 * <p>TorchScript carries no tensor names, so the runner configuration lists the {@code inputs} (fed in that
 * order) and {@code outputs} (named in that order). Engines are never downloaded at run time: unless
 * {@code ai.djl.offline} is set otherwise, it is set to true, and the native libraries come from the jars on
 * the classpath ({@code pytorch-native-cpu}), unpacked once into {@code DJL_CACHE_DIR}.
 */
public final class DjlModel implements ScoringModel {

  private static final Logger LOG = LoggerFactory.getLogger(DjlModel.class);

  private final ZooModel<NDList, NDList> model;
  private final Predictor<NDList, NDList> predictor;
  private final List<TensorSpec> inputs;
  private final List<TensorSpec> outputs;
  private final String engineName;
  private final String device;

  public DjlModel(Path file, List<TensorSpec> inputs, List<TensorSpec> outputs, int intraOpThreads,
      int interOpThreads, DeviceChoice choice) throws IOException, ModelNotFoundException, MalformedModelException {
    if (System.getProperty("ai.djl.offline") == null) {
      System.setProperty("ai.djl.offline", "true");
    }
    this.engineName = engineFor(file);
    if (engineName.equals("OnnxRuntime")) {
      OrtEnvironments.shared(); // before anything else creates the process's one ONNX Runtime environment
    }
    if (engineName.equals("PyTorch")) {
      // Read when the engine first loads; a runner shares cores with others, so keep its pools small.
      System.getProperties().putIfAbsent("ai.djl.pytorch.num_threads", Integer.toString(intraOpThreads));
      System.getProperties().putIfAbsent("ai.djl.pytorch.num_interop_threads", Integer.toString(interOpThreads));
    }
    Engine engine = Engine.getEngine(engineName);
    Device target = Device.cpu();
    if (choice.triesGpu()) {
      int gpus = engine.getGpuCount();
      if (gpus > choice.gpu()) {
        target = Device.gpu(choice.gpu());
      } else {
        String why = "the DJL " + engineName + " engine " + engine.getVersion() + " sees " + gpus + " GPU(s)";
        if (choice.kind() == DeviceChoice.Kind.CUDA) {
          throw new IllegalStateException("model " + file.getFileName() + " was configured for device "
              + choice.gpuName() + " but " + why);
        }
        if (engine.hasCapability(ai.djl.engine.StandardCapabilities.CUDA)) {
          LOG.warn("model {}: {}; falling back to the CPU (device: auto)", file.getFileName(), why);
        } else {
          // A CPU-only engine build (pytorch-native-cpu): worth a line, not a warning.
          LOG.info("model {}: {} (a CPU-only build); falling back to the CPU (device: auto)", file.getFileName(), why);
        }
      }
    }
    Criteria<NDList, NDList> criteria = Criteria.builder()
        .setTypes(NDList.class, NDList.class)
        .optModelPath(file)
        .optEngine(engineName)
        .optDevice(target)
        .optTranslator(new NoopTranslator())
        .build();
    this.model = criteria.loadModel();
    this.predictor = model.newPredictor();
    this.device = target.isGpu() ? "cuda:" + target.getDeviceId() : "cpu";
    this.inputs = inputs.isEmpty() ? describedInputs(file) : List.copyOf(inputs);
    for (TensorSpec spec : this.inputs) {
      if (!FED.contains(spec.datatype())) {
        close();
        throw new IllegalArgumentException("model " + file.getFileName() + " cannot be served through DJL: input '"
            + spec.name() + "' is " + spec.datatype() + "; DJL is fed " + String.join(", ", FED));
      }
    }
    this.outputs = List.copyOf(outputs);
    LOG.info("model {} runs with DJL {} {} on {}", file.getFileName(), engineName, engine.getVersion(), device);
  }

  /** The DJL engine for a model file, by its extension. */
  static String engineFor(Path file) {
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    if (name.endsWith(".pt") || name.endsWith(".pth") || name.endsWith(".torchscript")) {
      return "PyTorch";
    }
    if (name.endsWith(".onnx")) {
      return "OnnxRuntime";
    }
    throw new IllegalArgumentException("engine djl: cannot tell the engine of " + file.getFileName()
        + " (expected .pt, .pth, .torchscript or .onnx)");
  }

  /**
   * The inputs an ONNX file declares, read with ONNX Runtime's own API (DJL names them but leaves their shapes
   * and types unknown). TorchScript files declare nothing, so their inputs must be configured.
   */
  private List<TensorSpec> describedInputs(Path file) {
    if (!engineName.equals("OnnxRuntime")) {
      throw new IllegalArgumentException("model " + file.getFileName() + " does not name its inputs (TorchScript "
          + "never does): list them under 'inputs' in the runner configuration");
    }
    try (OnnxModel signature = new OnnxModel(file, 1, 1)) {
      List<TensorSpec> specs = new ArrayList<>();
      signature.inputs().forEach((name, info) -> specs.add(new TensorSpec(name, OnnxTensors.datatype(info).name(),
          info.getShape())));
      return specs;
    } catch (ai.onnxruntime.OrtException e) {
      throw new IllegalArgumentException("cannot read the inputs of " + file.getFileName() + ": " + e.getMessage(), e);
    }
  }

  public List<TensorSpec> inputs() {
    return inputs;
  }

  @Override
  public String device() {
    return device;
  }

  @Override
  public String incompatibility(InferenceRequest request) {
    for (TensorSpec spec : inputs) {
      Tensor t = find(request, spec.name());
      if (t == null) {
        return "the model needs input '" + spec.name() + "', which the request lacks";
      }
      if (!spec.datatype().equals(t.datatype())) {
        return "input '" + spec.name() + "' is " + t.datatype() + " but the model takes " + spec.datatype();
      }
      long[] want = spec.shape();
      long[] have = t.shape();
      boolean ok = want.length == have.length;
      for (int i = 1; ok && i < want.length; i++) {
        ok = want[i] < 0 || want[i] == have[i];
      }
      if (!ok) {
        return "input '" + spec.name() + "' has shape " + Arrays.toString(have) + " but the model takes "
            + Arrays.toString(want);
      }
    }
    return null;
  }

  @Override
  public void warmUp() throws TranslateException {
    List<Tensor> zeros = new ArrayList<>();
    for (TensorSpec spec : inputs) {
      long[] shape = spec.shape().clone();
      for (int i = 0; i < shape.length; i++) {
        shape[i] = shape[i] < 1 ? 1 : shape[i];
      }
      int n = (int) Tensor.elementCount(shape);
      zeros.add(spec.datatype().equals("BYTES") ? Tensor.ofStrings(spec.name(), shape, Collections.nCopies(n, ""))
          : new Tensor(spec.name(), spec.datatype(), shape, new double[n]));
    }
    score(List.of(new InferenceRequest("warm-up", null, "", "", 0, 0, zeros)));
  }

  @Override
  public List<List<Tensor>> score(List<InferenceRequest> batch) throws TranslateException {
    int[] rows = new int[batch.size()];
    int totalRows = 0;
    try (NDManager manager = model.getNDManager().newSubManager()) {
      NDList feed = new NDList(inputs.size());
      for (TensorSpec spec : inputs) {
        List<Tensor> parts = new ArrayList<>(batch.size());
        totalRows = 0;
        for (int i = 0; i < batch.size(); i++) {
          Tensor t = find(batch.get(i), spec.name());
          if (t == null) {
            throw new IllegalArgumentException("request " + batch.get(i).requestId() + " has no input '"
                + spec.name() + "'");
          }
          rows[i] = (int) t.rows();
          totalRows += rows[i];
          parts.add(t);
        }
        long[] shape = parts.get(0).shape().clone();
        if (shape.length > 0) {
          shape[0] = totalRows;
        }
        NDArray array = stack(manager, parts, new Shape(shape), spec.datatype());
        array.setName(spec.name());
        feed.add(array);
      }
      NDList result = predictor.predict(feed);
      result.attach(manager);
      List<List<Tensor>> perRequest = new ArrayList<>(batch.size());
      for (int i = 0; i < batch.size(); i++) {
        perRequest.add(new ArrayList<>(result.size()));
      }
      for (int o = 0; o < result.size(); o++) {
        NDArray out = result.get(o);
        String name = o < outputs.size() ? outputs.get(o).name()
            : out.getName() != null ? out.getName() : "output" + o;
        split(name, out, rows, totalRows, perRequest);
      }
      return perRequest;
    }
  }

  private static Tensor find(InferenceRequest request, String name) {
    for (Tensor t : request.inputs()) {
      if (t.name().equals(name)) {
        return t;
      }
    }
    return null;
  }

  /**
   * The datatypes this class feeds to DJL; not INT16 nor the UINTs above 8 bits, which DJL's engines do not take
   * from Java.
   */
  private static final List<String> FED = List.of("BOOL", "UINT8", "INT8", "INT32", "INT64", "FP16", "FP32", "FP64",
      "BYTES");

  private static NDArray stack(NDManager manager, List<Tensor> parts, Shape shape, String datatype) {
    int n = (int) shape.size();
    int k = 0;
    switch (datatype) {
      case "FP32", "FP16" -> {
        float[] data = new float[n];
        for (Tensor t : parts) {
          for (double v : t.data()) {
            data[k++] = (float) v;
          }
        }
        NDArray array = manager.create(data, shape);
        return datatype.equals("FP16") ? array.toType(DataType.FLOAT16, false) : array;
      }
      case "FP64" -> {
        double[] data = new double[n];
        for (Tensor t : parts) {
          System.arraycopy(t.data(), 0, data, k, t.data().length);
          k += t.data().length;
        }
        return manager.create(data, shape);
      }
      case "INT64" -> {
        long[] data = new long[n];
        for (Tensor t : parts) {
          for (double v : t.data()) {
            data[k++] = (long) v;
          }
        }
        return manager.create(data, shape);
      }
      case "INT32" -> {
        int[] data = new int[n];
        for (Tensor t : parts) {
          for (double v : t.data()) {
            data[k++] = (int) v;
          }
        }
        return manager.create(data, shape);
      }
      case "INT8", "UINT8" -> {
        ByteBuffer data = ByteBuffer.allocateDirect(n).order(ByteOrder.nativeOrder());
        for (Tensor t : parts) {
          for (double v : t.data()) {
            data.put((byte) (int) v);
          }
        }
        return manager.create(data.flip(), shape, datatype.equals("INT8") ? DataType.INT8 : DataType.UINT8);
      }
      case "BOOL" -> {
        boolean[] data = new boolean[n];
        for (Tensor t : parts) {
          for (double v : t.data()) {
            data[k++] = v != 0;
          }
        }
        return manager.create(data, shape);
      }
      case "BYTES" -> {
        String[] data = new String[n];
        for (Tensor t : parts) {
          for (String v : t.strings()) {
            data[k++] = v;
          }
        }
        return manager.create(data, StandardCharsets.UTF_8, shape);
      }
      default -> throw new IllegalArgumentException("model input type " + datatype + " is not supported");
    }
  }

  private static void split(String name, NDArray value, int[] rows, int totalRows, List<List<Tensor>> perRequest) {
    long[] shape = value.getShape().getShape();
    DataType type = value.getDataType();
    if (type == DataType.STRING) {
      ScoringModel.splitRows(name, shape, Arrays.asList(value.toStringArray(StandardCharsets.UTF_8)), rows,
          totalRows, perRequest);
      return;
    }
    String datatype;
    double[] all;
    switch (type) {
      case FLOAT32, FLOAT16 -> {
        datatype = type == DataType.FLOAT32 ? "FP32" : "FP16";
        float[] f = (type == DataType.FLOAT32 ? value : value.toType(DataType.FLOAT32, false)).toFloatArray();
        all = new double[f.length];
        for (int i = 0; i < f.length; i++) {
          all[i] = f[i];
        }
      }
      case FLOAT64 -> {
        datatype = "FP64";
        all = value.toDoubleArray();
      }
      case INT64 -> {
        datatype = "INT64";
        all = Arrays.stream(value.toLongArray()).asDoubleStream().toArray();
      }
      case INT32 -> {
        datatype = "INT32";
        all = Arrays.stream(value.toIntArray()).asDoubleStream().toArray();
      }
      case INT8, UINT8, BOOLEAN -> {
        datatype = type == DataType.INT8 ? "INT8" : type == DataType.UINT8 ? "UINT8" : "BOOL";
        byte[] b = value.toByteArray();
        all = new double[b.length];
        for (int i = 0; i < b.length; i++) {
          all[i] = type == DataType.INT8 ? b[i] : type == DataType.UINT8 ? b[i] & 0xff : (b[i] != 0 ? 1 : 0);
        }
      }
      default -> throw new IllegalStateException("output type " + type + " is not supported");
    }
    ScoringModel.splitRows(name, datatype, shape, all, rows, totalRows, perRequest);
  }

  @Override
  public void close() {
    predictor.close();
    model.close();
  }

  @Override
  public String toString() {
    return "DJL " + engineName + " on " + device;
  }
}
