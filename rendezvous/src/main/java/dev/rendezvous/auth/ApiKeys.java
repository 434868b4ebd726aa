package dev.rendezvous.auth;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The optional scoring keys: when a keys file is given ({@value #ENV}), inference and metadata requests must
 * carry one of its keys as {@code Authorization: Bearer <key>}; without one, scoring is open. The file holds
 * one key per line; blank lines and lines starting with {@code #} are ignored. It is read once, at start.
 */
public final class ApiKeys {

  /** The environment variable that names the keys file. */
  public static final String ENV = "RDV_API_KEYS_FILE";

  private static final ApiKeys OPEN = new ApiKeys(null, List.of());

  private final Path file;
  private final List<byte[]> digests;

  private ApiKeys(Path file, List<byte[]> digests) {
    this.file = file;
    this.digests = digests;
  }

  /** No keys: scoring needs no credential. */
  public static ApiKeys open() {
    return OPEN;
  }

  /**
   * The keys of a file.
   *
   * @throws IllegalArgumentException when it holds no key or a key shorter than {@value AdminToken#MIN_LENGTH}
   *     characters (it would be guessed)
   */
  public static ApiKeys load(Path file) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the scoring keys file " + file + " (" + ENV + "): "
          + e.getMessage(), e);
    }
    List<byte[]> digests = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String key = lines.get(i).strip();
      if (key.isEmpty() || key.startsWith("#")) {
        continue;
      }
      if (key.length() < AdminToken.MIN_LENGTH || key.chars().anyMatch(Character::isWhitespace)) {
        throw new IllegalArgumentException(file + ":" + (i + 1) + ": a scoring key must be at least "
            + AdminToken.MIN_LENGTH + " characters without white space");
      }
      digests.add(Secrets.digest(key));
    }
    if (digests.isEmpty()) {
      throw new IllegalArgumentException(file + " (" + ENV + ") holds no key: every scoring request would be "
          + "refused; add one key per line, or unset " + ENV + " to leave scoring open");
    }
    return new ApiKeys(file, List.copyOf(digests));
  }

  /** Whether scoring needs a key. */
  public boolean required() {
    return !digests.isEmpty();
  }

  /** How many keys there are. */
  public int size() {
    return digests.size();
  }

  /** The file the keys came from, or null when scoring is open. */
  public Path file() {
    return file;
  }

  /** Whether {@code presented} is one of the keys; compares with every key, each in constant time. */
  public boolean matches(String presented) {
    if (presented == null) {
      return false;
    }
    byte[] d = Secrets.digest(presented);
    boolean found = false;
    for (byte[] k : digests) {
      found |= Secrets.same(k, d);
    }
    return found;
  }
}
