package dev.rendezvous.runner;

/**
 * The device a runner was configured for: {@code cpu}, {@code cuda[:N]} (that GPU or fail) or {@code auto} (GPU 0
 * when one is usable, the CPU otherwise). What was really used is the model's {@link ScoringModel#device()}.
 *
 * @param kind what was asked for
 * @param gpu the GPU index for {@code cuda} and {@code auto}
 */
public record DeviceChoice(Kind kind, int gpu) {

  /** What a configuration can ask for. */
  public enum Kind {
    AUTO,
    CPU,
    CUDA
  }

  /** Reads {@code auto}, {@code cpu}, {@code cuda} or {@code cuda:N}; anything else is rejected with the allowed values. */
  public static DeviceChoice parse(String text) {
    switch (text) {
      case "auto":
        return new DeviceChoice(Kind.AUTO, 0);
      case "cpu":
        return new DeviceChoice(Kind.CPU, 0);
      case "cuda":
        return new DeviceChoice(Kind.CUDA, 0);
      default:
        if (text.startsWith("cuda:")) {
          try {
            int n = Integer.parseInt(text.substring(5));
            if (n >= 0) {
              return new DeviceChoice(Kind.CUDA, n);
            }
          } catch (NumberFormatException e) {
            // reported below
          }
        }
        throw new IllegalArgumentException("device must be auto, cpu, cuda or cuda:N, not " + text);
    }
  }

  /** True when a GPU should be tried at all. */
  public boolean triesGpu() {
    return kind != Kind.CPU;
  }

  /** The name reported in scores when the GPU is used: {@code cuda:N}. */
  public String gpuName() {
    return "cuda:" + gpu;
  }
}
