package dev.rendezvous.tools;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import dev.rendezvous.common.InferenceRequest;
import dev.rendezvous.common.Json;
import dev.rendezvous.common.Outcome;
import dev.rendezvous.common.Score;
import dev.rendezvous.common.Tensor;
import dev.rendezvous.decoy.ArchiveLayout;
import dev.rendezvous.decoy.ArchiveReader;
import dev.rendezvous.decoy.ArchivedRecord;
import dev.rendezvous.decoy.Kind;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Joins a problem's archived inputs with every model's scores and the outcomes into one row per request
 * (in CSV, one row per input row of a batched request): the training set a data scientist asks for. Requests are those received in {@code [since, until)}; scores
 * and outcomes come from the decoy's archive of their topics (so an export needs no Kafka and outlives its
 * retention), and replayed scores ({@code rendezvous replay}) appear beside the live ones as
 * {@code <model>@replay}. When a request has several outcomes, the last one recorded wins.
 *
 * <p>Memory grows with the requests in the range (their inputs, scores and outcomes are held to be joined);
 * export a day at a time for very large archives.
 */
public final class TrainingSetExport {

  /** Output formats. */
  public enum Format { CSV, JSONL }

  /** What was written. */
  public record Summary(long rows, long withOutcome, List<String> models, Path file) {}

  private record Row(ArchivedRecord input, InferenceRequest request) {}

  private TrainingSetExport() {}

  public static Summary export(ArchiveLayout layout, String problem, long sinceUs, long untilUs, Path out,
      Format format, PrintStream progressOut) {
    long sinceMs = sinceUs / 1000;
    List<Path> inputs = layout.segments(problem, Kind.INPUT, sinceMs);
    List<Path> scores = layout.segments(problem, Kind.SCORE, sinceMs);
    List<Path> outcomes = layout.segments(problem, Kind.OUTCOME, sinceMs);
    List<Path> replays = ArchiveLayout.files(layout.replayDir(problem), Kind.REPLAY);
    long totalBytes = 0;
    for (List<Path> files : List.of(inputs, scores, outcomes, replays)) {
      for (Path f : files) {
        totalBytes += sizeOf(f);
      }
    }
    ProgressBar bar = progressOut == null ? ProgressBar.silent()
        : new ProgressBar(progressOut, "export " + problem, totalBytes);

    Map<String, Row> rows = new LinkedHashMap<>();
    ArchiveReader.readDistinct(inputs, Kind.INPUT, r -> {
      if (r.receivedAtUs() >= sinceUs && r.receivedAtUs() < untilUs && !r.warmUp()) {
        try {
          rows.put(r.requestId(), new Row(r, r.request()));
        } catch (RuntimeException e) {
          // an input that is not a request (kept by the decoy for debugging) has nothing to train on
        }
      }
    }, bar::advance);
    bar.note(rows.size() + " requests");

    Map<String, Map<String, Score>> scoresById = new HashMap<>();
    TreeSet<String> models = new TreeSet<>();
    for (Kind kind : List.of(Kind.SCORE, Kind.REPLAY)) {
      ArchiveReader.readDistinct(kind == Kind.SCORE ? scores : replays, kind, r -> {
        if (rows.containsKey(r.requestId())) {
          Score s = r.score();
          String model = kind == Kind.REPLAY ? s.modelId() + "@replay" : s.modelId();
          models.add(model);
          Map<String, Score> perModel = scoresById.computeIfAbsent(r.requestId(), k -> new TreeMap<>());
          if (kind == Kind.REPLAY) {
            perModel.put(model, s); // the latest replay of a model wins
          } else {
            perModel.putIfAbsent(model, s); // replicas of one model may both have scored it: keep the first
          }
        }
      }, bar::advance);
    }

    Map<String, Outcome> outcomeById = new HashMap<>();
    ArchiveReader.readDistinct(outcomes, Kind.OUTCOME, r -> {
      if (rows.containsKey(r.requestId())) {
        Outcome o = r.outcome();
        outcomeById.merge(r.requestId(), o, (a, b) -> b.recordedAtUs() >= a.recordedAtUs() ? b : a);
      }
    }, bar::advance);

    List<Row> ordered = new ArrayList<>(rows.values());
    ordered.sort(Comparator.comparingLong((Row r) -> r.input().receivedAtUs()).thenComparing(r -> r.input().requestId()));
    try {
      if (out.toAbsolutePath().getParent() != null) {
        Files.createDirectories(out.toAbsolutePath().getParent());
      }
      try (Writer w = new BufferedWriter(Files.newBufferedWriter(out, StandardCharsets.UTF_8), 1 << 16)) {
        if (format == Format.CSV) {
          writeCsv(w, ordered, models, scoresById, outcomeById);
        } else {
          writeJsonl(w, ordered, scoresById, outcomeById);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + out, e);
    }
    bar.note(ordered.size() + " rows to " + out);
    bar.finish();
    return new Summary(ordered.size(), ordered.stream().filter(r -> outcomeById.containsKey(r.input().requestId()))
        .count(), List.copyOf(models), out);
  }

  private static long sizeOf(Path f) {
    try {
      return Files.size(f);
    } catch (IOException e) {
      return 0;
    }
  }

  /**
   * One CSV row per input row: a batched request of n rows (dimension 0 of its inputs) becomes n lines, each
   * with its own slice of every input and output tensor, numbered by {@code row}; the request's columns
   * (ids, times, errors, outcome) repeat on each. Column layout: per input tensor and per (model, output), the
   * most elements one row held; one column each. A batch therefore never widens the file.
   */
  private static void writeCsv(Writer w, List<Row> rows, TreeSet<String> models,
      Map<String, Map<String, Score>> scores, Map<String, Outcome> outcomes) throws IOException {
    Map<String, Integer> inputWidth = new LinkedHashMap<>();
    Map<String, Integer> outputWidth = new LinkedHashMap<>(); // "<model>.<output>"
    for (Row r : rows) {
      for (Tensor t : r.request().inputs()) {
        inputWidth.merge(t.name(), rowWidth(t), Math::max);
      }
    }
    for (String model : models) {
      for (Row r : rows) {
        Score s = scores.getOrDefault(r.input().requestId(), Map.of()).get(model);
        if (s != null && s.outputs() != null) {
          for (Tensor t : s.outputs()) {
            outputWidth.merge(model + "." + t.name(), rowWidth(t), Math::max);
          }
        }
      }
    }
    List<String> header = new ArrayList<>(List.of("request_id", "row", "client_id", "received_at", "deadline_ms"));
    inputWidth.forEach((name, n) -> header.addAll(columns(name, n)));
    outputWidth.forEach((name, n) -> header.addAll(columns(name, n)));
    models.forEach(m -> header.add(m + ".error"));
    header.add("outcome");
    line(w, header);

    for (Row r : rows) {
      String id = r.input().requestId();
      Map<String, Score> perModel = scores.getOrDefault(id, Map.of());
      Outcome o = outcomes.get(id);
      String outcome = o == null || o.outcome() == null ? "" : o.outcome().isValueNode() ? o.outcome().asText()
          : Json.MAPPER.writeValueAsString(o.outcome());
      long batchRows = r.request().inputs().isEmpty() ? 1 : Math.max(1, r.request().inputs().get(0).rows());
      for (int row = 0; row < batchRows; row++) {
        int at = row;
        List<String> cells = new ArrayList<>(header.size());
        cells.add(id);
        cells.add(Integer.toString(row));
        cells.add(r.input().clientId() == null ? "" : r.input().clientId());
        cells.add(iso(r.input().receivedAtUs()));
        cells.add(number((r.input().deadlineAtUs() - r.input().receivedAtUs()) / 1000.0));
        inputWidth.forEach((name, n) -> cells.addAll(values(find(r.request().inputs(), name), at, n)));
        outputWidth.forEach((column, n) -> {
          int dot = column.lastIndexOf('.');
          Score s = perModel.get(column.substring(0, dot));
          cells.addAll(values(s == null || s.outputs() == null ? null : find(s.outputs(), column.substring(dot + 1)),
              at, n));
        });
        for (String m : models) {
          Score s = perModel.get(m);
          cells.add(s == null || s.error() == null ? "" : s.error());
        }
        cells.add(outcome);
        line(w, cells);
      }
    }
  }

  /** Elements of one row of the tensor: all of them divided by dimension 0 (a scalar is one row of one). */
  private static int rowWidth(Tensor t) {
    long rows = Math.max(1, t.rows());
    return (int) ((t.size() + rows - 1) / rows);
  }

  private static List<String> columns(String name, int n) {
    if (n == 1) {
      return List.of(name);
    }
    List<String> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(name + "_" + i);
    }
    return out;
  }

  private static Tensor find(List<Tensor> tensors, String name) {
    for (Tensor t : tensors) {
      if (t.name().equals(name)) {
        return t;
      }
    }
    return null;
  }

  /** The {@code n} cells of row {@code row} of the tensor; empty cells where it has no such row or element. */
  private static List<String> values(Tensor t, int row, int n) {
    List<String> out = new ArrayList<>(n);
    int width = t == null ? 0 : rowWidth(t);
    boolean hasRow = t != null && row < Math.max(1, t.rows());
    for (int i = 0; i < n; i++) {
      int k = row * width + i;
      out.add(!hasRow || i >= width || k >= t.size() ? "" : value(t, k));
    }
    return out;
  }

  /** FP32 values are printed as floats, so the CSV shows what the model computed, not its double widening. */
  private static String value(Tensor t, int i) {
    if (t.strings() != null) {
      return t.strings().get(i);
    }
    double v = t.data()[i];
    if ("FP32".equals(t.datatype())) {
      return Float.toString((float) v);
    }
    if (t.datatype().contains("INT") || "BOOL".equals(t.datatype())) {
      return Long.toString((long) v);
    }
    return Double.toString(v);
  }

  private static String number(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
  }

  private static String iso(long epochUs) {
    return Instant.ofEpochSecond(epochUs / 1_000_000L, (epochUs % 1_000_000L) * 1000).toString();
  }

  private static void line(Writer w, List<String> cells) throws IOException {
    for (int i = 0; i < cells.size(); i++) {
      if (i > 0) {
        w.write(',');
      }
      String c = cells.get(i);
      if (c.indexOf(',') >= 0 || c.indexOf('"') >= 0 || c.indexOf('\n') >= 0 || c.indexOf('\r') >= 0) {
        w.write('"');
        w.write(c.replace("\"", "\"\""));
        w.write('"');
      } else {
        w.write(c);
      }
    }
    w.write("\r\n"); // RFC 4180
  }

  private static void writeJsonl(Writer w, List<Row> rows, Map<String, Map<String, Score>> scores,
      Map<String, Outcome> outcomes) throws IOException {
    for (Row r : rows) {
      String id = r.input().requestId();
      JsonGenerator g = Json.MAPPER.getFactory().createGenerator(w);
      g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
      g.writeStartObject();
      g.writeStringField("request_id", id);
      if (r.input().clientId() != null) {
        g.writeStringField("client_id", r.input().clientId());
      }
      g.writeNumberField("received_at_us", r.input().receivedAtUs());
      g.writeNumberField("deadline_at_us", r.input().deadlineAtUs());
      g.writeFieldName("inputs");
      g.writeRawValue(new String(rawField(r.input().value(), "inputs"), StandardCharsets.UTF_8));
      g.writeObjectFieldStart("scores");
      for (Map.Entry<String, Score> e : scores.getOrDefault(id, Map.of()).entrySet()) {
        Score s = e.getValue();
        g.writeObjectFieldStart(e.getKey());
        g.writeStringField("model_version", s.modelVersion());
        g.writeStringField("role", s.role().wireName());
        if (s.outputs() != null) {
          g.writeFieldName("outputs");
          Json.MAPPER.writeValue(g, s.outputs());
        }
        if (s.error() != null) {
          g.writeStringField("error", s.error());
        }
        g.writeEndObject();
      }
      g.writeEndObject();
      Outcome o = outcomes.get(id);
      if (o != null) {
        g.writeFieldName("outcome");
        Json.MAPPER.writeValue(g, o.outcome());
        g.writeNumberField("outcome_recorded_at_us", o.recordedAtUs());
      }
      g.writeEndObject();
      g.close();
      w.write('\n');
    }
  }

  /** The inputs as the proxy wrote them (the same JSON values), taken from the archived request bytes. */
  private static byte[] rawField(byte[] request, String field) throws IOException {
    JsonNode node = Json.MAPPER.readTree(request).get(field);
    return Json.MAPPER.writeValueAsBytes(node);
  }
}
