package dev.rendezvous.tools;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rendezvous.common.Clock;
import dev.rendezvous.common.InferenceRequest;
import dev.rendezvous.common.Json;
import dev.rendezvous.common.Role;
import dev.rendezvous.common.Score;
import dev.rendezvous.common.Tensor;
import dev.rendezvous.decoy.ArchiveLayout;
import dev.rendezvous.decoy.ArchivedRecord;
import dev.rendezvous.decoy.Kind;
import dev.rendezvous.decoy.SegmentWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CSV export of batched requests: one line per input row, never one column per element of the batch. */
class TrainingSetExportTest {

  @TempDir Path dir;
  final long t0 = Instant.parse("2026-03-01T10:15:00Z").toEpochMilli() * 1000;
  final Clock clock = () -> t0;

  private void archive(SegmentWriter w, Kind kind, String id, long receivedAt, byte[] value, long offset)
      throws Exception {
    w.append(new ArchivedRecord(kind, id, kind == Kind.INPUT ? "client-" + id : null, receivedAt, receivedAt + 50_000,
        false, "rdv.p." + kind.name().toLowerCase(), 0, offset, receivedAt / 1000, receivedAt, value).toLine());
  }

  @Test
  void aBatchOfThreeRowsBecomesThreeLinesWithTheirOwnInputsAndScores() throws Exception {
    ArchiveLayout layout = new ArchiveLayout(dir);
    SegmentWriter inputs = new SegmentWriter(layout, "p", Kind.INPUT, "w", 1 << 20, 3_600_000L, clock);
    SegmentWriter scores = new SegmentWriter(layout, "p", Kind.SCORE, "w", 1 << 20, 3_600_000L, clock);
    // A single request of one row, then a batch of three rows of two features.
    archive(inputs, Kind.INPUT, "single", t0, Json.encode(new InferenceRequest("single", "client-single", "p", "r:0",
        t0, t0 + 50_000, List.of(new Tensor("x", "FP32", new long[] {1, 2}, new double[] {1, 2})))), 0);
    archive(inputs, Kind.INPUT, "batch", t0 + 1, Json.encode(new InferenceRequest("batch", "client-batch", "p", "r:0",
        t0 + 1, t0 + 50_001, List.of(new Tensor("x", "FP32", new long[] {3, 2}, new double[] {10, 11, 20, 21, 30, 31})))),
        1);
    archive(scores, Kind.SCORE, "single", t0, Json.encode(new Score("single", "m", "1", Role.SERVING,
        List.of(new Tensor("p", "FP32", new long[] {1, 1}, new double[] {0.5})), null, "r", "cpu", t0, t0, 1)), 0);
    archive(scores, Kind.SCORE, "batch", t0 + 1, Json.encode(new Score("batch", "m", "1", Role.SERVING,
        List.of(new Tensor("p", "FP32", new long[] {3, 1}, new double[] {0.25, 0.75, 1})), null, "r", "cpu", t0, t0, 1)),
        1);
    inputs.close();
    scores.close();

    Path csv = dir.resolve("out.csv");
    TrainingSetExport.Summary s = TrainingSetExport.export(layout, "p", 0, Long.MAX_VALUE, csv,
        TrainingSetExport.Format.CSV, null);
    assertThat(s.rows()).isEqualTo(2);
    List<String> lines = Files.readAllLines(csv);
    assertThat(lines.get(0)).isEqualTo("request_id,row,client_id,received_at,deadline_ms,x_0,x_1,m.p,m.error,outcome");
    assertThat(lines).hasSize(1 + 1 + 3);
    assertThat(lines.get(1)).startsWith("single,0,client-single,").endsWith(",1.0,2.0,0.5,,");
    assertThat(lines.get(2)).startsWith("batch,0,client-batch,").endsWith(",10.0,11.0,0.25,,");
    assertThat(lines.get(3)).startsWith("batch,1,client-batch,").endsWith(",20.0,21.0,0.75,,");
    assertThat(lines.get(4)).startsWith("batch,2,client-batch,").endsWith(",30.0,31.0,1.0,,");
  }
}
