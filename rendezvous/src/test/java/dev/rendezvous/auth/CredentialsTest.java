package dev.rendezvous.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.rendezvous.auth.AccessControl.Need;
import io.vertx.core.http.HttpMethod;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The admin token, the scoring keys and which endpoint needs which. */
class CredentialsTest {

  @TempDir Path dir;

  @Test
  void without_the_environment_a_token_is_written_owner_only_and_read_again_on_the_next_start() throws Exception {
    Path file = dir.resolve("data").resolve(AdminToken.FILE_NAME);
    AdminToken first = AdminToken.resolve(Map.of(), file);
    assertThat(first.file()).contains(file);
    assertThat(first.value()).hasSizeGreaterThanOrEqualTo(43); // 256 bits in Base64
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    assertThat(Files.readString(file).strip()).isEqualTo(first.value());

    AdminToken second = AdminToken.resolve(Map.of(), file);
    assertThat(second.value()).isEqualTo(first.value());
    assertThat(AdminToken.resolve(Map.of(), dir.resolve("other").resolve(AdminToken.FILE_NAME)).value())
        .isNotEqualTo(first.value());
  }

  @Test
  void a_token_file_others_could_read_is_made_owner_only() throws Exception {
    Path file = dir.resolve(AdminToken.FILE_NAME);
    Files.writeString(file, "a-token-of-the-operators-own\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    assertThat(AdminToken.resolve(Map.of(), file).value()).isEqualTo("a-token-of-the-operators-own");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
  }

  @Test
  void the_environment_wins_and_writes_no_file() {
    Path file = dir.resolve(AdminToken.FILE_NAME);
    AdminToken t = AdminToken.resolve(Map.of(AdminToken.ENV, "  from-the-environment-0123  "), file);
    assertThat(t.value()).isEqualTo("from-the-environment-0123");
    assertThat(t.file()).isEmpty();
    assertThat(file).doesNotExist();
    assertThat(t.matches("from-the-environment-0123")).isTrue();
    assertThat(t.matches("from-the-environment-0124")).isFalse();
    assertThat(t.matches("from-the-environment-012")).isFalse();
    assertThat(t.matches("")).isFalse();
    assertThat(t.matches(null)).isFalse();
  }

  @Test
  void a_short_token_is_refused_with_how_to_make_one() {
    assertThatThrownBy(() -> AdminToken.resolve(Map.of(AdminToken.ENV, "secret"), dir.resolve("x")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(AdminToken.ENV)
        .hasMessageContaining("at least 16 characters").hasMessageContaining("openssl rand");
  }

  @Test
  void scoring_keys_are_one_per_line_with_comments_and_blank_lines_ignored() throws Exception {
    Path file = Files.writeString(dir.resolve("keys"), """
        # the fraud team
        key-of-the-fraud-team-000001

          key-of-the-risk-team-000002   
        """);
    ApiKeys keys = ApiKeys.load(file);
    assertThat(keys.required()).isTrue();
    assertThat(keys.size()).isEqualTo(2);
    assertThat(keys.matches("key-of-the-fraud-team-000001")).isTrue();
    assertThat(keys.matches("key-of-the-risk-team-000002")).isTrue();
    assertThat(keys.matches("# the fraud team")).isFalse();
    assertThat(keys.matches("key-of-the-risk-team-00000")).isFalse();
    assertThat(keys.matches(null)).isFalse();
  }

  @Test
  void a_keys_file_without_keys_or_with_a_short_key_stops_the_start() throws Exception {
    Path empty = Files.writeString(dir.resolve("empty"), "# nothing yet\n\n");
    assertThatThrownBy(() -> ApiKeys.load(empty)).hasMessageContaining("holds no key");
    Path weak = Files.writeString(dir.resolve("weak"), "key-long-enough-0000001\nshort\n");
    assertThatThrownBy(() -> ApiKeys.load(weak)).hasMessageContaining("weak:2:").hasMessageContaining("at least 16");
  }

  @Test
  void probes_and_scrapes_are_open_reads_need_a_scoring_key_and_every_write_the_admin_token() {
    assertThat(AccessControl.need(HttpMethod.GET, "/v2/health/live")).isEqualTo(Need.NOTHING);
    assertThat(AccessControl.need(HttpMethod.GET, "/v2/health/ready")).isEqualTo(Need.NOTHING);
    assertThat(AccessControl.need(HttpMethod.GET, "/v2/models/fraud/ready")).isEqualTo(Need.NOTHING);
    assertThat(AccessControl.need(HttpMethod.GET, "/metrics")).isEqualTo(Need.NOTHING);
    assertThat(AccessControl.need(HttpMethod.GET, "/ui/")).isEqualTo(Need.NOTHING);
    assertThat(AccessControl.need(HttpMethod.POST, "/v2/models/fraud/infer")).isEqualTo(Need.SCORING_KEY);
    assertThat(AccessControl.need(HttpMethod.POST, "/v2/models/fraud/infer/")).isEqualTo(Need.SCORING_KEY);
    assertThat(AccessControl.need(HttpMethod.GET, "/v2/models/fraud")).isEqualTo(Need.SCORING_KEY);
    // The versioned routes need what their unversioned twins need.
    assertThat(AccessControl.need(HttpMethod.GET, "/v2/models/fraud/versions/3/ready")).isEqualTo(Need.NOTHING);
    assertThat(AccessControl.need(HttpMethod.POST, "/v2/models/fraud/versions/3/infer")).isEqualTo(Need.SCORING_KEY);
    assertThat(AccessControl.need(HttpMethod.GET, "/v2/models/fraud/versions/3")).isEqualTo(Need.SCORING_KEY);
    assertThat(AccessControl.need(HttpMethod.POST, "/v2/models/fraud/versions/3/outcome")).isEqualTo(Need.ADMIN);
    assertThat(AccessControl.need(HttpMethod.GET, "/v2/models")).isEqualTo(Need.SCORING_KEY);
    assertThat(AccessControl.need(HttpMethod.GET, "/v2")).isEqualTo(Need.SCORING_KEY);
    assertThat(AccessControl.need(HttpMethod.GET, "/v2/models/fraud/schedule")).isEqualTo(Need.SCORING_KEY);
    assertThat(AccessControl.need(HttpMethod.POST, "/v2/models/fraud/schedule")).isEqualTo(Need.ADMIN);
    assertThat(AccessControl.need(HttpMethod.POST, "/v2/models/fraud/schedule/")).isEqualTo(Need.ADMIN);
    assertThat(AccessControl.need(HttpMethod.POST, "/v2/models/fraud/schedule/rollback")).isEqualTo(Need.ADMIN);
    assertThat(AccessControl.need(HttpMethod.POST, "/v2/models/fraud/outcome")).isEqualTo(Need.ADMIN);
    assertThat(AccessControl.need(HttpMethod.PUT, "/v2/models/fraud/infer")).isEqualTo(Need.ADMIN);
    assertThat(AccessControl.need(HttpMethod.DELETE, "/v2/health/live")).isEqualTo(Need.ADMIN);
    assertThat(AccessControl.need(HttpMethod.POST, "/anything/new")).isEqualTo(Need.ADMIN);
  }

  @Test
  void only_a_bearer_header_carries_a_credential() {
    assertThat(AccessControl.bearer("Bearer abc")).isEqualTo("abc");
    assertThat(AccessControl.bearer("bearer   abc  ")).isEqualTo("abc");
    assertThat(AccessControl.bearer("Basic YWJjOmRlZg==")).isNull();
    assertThat(AccessControl.bearer("Bearer ")).isNull();
    assertThat(AccessControl.bearer("Bearer")).isNull();
    assertThat(AccessControl.bearer(null)).isNull();
  }

  @Test
  void tls_files_must_be_readable() throws Exception {
    Path cert = Files.writeString(dir.resolve("cert.pem"), "x");
    Path key = Files.writeString(dir.resolve("key.pem"), "x");
    assertThat(new Tls(cert, key).key()).isEqualTo(key);
    assertThatThrownBy(() -> new Tls(cert, dir.resolve("missing.pem"))).hasMessageContaining("cannot read");
  }
}
