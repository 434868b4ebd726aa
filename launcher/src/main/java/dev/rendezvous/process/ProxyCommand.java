package dev.rendezvous.process;

import dev.rendezvous.auth.AccessControl;
import dev.rendezvous.proxy.Proxy;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** The HTTP proxy (Open Inference Protocol) alone, in front of a Kafka cluster. */
@Command(name = "proxy", mixinStandardHelpOptions = true,
    description = "Run the HTTP proxy for every problem in the schedules directory against a Kafka cluster.")
public final class ProxyCommand implements Callable<Integer> {

  @Mixin KafkaOptions kafka;
  @Mixin SchedulesOptions schedules;
  @Mixin ProxyOptions proxy;
  @Mixin AdmissionOptions admission;

  @Override
  public Integer call() throws Exception {
    AccessControl access = proxy.access(Path.of("data", "admin-token"));
    return Processes.run(kafka, null, a -> {
      a.followSchedules(schedules.dir(), List.of(), false);
      Proxy p = a.proxy(proxy.toConfig(a.bootstrapServers()), admission.toConfig(), access);
      return "proxy " + (access.tls().isPresent() ? "https" : "http") + "://" + proxy.host() + ":" + p.actualPort();
    });
  }
}
