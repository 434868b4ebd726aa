package dev.rendezvous.runner;

import ai.onnxruntime.OrtEnvironment;

/**
 * The one ONNX Runtime environment of this process. ONNX Runtime allows a single environment per process, and
 * DJL's ONNX Runtime engine insists on creating it itself (with threading options, which fails once any
 * environment exists). So when that engine is on the classpath it is started first and everyone shares the
 * environment it made; sessions still get their own thread pools, as configured per runner. Code in this
 * process that needs an environment takes it from here, never from {@code OrtEnvironment.getEnvironment()}.
 */
public final class OrtEnvironments {

  private static boolean djlAsked;

  private OrtEnvironments() {}

  public static synchronized OrtEnvironment shared() {
    if (!djlAsked) {
      djlAsked = true;
      try {
        Class.forName("ai.djl.onnxruntime.engine.OrtEngine", false, OrtEnvironments.class.getClassLoader());
        if (System.getProperty("ai.djl.offline") == null) {
          System.setProperty("ai.djl.offline", "true");
        }
        ai.djl.engine.Engine.getEngine("OnnxRuntime");
      } catch (ClassNotFoundException e) {
        // DJL's ONNX Runtime engine is not on the classpath: nothing to share with.
      }
    }
    return OrtEnvironment.getEnvironment();
  }
}
