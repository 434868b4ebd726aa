package dev.rendezvous.embedded;

import static dev.rendezvous.embedded.TestSystems.inferBody;
import static dev.rendezvous.embedded.TestSystems.runner;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rendezvous.common.Topics;
import dev.rendezvous.broker.EmbeddedKafka;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.common.utils.Utils;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two rendezvous instances in separate JVMs share one problem's partitions; an edit of the schedule file
 * switches both to the same version, and an instance started later begins on the version in force.
 */
class MultiInstanceIT {

  @TempDir Path dir;
  final HttpClient http = HttpClient.newHttpClient();

  /** A child JVM running {@link RendezvousProcess}, with its output lines collected. */
  static final class Instance implements AutoCloseable {
    final Process process;
    final List<String> lines = new CopyOnWriteArrayList<>();

    Instance(String bootstrap, String problem, Path log) throws Exception {
      process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-Xmx256m", "-XX:TieredStopAtLevel=1", "-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"),
          "-cp", System.getProperty("java.class.path"), RendezvousProcess.class.getName(), bootstrap, problem)
          .redirectError(log.toFile()).start();
      Thread reader = new Thread(() -> {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
            StandardCharsets.UTF_8))) {
          for (String line; (line = r.readLine()) != null; ) {
            lines.add(line);
          }
        } catch (Exception e) {
          // process ended
        }
      });
      reader.setDaemon(true);
      reader.start();
    }

    void await(String line) {
      Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
          .failFast(() -> assertThat(process.isAlive()).as("instance exited; output " + lines).isTrue())
          .untilAsserted(() -> assertThat(lines.contains(line))
              .as("'%s' not printed within 60 s; output %s", line, lines).isTrue());
    }

    @Override
    public void close() throws Exception {
      process.destroy();
      if (!process.waitFor(15, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    }
  }

  @Test
  void both_instances_switch_to_the_edited_version_and_a_late_one_starts_on_it() throws Exception {
    String p = "multi";
    try (EmbeddedKafka broker = EmbeddedKafka.start(dir.resolve("broker"), 0);
        EmbeddedSystem system = TestSystems.start(broker, dir, p, false, List.of(runner(p, "bc-mlp"),
            runner(p, "bc-gbt")));
        Instance a = new Instance(broker.bootstrapServers(), p, dir.resolve("a.log"));
        Instance b = new Instance(broker.bootstrapServers(), p, dir.resolve("b.log"))) {
      a.await("ready");
      b.await("ready");
      awaitGroupSharing(broker.bootstrapServers(), p, 2);
      JsonNode rows = TestSystems.reference().get("rows");

      Set<Integer> partitions = answerAll(system, p, "v1-", rows, 1, "bc-mlp");
      assertThat(partitions).as("requests of both instances' partitions").containsExactlyInAnyOrder(0, 1);

      Path file = dir.resolve(p + "-schedules").resolve(p + ".yaml");
      Files.writeString(file, ScheduleHotReloadIT.promoted(p));
      a.await("version 2");
      b.await("version 2");
      assertThat(answerAll(system, p, "v2-", rows, 2, "bc-gbt")).containsExactlyInAnyOrder(0, 1);

      // A late instance reads the log from the beginning and starts on the version in force; with the first
      // two stopped it owns every partition, so every answer below is its own.
      try (Instance late = new Instance(broker.bootstrapServers(), p, dir.resolve("late.log"))) {
        late.await("caught-up 2");
        late.await("ready");
        a.close();
        b.close();
        awaitGroupSharing(broker.bootstrapServers(), p, 1);
        assertThat(answerAll(system, p, "late-", rows, 2, "bc-gbt")).containsExactlyInAnyOrder(0, 1);
      }
    }
  }

  /**
   * Sends 16 requests and checks each is answered by the model under the version; returns the input partitions
   * the requests went to (the proxy keys them by request id, partitioned by Kafka's default murmur2 hash).
   */
  private Set<Integer> answerAll(EmbeddedSystem system, String p, String prefix, JsonNode rows, long version,
      String model) throws Exception {
    Set<Integer> partitions = new HashSet<>();
    for (int i = 0; i < 16; i++) {
      JsonNode body = TestSystems.postWithinFirstTier(http, system.url() + "/v2/models/" + p + "/infer",
          inferBody(prefix + i, rows.get(i), null)).body();
      JsonNode params = body.get("parameters");
      assertThat(params.get("answered_by").asText()).as(params.toString()).isEqualTo(model);
      assertThat(params.get("schedule_version").asLong()).isEqualTo(version);
      String requestId = params.get("request_id").asText();
      partitions.add(Utils.toPositive(Utils.murmur2(requestId.getBytes(StandardCharsets.UTF_8))) % 2);
    }
    return partitions;
  }

  private static void awaitGroupSharing(String bootstrap, String p, int members) throws Exception {
    String group = "rdv." + p + ".rendezvous";
    String input = Topics.of(p).input();
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
        ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(group)).all().get().get(group);
        List<Integer> owned = new ArrayList<>();
        for (MemberDescription m : d.members()) {
          owned.add((int) m.assignment().topicPartitions().stream().filter(tp -> tp.topic().equals(input)).count());
        }
        assertThat(owned.size() == members && owned.stream().mapToInt(Integer::intValue).sum() == 2
            && owned.stream().allMatch(n -> n == 2 / members)).as("group %s assignment %s", group, owned).isTrue();
      });
    }
  }
}
