package dev.rendezvous.embedded;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Debian's {@code chromium}, headless, with a fresh profile per run and nothing that reaches the network
 * on its own. A virtual time budget lets the page run its scripts and fetches before the DOM is dumped or
 * the screenshot taken.
 */
final class Chromium {

  private final Path binary;
  private final Path workDir;

  private Chromium(Path binary, Path workDir) {
    this.binary = binary;
    this.workDir = workDir;
  }

  /** Finds {@code chromium} on the PATH; fails with the command that installs it. */
  static Chromium find(Path workDir) {
    return Arrays.stream(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
        .flatMap(d -> java.util.stream.Stream.of(Path.of(d, "chromium"), Path.of(d, "chromium-browser")))
        .filter(Files::isExecutable).findFirst()
        .map(b -> new Chromium(b, workDir))
        .orElseThrow(() -> new AssertionError("chromium is needed to check the /ui page and was not found on the "
            + "PATH; install it with: apt-get install -y chromium"));
  }

  /** The page's DOM after {@code budgetMs} of virtual time. */
  String dumpDom(String url, int budgetMs) throws Exception {
    return new String(run(List.of("--dump-dom", "--virtual-time-budget=" + budgetMs, url)), StandardCharsets.UTF_8);
  }

  /** Saves a PNG of the page after {@code budgetMs} of virtual time. */
  void screenshot(String url, int budgetMs, Path png, int width, int height) throws Exception {
    Files.createDirectories(png.toAbsolutePath().getParent());
    run(List.of("--screenshot=" + png.toAbsolutePath(), "--window-size=" + width + "," + height,
        "--hide-scrollbars", "--virtual-time-budget=" + budgetMs, url));
    if (!Files.exists(png) || Files.size(png) == 0) {
      throw new AssertionError("chromium wrote no screenshot to " + png);
    }
  }

  private byte[] run(List<String> args) throws Exception {
    Path profile = Files.createTempDirectory(Files.createDirectories(workDir), "chromium-profile");
    List<String> cmd = new ArrayList<>(List.of(binary.toString(), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--user-data-dir=" + profile));
    cmd.addAll(args);
    Path err = workDir.resolve("chromium-stderr.log");
    Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("chromium did not finish within 120 s");
    }
    if (p.exitValue() != 0) {
      throw new AssertionError("chromium exited with " + p.exitValue() + ": " + Files.readString(err));
    }
    return out;
  }
}
