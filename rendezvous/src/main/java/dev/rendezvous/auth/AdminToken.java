package dev.rendezvous.auth;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin credential: the bearer token that schedule changes, rollbacks and outcomes must carry. It is the
 * environment variable {@value #ENV} when set; otherwise the token in a file ({@code <data>/admin-token} for
 * {@code up}), which is created with 256 random bits and mode 600 the first time and read on later starts, so
 * that a restart keeps the token its clients were given. The token itself is never logged, only the file's path.
 */
public final class AdminToken {

  private static final Logger LOG = LoggerFactory.getLogger(AdminToken.class);

  /** The environment variable that sets the token. */
  public static final String ENV = "RDV_ADMIN_TOKEN";

  /** The name of the token file in a data directory. */
  public static final String FILE_NAME = "admin-token";

  /** The shortest token accepted: shorter ones are too easy to guess. */
  public static final int MIN_LENGTH = 16;

  private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

  private final String value;
  private final byte[] digest;
  private final Path file;

  private AdminToken(String value, Path file) {
    this.value = value;
    this.digest = Secrets.digest(value);
    this.file = file;
  }

  /** A token given explicitly; it must have at least {@value #MIN_LENGTH} characters and no white space. */
  public static AdminToken of(String token) {
    return new AdminToken(check(token, "the admin token"), null);
  }

  /**
   * The token of {@value #ENV} in {@code env} if set, else the one in {@code file}, created when missing.
   *
   * @throws IllegalArgumentException when the token set or found is too short
   * @throws UncheckedIOException when the file can be neither read nor created
   */
  public static AdminToken resolve(Map<String, String> env, Path file) {
    String fromEnv = env.get(ENV);
    if (fromEnv != null && !fromEnv.isBlank()) {
      LOG.info("admin credential: the token of {}", ENV);
      return new AdminToken(check(fromEnv.strip(), ENV), null);
    }
    try {
      Optional<String> existing = read(file);
      if (existing.isPresent()) {
        tighten(file);
        LOG.info("admin credential: the token in {} (send it as 'Authorization: Bearer <token>')", file);
        return new AdminToken(check(existing.get(), file.toString()), file);
      }
      String token = Secrets.random(32);
      write(file, token);
      LOG.info("admin credential: a new token written to {} (mode 600); send it as 'Authorization: Bearer "
          + "<token>', or set {} instead", file, ENV);
      return new AdminToken(token, file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read or create the admin token file " + file + ": " + e.getMessage(), e);
    }
  }

  /** The token in {@code file}, stripped of white space; empty when there is no such file. */
  public static Optional<String> read(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    String text = Files.readString(file, StandardCharsets.UTF_8).strip();
    return text.isEmpty() ? Optional.empty() : Optional.of(text);
  }

  /** Whether {@code presented} is this token; takes the same time whatever it is. */
  public boolean matches(String presented) {
    return Secrets.matches(digest, presented);
  }

  /** The token, for clients started in this process (the launcher's own tools and tests). */
  public String value() {
    return value;
  }

  /** The file the token came from or was written to; empty when it came from the environment or code. */
  public Optional<Path> file() {
    return Optional.ofNullable(file);
  }

  private static String check(String token, String where) {
    if (token.length() < MIN_LENGTH || token.chars().anyMatch(Character::isWhitespace)) {
      throw new IllegalArgumentException(where + " must be at least " + MIN_LENGTH
          + " characters without white space; generate one with: openssl rand -base64 32");
    }
    return token;
  }

  /** Writes the token so that it is never readable by others, not even for a moment. */
  private static void write(Path file, String token) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = dir.resolve(file.getFileName() + ".tmp-" + Secrets.random(6));
    boolean posix = Files.getFileStore(dir).supportsFileAttributeView("posix");
    if (posix) {
      Files.createFile(tmp, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
    } else {
      LOG.warn("{} is on a file system without POSIX permissions: restrict who may read it by other means", file);
      Files.createFile(tmp);
    }
    try {
      Files.writeString(tmp, token + "\n", StandardCharsets.UTF_8);
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file);
      }
    } catch (FileAlreadyExistsException e) {
      throw new IOException("another process created " + file + " at the same time; start again", e);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** An existing token file that others may read is made owner-only, with a warning. */
  private static void tighten(Path file) throws IOException {
    if (!Files.getFileStore(file.toAbsolutePath().getParent()).supportsFileAttributeView("posix")) {
      return;
    }
    Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
    if (!OWNER_ONLY.containsAll(perms)) {
      LOG.warn("{} was readable by others ({}); its mode is now 600", file, PosixFilePermissions.toString(perms));
      Files.setPosixFilePermissions(file, OWNER_ONLY);
    }
  }
}
