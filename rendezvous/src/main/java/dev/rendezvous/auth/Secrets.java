package dev.rendezvous.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;

/** Random secrets and their comparison in constant time. */
public final class Secrets {

  private static final SecureRandom RANDOM = new SecureRandom();

  private Secrets() {}

  /** A new secret of {@code bytes} random bytes from {@link SecureRandom}, as URL-safe Base64 without padding. */
  public static String random(int bytes) {
    byte[] b = new byte[bytes];
    RANDOM.nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  /**
   * The SHA-256 digest of a secret. Secrets are compared by digest so that the comparison takes the same time
   * whatever the lengths and wherever the first difference lies.
   */
  public static byte[] digest(String secret) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  /** Whether two digests are equal, in time independent of their contents. */
  static boolean same(byte[] a, byte[] b) {
    return MessageDigest.isEqual(a, b);
  }

  /** Whether {@code presented} is the secret whose {@link #digest} is given; false for null; constant time. */
  public static boolean matches(byte[] digest, String presented) {
    return presented != null && same(digest, digest(presented));
  }
}
