package dev.rendezvous.bench;

import dev.rendezvous.common.InferenceRequest;
import dev.rendezvous.common.Json;
import dev.rendezvous.common.Role;
import dev.rendezvous.common.Score;
import dev.rendezvous.common.Tensor;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Measures what the one JSON codec costs per message against a compact binary encoding of the same records
 * (length-prefixed strings, fixed-width numbers, FP32 data as 4-byte floats), so the choice of wire format is
 * made on numbers. The binary form here exists only for this comparison.
 */
public final class CodecTiming {

  /** Nanoseconds per encode + decode round trip, and encoded sizes in bytes. */
  public record Result(String message, double jsonNs, int jsonBytes, double binaryNs, int binaryBytes) {}

  private CodecTiming() {}

  public static List<Result> run(double[] row, int iterations) {
    Tensor features = new Tensor("features", "FP32", new long[] {1, row.length}, row);
    InferenceRequest request = new InferenceRequest("k3l9x2mq01-4f2a", "client-42", "breast-cancer",
        "rdv.breast-cancer.results:0", 1_764_000_000_000_000L, 1_764_000_000_050_000L, List.of(features));
    Score score = new Score(request.requestId(), "bc-mlp", "2", Role.SERVING,
        List.of(new Tensor("probability", "FP32", new long[] {1, 1}, new double[] {0.0123f})), null,
        "bc-mlp@123@host-ab12", "cpu", request.receivedAtUs(), request.receivedAtUs() + 3_000, 41);
    List<Result> out = new ArrayList<>();
    out.add(time("InferenceRequest (30 FP32 features)", iterations,
        () -> Json.decode(Json.encode(request), InferenceRequest.class),
        () -> decodeRequest(encodeRequest(request)), Json.encode(request).length, encodeRequest(request).length));
    out.add(time("Score (one FP32 output)", iterations, () -> Json.decode(Json.encode(score), Score.class),
        () -> decodeScore(encodeScore(score)), Json.encode(score).length, encodeScore(score).length));
    return out;
  }

  public static String table(List<Result> results) {
    StringBuilder b = new StringBuilder("### Wire format: JSON against binary (encode + decode, one thread)\n\n"
        + "| message | JSON ns | JSON bytes | binary ns | binary bytes |\n|---|---|---|---|---|\n");
    for (Result r : results) {
      b.append(String.format(Locale.ROOT, "| %s | %.0f | %d | %.0f | %d |%n", r.message(), r.jsonNs(), r.jsonBytes(),
          r.binaryNs(), r.binaryBytes()));
    }
    return b.append('\n').toString();
  }

  private static Result time(String name, int iterations, Runnable json, Runnable binary, int jsonBytes,
      int binaryBytes) {
    for (int i = 0; i < iterations; i++) { // warm both paths up before timing either
      json.run();
      binary.run();
    }
    long t0 = System.nanoTime();
    for (int i = 0; i < iterations; i++) {
      json.run();
    }
    long t1 = System.nanoTime();
    for (int i = 0; i < iterations; i++) {
      binary.run();
    }
    long t2 = System.nanoTime();
    return new Result(name, (t1 - t0) / (double) iterations, jsonBytes, (t2 - t1) / (double) iterations, binaryBytes);
  }

  static byte[] encodeRequest(InferenceRequest r) {
    return write(out -> {
      out.writeUTF(r.requestId());
      out.writeUTF(r.clientId() == null ? "" : r.clientId());
      out.writeUTF(r.problem());
      out.writeUTF(r.returnAddress());
      out.writeLong(r.receivedAtUs());
      out.writeLong(r.deadlineAtUs());
      writeTensors(out, r.inputs());
    });
  }

  static InferenceRequest decodeRequest(byte[] bytes) {
    return read(bytes, in -> new InferenceRequest(in.readUTF(), in.readUTF(), in.readUTF(), in.readUTF(),
        in.readLong(), in.readLong(), readTensors(in)));
  }

  static byte[] encodeScore(Score s) {
    return write(out -> {
      out.writeUTF(s.requestId());
      out.writeUTF(s.modelId());
      out.writeUTF(s.modelVersion());
      out.writeByte(s.role().ordinal());
      writeTensors(out, s.outputs());
      out.writeUTF(s.error() == null ? "" : s.error());
      out.writeUTF(s.runnerId());
      out.writeUTF(s.device());
      out.writeLong(s.receivedAtUs());
      out.writeLong(s.scoredAtUs());
      out.writeLong(s.inferenceUs());
    });
  }

  static Score decodeScore(byte[] bytes) {
    return read(bytes, in -> new Score(in.readUTF(), in.readUTF(), in.readUTF(), Role.values()[in.readByte()],
        readTensors(in), in.readUTF(), in.readUTF(), in.readUTF(), in.readLong(), in.readLong(), in.readLong()));
  }

  private static void writeTensors(DataOutputStream out, List<Tensor> tensors) throws IOException {
    out.writeShort(tensors.size());
    for (Tensor t : tensors) {
      out.writeUTF(t.name());
      out.writeUTF(t.datatype());
      out.writeByte(t.shape().length);
      for (long d : t.shape()) {
        out.writeLong(d);
      }
      out.writeInt(t.data().length);
      for (double v : t.data()) {
        out.writeFloat((float) v);
      }
    }
  }

  private static List<Tensor> readTensors(DataInputStream in) throws IOException {
    int n = in.readShort();
    List<Tensor> tensors = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      String name = in.readUTF();
      String datatype = in.readUTF();
      long[] shape = new long[in.readByte()];
      for (int d = 0; d < shape.length; d++) {
        shape[d] = in.readLong();
      }
      double[] data = new double[in.readInt()];
      for (int d = 0; d < data.length; d++) {
        data[d] = in.readFloat();
      }
      tensors.add(new Tensor(name, datatype, shape, data));
    }
    return tensors;
  }

  private interface Writer {
    void write(DataOutputStream out) throws IOException;
  }

  private interface Reader<T> {
    T read(DataInputStream in) throws IOException;
  }

  private static byte[] write(Writer w) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      w.write(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  private static <T> T read(byte[] bytes, Reader<T> r) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      return r.read(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
