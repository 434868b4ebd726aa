package dev.rendezvous.process;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One component started as its own JVM on the test classpath, as {@code bin/rendezvous} would start it. Its
 * standard error goes to a log file; its standard output is watched for the {@code READY} line.
 */
final class ComponentProcess implements AutoCloseable {

  final String name;
  final Process process;
  private final CompletableFuture<String> ready = new CompletableFuture<>();
  private final Path log;

  private ComponentProcess(String name, Process process, Path log) {
    this.name = name;
    this.process = process;
    this.log = log;
    Thread reader = new Thread(() -> {
      try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
          StandardCharsets.UTF_8))) {
        for (String line; (line = out.readLine()) != null; ) {
          if (line.startsWith("READY ")) {
            ready.complete(line.substring(6));
          }
        }
      } catch (IOException e) {
        // the process is gone; ready() reports it
      }
      ready.completeExceptionally(new IllegalStateException(name + " exited before it was ready; see " + log));
    }, "stdout-" + name);
    reader.setDaemon(true);
    reader.start();
  }

  /** Starts {@code dev.rendezvous.Main <args>} in a new JVM with a small heap. */
  static ComponentProcess start(String name, Path logDir, String heap, String... args) throws IOException {
    return start(name, logDir, java.util.Map.of(), heap, args);
  }

  /** The same with extra environment variables, the way containers are configured. */
  static ComponentProcess start(String name, Path logDir, java.util.Map<String, String> env, String heap,
      String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx" + heap, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"),
        "-cp", System.getProperty("java.class.path"), "dev.rendezvous.Main"));
    command.addAll(List.of(args));
    return start(name, logDir, env, command);
  }

  /** Starts any command that follows the same convention (a container running the image, for one). */
  static ComponentProcess start(String name, Path logDir, List<String> command) throws IOException {
    return start(name, logDir, java.util.Map.of(), command);
  }

  static ComponentProcess start(String name, Path logDir, java.util.Map<String, String> env, List<String> command)
      throws IOException {
    Path log = logDir.resolve(name + ".log");
    ProcessBuilder builder = new ProcessBuilder(command).redirectError(log.toFile());
    builder.environment().putAll(env);
    Process p = builder.start();
    return new ComponentProcess(name, p, log);
  }

  /** Waits for the READY line and returns what follows it. */
  String awaitReady(long seconds) throws Exception {
    return ready.get(seconds, TimeUnit.SECONDS);
  }

  /** Kills the process at once (SIGKILL), as a crashed node or an OOM kill would. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }
}
