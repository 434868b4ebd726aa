package dev.rendezvous.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.rendezvous.common.Tensor;
import dev.rendezvous.common.TensorSpec;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Seeded mutation fuzzing of the request parser, JSON and binary: whatever the bytes, a request is either taken
 * in whole, matching the signature, or refused with a 4xx {@link BadRequestException} and a message; never
 * another exception (which the proxy would answer with a 500), never a tensor that breaks the signature.
 */
class InferRequestFuzzTest {

  static final List<TensorSpec> INPUTS = List.of(
      new TensorSpec("amount", "FP32", new long[] {-1, 1}),
      new TensorSpec("merchant", "INT64", new long[] {-1, 2}));
  static final List<TensorSpec> OUTPUTS = List.of(new TensorSpec("probability", "FP32", new long[] {-1, 1}));

  static final String JSON = """
      {"id": "r1", "parameters": {"deadline_ms": 20.5},
       "inputs": [{"name": "merchant", "datatype": "INT64", "shape": [2, 2], "data": [[1, 2], [3, 4]]},
                  {"name": "amount", "datatype": "FP32", "shape": [2, 1], "data": [9.5, 3]}],
       "outputs": [{"name": "probability"}]}""";

  static final String[] TOKENS = {"[", "]", "{", "}", ",", ":", "\"", "\\", "-", "1e999", "-0", "9223372036854775808",
      "18446744073709551617", "0.1", "NaN", "Infinity", "null", "true", "\"FP16\"", "\"BYTES\"", "\"binary_data_size\"",
      "\"shape\"", "\"data\"", "\"inputs\"", "\"name\"", "[[[[[[[[[[[[[[[[[[[[", "\u0000", "\uFFFF", "é",
      " ", "\"deadline_ms\": 1e16", "\"datatype\": \"BOOL\""};

  /** A valid binary request: JSON header, then the two tensors' little-endian bytes. */
  static byte[][] binary() {
    String header = """
        {"inputs": [{"name": "amount", "datatype": "FP32", "shape": [2, 1], "parameters": {"binary_data_size": 8}},
                    {"name": "merchant", "datatype": "INT64", "shape": [2, 2], "parameters": {"binary_data_size": 32}}]}""";
    ByteBuffer data = ByteBuffer.allocate(40).order(ByteOrder.LITTLE_ENDIAN);
    data.putFloat(9.5f).putFloat(3f).putLong(1).putLong(2).putLong(3).putLong(4);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(header.getBytes(StandardCharsets.UTF_8));
    out.writeBytes(data.array());
    return new byte[][] {out.toByteArray(), Integer.toString(header.getBytes(StandardCharsets.UTF_8).length)
        .getBytes(StandardCharsets.US_ASCII)};
  }

  static byte[] mutate(byte[] body, Random r) {
    byte[] b = body;
    int edits = 1 + r.nextInt(4);
    for (int e = 0; e < edits; e++) {
      int at = b.length == 0 ? 0 : r.nextInt(b.length);
      switch (r.nextInt(6)) {
        case 0 -> { // flip a byte
          if (b.length > 0) {
            b = b.clone();
            b[at] = (byte) r.nextInt(256);
          }
        }
        case 1 -> b = splice(b, at, at + Math.min(b.length - at, r.nextInt(8)), new byte[0]); // delete
        case 2 -> b = splice(b, at, at, TOKENS[r.nextInt(TOKENS.length)].getBytes(StandardCharsets.UTF_8));
        case 3 -> b = splice(b, at, Math.min(b.length, at + 1 + r.nextInt(3)),
            TOKENS[r.nextInt(TOKENS.length)].getBytes(StandardCharsets.UTF_8)); // replace
        case 4 -> b = Arrays.copyOf(b, at); // truncate
        default -> { // repeat a span
          int end = Math.min(b.length, at + 1 + r.nextInt(16));
          b = splice(b, end, end, Arrays.copyOfRange(b, at, end));
        }
      }
    }
    return b;
  }

  static byte[] splice(byte[] b, int from, int to, byte[] insert) {
    byte[] out = new byte[b.length - (to - from) + insert.length];
    System.arraycopy(b, 0, out, 0, from);
    System.arraycopy(insert, 0, out, from, insert.length);
    System.arraycopy(b, to, out, from + insert.length, b.length - to);
    return out;
  }

  @Test
  void fifty_thousand_mutated_requests_are_each_taken_whole_or_refused_with_a_4xx() {
    Random r = new Random(20261206);
    byte[] json = JSON.getBytes(StandardCharsets.UTF_8);
    byte[][] bin = binary();
    TreeMap<String, Integer> outcomes = new TreeMap<>();
    int cases = 50_000;
    for (int i = 0; i < cases; i++) {
      boolean binary = i % 3 == 2;
      byte[] body = mutate(binary ? bin[0] : json, r);
      String headerLength = null;
      if (binary) {
        headerLength = r.nextInt(5) == 0 ? new String(mutate(bin[1], r), StandardCharsets.ISO_8859_1)
            : new String(bin[1], StandardCharsets.US_ASCII);
      }
      try {
        InferRequestParser.Parsed p = InferRequestParser.parse(body, headerLength, INPUTS, OUTPUTS);
        assertThat(p.inputs()).extracting(Tensor::name).containsExactly("amount", "merchant");
        for (int t = 0; t < 2; t++) {
          Tensor tensor = p.inputs().get(t);
          assertThat(tensor.shape()).hasSize(2);
          assertThat(tensor.shape()[0]).isEqualTo(p.rows());
          assertThat(tensor.shape()[1]).isEqualTo(INPUTS.get(t).shape()[1]);
          assertThat((long) tensor.data().length).isEqualTo(tensor.shape()[0] * tensor.shape()[1]);
        }
        assertThat(p.rows()).isPositive();
        if (p.deadlineMs() != null) {
          assertThat(p.deadlineMs()).isPositive().isLessThanOrEqualTo(InferRequestParser.MAX_DEADLINE_MS);
        }
        outcomes.merge("accepted", 1, Integer::sum);
      } catch (BadRequestException e) {
        assertThat(e.status()).as(e.getMessage()).isBetween(400, 499);
        assertThat(e.getMessage()).isNotBlank();
        outcomes.merge("refused " + e.status(), 1, Integer::sum);
      } catch (RuntimeException | StackOverflowError e) {
        fail("case " + i + " (" + (binary ? "binary" : "JSON") + "): " + e + " for body "
            + new String(body, StandardCharsets.ISO_8859_1), e);
      }
    }
    System.out.println("fuzzed request parser: " + cases + " cases, " + outcomes);
    assertThat(outcomes.getOrDefault("accepted", 0)).as("some mutations stay valid").isPositive();
    assertThat(outcomes.keySet()).as("and most are refused").anyMatch(k -> k.startsWith("refused 400"));
  }
}
