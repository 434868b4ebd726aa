package dev.rendezvous.bench;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rendezvous.common.Json;
import io.vertx.core.http.HttpMethod;
import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.DataFormatException;
import org.HdrHistogram.Histogram;

/**
 * The suite's generators in a JVM of their own ({@link Generators}): a child {@code java} process on this
 * JVM's class path, started once and kept for the whole suite so that its compiled code stays warm. Each call
 * sends one line of JSON (the settings) to the child's standard input; the child runs it on a thread of its own
 * (a /metrics flood runs beside a scoring load) and answers with one line on its standard output, the outcome
 * with its latency histogram compressed. The child's log goes to this process's standard error; it exits when
 * its input closes.
 */
public final class GeneratorProcess implements Generators {

  /** Heap of the child: histograms and request bodies, nothing more. */
  static final String CHILD_HEAP = "-Xmx1g";
  /** How much longer than its own duration a call may take before the child counts as stuck. */
  static final long GRACE_MS = 90_000;

  static final ObjectMapper MAPPER = Json.MAPPER.copy().registerModule(new SimpleModule("bench-wire")
      .addSerializer(Histogram.class, new JsonSerializer<>() {
        @Override
        public void serialize(Histogram h, JsonGenerator g, SerializerProvider p) throws IOException {
          ByteBuffer buffer = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
          int length = h.encodeIntoCompressedByteBuffer(buffer);
          g.writeString(Base64.getEncoder().encodeToString(Arrays.copyOf(buffer.array(), length)));
        }
      })
      .addDeserializer(Histogram.class, new JsonDeserializer<>() {
        @Override
        public Histogram deserialize(JsonParser p, DeserializationContext c) throws IOException {
          try {
            return Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(Base64.getDecoder().decode(p.getText())),
                0);
          } catch (DataFormatException e) {
            throw new IOException("a latency histogram that does not decode: " + e.getMessage(), e);
          }
        }
      })
      .addSerializer(HttpMethod.class, new JsonSerializer<>() {
        @Override
        public void serialize(HttpMethod m, JsonGenerator g, SerializerProvider p) throws IOException {
          g.writeString(m.name());
        }
      })
      .addDeserializer(HttpMethod.class, new JsonDeserializer<>() {
        @Override
        public HttpMethod deserialize(JsonParser p, DeserializationContext c) throws IOException {
          return HttpMethod.valueOf(p.getText());
        }
      }));

  private final Process process;
  private final Writer toChild;
  private final Map<Long, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong();
  private volatile String ended;

  private GeneratorProcess(Process process) {
    this.process = process;
    this.toChild = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    Thread reader = new Thread(this::readReplies, "bench-generator-replies");
    reader.setDaemon(true);
    reader.start();
  }

  /** Starts the child JVM. */
  public static GeneratorProcess start() throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command = new ArrayList<>(List.of(java, CHILD_HEAP, "-cp", System.getProperty("java.class.path"),
        GeneratorProcess.class.getName()));
    Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    return new GeneratorProcess(p);
  }

  @Override
  public LoadGenerator.Outcome load(LoadGenerator.Settings s) throws Exception {
    return MAPPER.treeToValue(call("load", MAPPER.valueToTree(s), s.durationMs()), LoadGenerator.Outcome.class);
  }

  @Override
  public FloodGenerator.Outcome flood(FloodGenerator.Settings s) throws Exception {
    return MAPPER.treeToValue(call("flood", MAPPER.valueToTree(s), s.durationMs()), FloodGenerator.Outcome.class);
  }

  @Override
  public boolean separateProcess() {
    return true;
  }

  /** The child's process id. */
  public long pid() {
    return process.pid();
  }

  private JsonNode call(String kind, JsonNode settings, long durationMs) throws Exception {
    long id = ids.incrementAndGet();
    CompletableFuture<JsonNode> reply = new CompletableFuture<>();
    pending.put(id, reply);
    if (ended != null) {
      pending.remove(id);
      throw new IllegalStateException("the generator process has ended: " + ended);
    }
    ObjectNode request = MAPPER.createObjectNode().put("id", id).put("kind", kind);
    request.set("settings", settings);
    synchronized (toChild) {
      toChild.write(MAPPER.writeValueAsString(request));
      toChild.write('\n');
      toChild.flush();
    }
    JsonNode r;
    try {
      r = reply.get(durationMs + GRACE_MS, TimeUnit.MILLISECONDS);
    } finally {
      pending.remove(id);
    }
    if (r.hasNonNull("error")) {
      throw new IllegalStateException("the generator process failed a " + kind + " run: " + r.get("error").asText());
    }
    return r.get("outcome");
  }

  private void readReplies() {
    try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
        StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        JsonNode r = MAPPER.readTree(line);
        CompletableFuture<JsonNode> f = pending.get(r.path("id").asLong());
        if (f != null) {
          f.complete(r);
        }
      }
      ended = "its output closed";
    } catch (IOException e) {
      ended = "its output failed: " + e.getMessage();
    }
    pending.values().forEach(f -> f.completeExceptionally(new IllegalStateException(
        "the generator process has ended: " + ended)));
  }

  /** Closes the child's input, which ends it; kills it when it has not ended within ten seconds. */
  @Override
  public void close() throws Exception {
    try {
      toChild.close();
    } catch (IOException e) {
      // Already gone.
    }
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  /** The child: answers each line of its input with one line of output, runs side by side. */
  public static void main(String[] args) throws Exception {
    PrintStream replies = new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
    System.setOut(System.err); // nothing but replies on the protocol's stream, whatever logs to standard output
    ExecutorService runs = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "bench-generator-run");
      t.setDaemon(true);
      return t;
    });
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      if (line.isBlank()) {
        continue;
      }
      JsonNode request = MAPPER.readTree(line);
      runs.execute(() -> {
        ObjectNode reply = MAPPER.createObjectNode().put("id", request.path("id").asLong());
        try {
          String kind = request.path("kind").asText();
          Object outcome = switch (kind) {
            case "load" -> LoadGenerator.run(MAPPER.treeToValue(request.get("settings"), LoadGenerator.Settings.class));
            case "flood" -> FloodGenerator.run(MAPPER.treeToValue(request.get("settings"),
                FloodGenerator.Settings.class));
            default -> throw new IllegalArgumentException("unknown kind of run '" + kind + "'");
          };
          reply.set("outcome", MAPPER.valueToTree(outcome));
        } catch (Throwable e) {
          reply.put("error", e.toString());
        }
        String text;
        try {
          text = MAPPER.writeValueAsString(reply);
        } catch (IOException e) {
          text = "{\"id\":" + request.path("id").asLong() + ",\"error\":\"the outcome did not encode\"}";
        }
        synchronized (replies) {
          replies.println(text);
          replies.flush();
        }
      });
    }
    runs.shutdown();
    runs.awaitTermination(1, TimeUnit.MINUTES);
    System.exit(0);
  }
}
