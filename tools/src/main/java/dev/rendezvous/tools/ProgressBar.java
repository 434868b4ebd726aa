package dev.rendezvous.tools;

import java.io.PrintStream;

/** A one-line progress bar on a terminal stream, redrawn at most ten times a second. Not thread-safe. */
final class ProgressBar {

  private static final int WIDTH = 30;
  private final PrintStream out;
  private final String label;
  private final long total;
  private long done;
  private long lastDrawNs;
  private String note = "";

  ProgressBar(PrintStream out, String label, long total) {
    this.out = out;
    this.label = label;
    this.total = Math.max(1, total);
  }

  static ProgressBar silent() {
    return new ProgressBar(null, "", 1);
  }

  void advance(long n) {
    done += n;
    long now = System.nanoTime();
    if (now - lastDrawNs > 100_000_000L) {
      lastDrawNs = now;
      draw();
    }
  }

  void note(String text) {
    note = text;
  }

  void finish() {
    done = total;
    draw();
    if (out != null) {
      out.println();
    }
  }

  private void draw() {
    if (out == null) {
      return;
    }
    double f = Math.min(1.0, done / (double) total);
    int filled = (int) Math.round(f * WIDTH);
    out.print("\r" + label + " [" + "#".repeat(filled) + " ".repeat(WIDTH - filled) + "] "
        + String.format("%3d%%", Math.round(f * 100)) + (note.isEmpty() ? "" : " " + note));
    out.flush();
  }
}
