package dev.rendezvous.tools;

import dev.rendezvous.common.Clock;
import dev.rendezvous.common.InferenceRequest;
import dev.rendezvous.common.Json;
import dev.rendezvous.common.Score;
import dev.rendezvous.common.Tensor;
import dev.rendezvous.decoy.ArchiveLayout;
import dev.rendezvous.decoy.ArchiveReader;
import dev.rendezvous.decoy.ArchivedRecord;
import dev.rendezvous.decoy.Kind;
import dev.rendezvous.runner.RunnerConfig;
import dev.rendezvous.runner.ScoringModel;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;

/**
 * Scores a problem's archived inputs offline with a candidate model, through the same {@link ScoringModel} the
 * live runners use (ONNX Runtime or DJL, as the candidate's configuration says, on its device), so a new model is judged on exactly the traffic production saw before it runs live.
 * The scores go to one file in {@code <archive>/<problem>/replay/}, in the archive's line format (kind
 * {@code replay}, runner id {@code replay}), where {@code rendezvous export} finds them and puts them beside
 * the recorded scores as {@code <model>@replay}. Nothing is written to Kafka.
 */
public final class Replay {

  /** What was replayed. */
  public record Summary(long scored, long errors, Path file) {}

  private Replay() {}

  public static Summary run(ArchiveLayout layout, String problem, RunnerConfig candidate, long sinceUs, long untilUs,
      Clock clock, PrintStream progressOut) throws Exception {
    List<Path> inputs = layout.segments(problem, Kind.INPUT, sinceUs / 1000);
    long total = 0;
    for (Path f : inputs) {
      total += Files.size(f);
    }
    ProgressBar bar = progressOut == null ? ProgressBar.silent()
        : new ProgressBar(progressOut, "replay " + candidate.modelId(), total);
    Path dir = layout.replayDir(problem);
    Files.createDirectories(dir);
    Path file = dir.resolve(ArchiveLayout.segmentName(Kind.REPLAY, clock.nowMicros() / 1000,
        safe(candidate.modelId()) + "-v" + safe(candidate.modelVersion())));
    long[] counts = new long[2];
    try (ScoringModel model = ScoringModel.open(candidate);
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      GZIPOutputStream out = new GZIPOutputStream(new BufferedOutputStream(Channels.newOutputStream(channel), 1 << 16));
      List<InferenceRequest> batch = new ArrayList<>(candidate.batchSize());
      ArchiveReader.readDistinct(inputs, Kind.INPUT, r -> {
        if (r.receivedAtUs() < sinceUs || r.receivedAtUs() >= untilUs || r.warmUp()) {
          return;
        }
        InferenceRequest request;
        try {
          request = r.request();
        } catch (RuntimeException e) {
          return;
        }
        String incompatible = model.incompatibility(request);
        if (incompatible != null) {
          write(out, candidate, model.device(), request, null, incompatible, clock, 0, counts);
          return;
        }
        batch.add(request);
        if (batch.size() == candidate.batchSize()) {
          score(model, batch, out, candidate, clock, counts);
        }
      }, bar::advance);
      score(model, batch, out, candidate, clock, counts);
      out.finish();
      out.flush();
      channel.force(false);
      out.close();
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
    bar.note(counts[0] + " scored, " + counts[1] + " errors, to " + file);
    bar.finish();
    return new Summary(counts[0], counts[1], file);
  }

  private static void score(ScoringModel model, List<InferenceRequest> batch, OutputStream out, RunnerConfig c,
      Clock clock, long[] counts) {
    if (batch.isEmpty()) {
      return;
    }
    long start = System.nanoTime();
    List<List<Tensor>> outputs = null;
    String error = null;
    try {
      outputs = model.score(batch);
    } catch (Exception e) {
      error = e.getClass().getSimpleName() + ": " + e.getMessage();
    }
    long inferenceUs = (System.nanoTime() - start) / 1000;
    for (int i = 0; i < batch.size(); i++) {
      write(out, c, model.device(), batch.get(i), outputs == null ? null : outputs.get(i), error, clock, inferenceUs, counts);
    }
    batch.clear();
  }

  private static void write(OutputStream out, RunnerConfig c, String device, InferenceRequest r, List<Tensor> outputs, String error,
      Clock clock, long inferenceUs, long[] counts) {
    long now = clock.nowMicros();
    Score s = new Score(r.requestId(), c.modelId(), c.modelVersion(), c.role(), outputs, error, "replay", device,
        r.receivedAtUs(), now, inferenceUs);
    ArchivedRecord line = new ArchivedRecord(Kind.REPLAY, r.requestId(), null, 0, 0, false, "", -1, -1, now / 1000,
        now, Json.encode(s));
    try {
      out.write(line.toLine());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    counts[error == null ? 0 : 1]++;
  }

  private static String safe(String s) {
    return s.replaceAll("[^A-Za-z0-9._]", "_");
  }
}
