package dev.rendezvous.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rendezvous.broker.EmbeddedKafka;
import dev.rendezvous.rollout.AppliedSchedule;
import dev.rendezvous.rollout.ScheduleLog;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every component process of a new deployment seeds the schedule log from its file at start, all at once. Each
 * start fences the others; none may give up, and exactly one version is written.
 */
class ScheduleSeedRaceIT {

  @TempDir Path dir;

  @Test
  void eight_seeders_at_once_on_an_empty_log_all_succeed_and_write_one_version() throws Exception {
    String p = "seedrace";
    String yaml = TestSystems.schedule(p);
    int seeders = 8;
    try (EmbeddedKafka broker = EmbeddedKafka.start(dir.resolve("broker"), 0)) {
      ExecutorService pool = Executors.newFixedThreadPool(seeders);
      try {
        CountDownLatch go = new CountDownLatch(1);
        List<Future<ScheduleLog.Published>> results = new ArrayList<>();
        for (int i = 0; i < seeders; i++) {
          String source = "seeder-" + i;
          Callable<ScheduleLog.Published> seed = () -> {
            go.await();
            return ScheduleLog.seed(broker.bootstrapServers(), yaml, source, id -> false);
          };
          results.add(pool.submit(seed));
        }
        go.countDown();
        int written = 0;
        for (Future<ScheduleLog.Published> r : results) {
          ScheduleLog.Published published = r.get(120, TimeUnit.SECONDS);
          assertThat(published.applied().version()).isEqualTo(1);
          written += published.changed() ? 1 : 0;
        }
        assertThat(written).as("exactly one seeder wrote").isEqualTo(1);
        assertThat(ScheduleLog.readAll(broker.bootstrapServers(), p)).extracting(AppliedSchedule::version)
            .containsExactly(1L);
      } finally {
        pool.shutdownNow();
      }
    }
  }
}
