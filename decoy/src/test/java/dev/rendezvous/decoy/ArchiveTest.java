package dev.rendezvous.decoy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rendezvous.common.Clock;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The archive's file format, its crash behaviour and its housekeeping, on files only (no Kafka). */
class ArchiveTest {

  @TempDir Path dir;
  final AtomicLong nowUs = new AtomicLong(Instant.parse("2026-03-01T10:15:00Z").toEpochMilli() * 1000);
  final Clock clock = nowUs::get;

  private static ArchivedRecord input(String id, long offset, String value) {
    return new ArchivedRecord(Kind.INPUT, id, "c-" + id, 1_000, 51_000, false, "rdv.p.input", 0, offset, 7, 9,
        value.getBytes(StandardCharsets.UTF_8));
  }

  private SegmentWriter writer(String id, long maxBytes) {
    return new SegmentWriter(new ArchiveLayout(dir), "p", Kind.INPUT, id, maxBytes, 3_600_000L, clock);
  }

  @Test
  void aLineKeepsTheValueVerbatimAndReadsBackWithItsFields() {
    String value = "{\"requestId\":\"r1\",\"inputs\":[{\"data\":[0.1,1.0E-7,3.4028234663852886E38]}],\"x\":\"\\u00e9\"}";
    ArchivedRecord r = input("r1", 41, value);
    byte[] line = r.toLine();
    assertThat(new String(line, StandardCharsets.UTF_8)).endsWith(",\"input\":" + value + "}\n");
    ArchivedRecord back = ArchivedRecord.parse(Kind.INPUT, line, line.length - 1);
    assertThat(back.value()).isEqualTo(r.value());
    assertThat(back.requestId()).isEqualTo("r1");
    assertThat(back.clientId()).isEqualTo("c-r1");
    assertThat(back.offset()).isEqualTo(41);
    assertThat(back.receivedAtUs()).isEqualTo(1_000);
    assertThat(back.deadlineAtUs()).isEqualTo(51_000);
  }

  @Test
  void aValueThatIsNotOneLineOfJsonIsKeptAsBase64() {
    ArchivedRecord r = input("r2", 1, "{\"pretty\":\n 1}");
    byte[] line = r.toLine();
    assertThat(new String(line, StandardCharsets.UTF_8)).contains("\"input_base64\":").endsWith("}\n");
    assertThat(ArchivedRecord.parse(Kind.INPUT, line, line.length - 1).value()).isEqualTo(r.value());
  }

  @Test
  void linesAreInTheHourDirectoryAndATornLastMemberYieldsOnlyTheCompleteLinesBeforeTheTear() throws IOException {
    SegmentWriter w = writer("w1", 1L << 20);
    w.append(input("a", 0, "{\"n\":1}").toLine());
    w.append(input("b", 1, "{\"n\":2}").toLine());
    w.sync();
    Path file = w.file();
    assertThat(file.getParent()).isEqualTo(dir.resolve("p/2026-03-01/10"));
    w.append(input("c", 2, "{\"n\":3}").toLine());
    w.sync();
    long synced = Files.size(file);
    // A crash while the next member is being written leaves half of it on disk.
    for (int i = 0; i < 200; i++) {
      w.append(input("d" + i, 3 + i, "{\"n\":" + i + "}").toLine());
    }
    w.sync();
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.truncate(synced + (Files.size(file) - synced) / 2);
    }

    List<String> read = ArchiveReader.readDistinct(List.of(file), Kind.INPUT).stream()
        .map(ArchivedRecord::requestId).toList();
    assertThat(read.subList(0, 3)).containsExactly("a", "b", "c");
    // Whatever came before the tear is whole (those records were not committed and come again anyway).
    assertThat(read.size()).isLessThan(3 + 200);
    for (int i = 3; i < read.size(); i++) {
      assertThat(read.get(i)).isEqualTo("d" + (i - 3));
    }
  }

  @Test
  void recordsWrittenAgainAfterACrashAreReadOnce() throws IOException {
    // First life: a, b, c synced but the process died before committing their offsets.
    try (SegmentWriter w = writer("life1", 1L << 20)) {
      for (String id : List.of("a", "b", "c")) {
        w.append(input(id, id.charAt(0), "{\"id\":\"" + id + "\"}").toLine());
      }
    }
    // Second life: Kafka delivers b and c again, then d.
    nowUs.addAndGet(1_000);
    try (SegmentWriter w = writer("life2", 1L << 20)) {
      for (String id : List.of("b", "c", "d")) {
        w.append(input(id, id.charAt(0), "{\"id\":\"" + id + "\"}").toLine());
      }
    }
    List<Path> files = new ArchiveLayout(dir).segments("p", Kind.INPUT, 0);
    assertThat(files).hasSize(2);
    List<ArchivedRecord> all = new ArrayList<>();
    ArchiveReader.readAll(files, Kind.INPUT, all::add, n -> {});
    assertThat(all).hasSize(6);
    assertThat(ArchiveReader.readDistinct(files, Kind.INPUT)).extracting(ArchivedRecord::requestId)
        .containsExactly("a", "b", "c", "d");
  }

  @Test
  void segmentsRotateBySizeAndAtTheEndOfTheHour() throws IOException {
    SegmentWriter w = writer("rot", 200);
    for (int i = 0; i < 5; i++) {
      StringBuilder noise = new StringBuilder();
      java.util.Random random = new java.util.Random(i);
      for (int j = 0; j < 400; j++) {
        noise.append(Integer.toHexString(random.nextInt(16)));
      }
      w.append(input("s" + i, i, "{\"pad\":\"" + noise + "\"}").toLine());
      w.sync(); // each member is over 200 bytes: a new segment after each
      nowUs.addAndGet(1_000);
    }
    nowUs.set(Instant.parse("2026-03-01T11:00:00.5Z").toEpochMilli() * 1000);
    w.append(input("next-hour", 9, "{}").toLine());
    w.close();
    ArchiveLayout layout = new ArchiveLayout(dir);
    assertThat(ArchiveLayout.files(dir.resolve("p/2026-03-01/10"), Kind.INPUT)).hasSize(5);
    assertThat(ArchiveLayout.files(dir.resolve("p/2026-03-01/11"), Kind.INPUT)).hasSize(1);
    assertThat(ArchiveReader.readDistinct(layout.segments("p", Kind.INPUT, 0), Kind.INPUT)).hasSize(6);
  }

  @Test
  void retentionDeletesWholeHoursThatEndedBeforeTheCutoff() throws IOException {
    for (String hour : List.of("2026-02-28T23:10:00Z", "2026-03-01T08:10:00Z", "2026-03-01T09:10:00Z")) {
      nowUs.set(Instant.parse(hour).toEpochMilli() * 1000);
      try (SegmentWriter w = writer("ret", 1L << 20)) {
        w.append(input(hour, 0, "{}").toLine());
      }
    }
    long now = Instant.parse("2026-03-01T10:15:00Z").toEpochMilli();
    ArchiveLayout layout = new ArchiveLayout(dir);
    // Keep 1 hour: 08:00-09:00 ended 1 h 15 min ago and goes (with the day before); 09:00-10:00 stays.
    assertThat(Retention.sweep(layout, "p", now, 1)).isEqualTo(2);
    assertThat(layout.hourDirs("p")).containsExactly(dir.resolve("p/2026-03-01/09"));
    assertThat(Files.exists(dir.resolve("p/2026-02-28"))).isFalse();
    assertThat(Retention.sweep(layout, "p", now, 0)).isZero();
  }
}
