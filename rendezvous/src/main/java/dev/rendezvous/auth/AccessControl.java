package dev.rendezvous.auth;

import dev.rendezvous.proxy.JsonResponses;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.regex.Pattern;

/**
 * The proxy's guard: every HTTP request passes here first and needs, by method and path,
 * <ul>
 *   <li>nothing: the health endpoints ({@code GET /v2/health/live|ready}, {@code GET /v2/models/{p}/ready}),
 *       {@code GET /metrics} and the status page under {@code /ui}, so that probes and scrapers need no secret;
 *   <li>a scoring key, only when keys are configured ({@link ApiKeys}): inference and every other read
 *       ({@code POST /v2/models/{p}/infer}, model and server metadata, the schedule status);
 *   <li>the admin token ({@link AdminToken}): everything else, that is every write: schedule changes (dry runs
 *       included), rollbacks and outcomes. Unknown paths fall here too, so a new write endpoint is guarded
 *       from its first day.
 * </ul>
 * The admin token is accepted wherever a scoring key is. A request without a bearer credential gets 401 with
 * {@code WWW-Authenticate: Bearer}; one with a wrong credential gets 403. Credentials are compared in
 * constant time.
 */
public final class AccessControl {

  /** What a request needs. */
  public enum Need { NOTHING, SCORING_KEY, ADMIN }

  private static final String ADMIN_MARK = "rdv.admin";
  private static final Pattern MODEL_READY = Pattern.compile("/v2/models/[^/]+(/versions/[^/]+)?/ready");
  private static final Pattern INFER = Pattern.compile("/v2/models/[^/]+(/versions/[^/]+)?/infer");

  private final AdminToken admin;
  private final ApiKeys keys;
  private final Tls tls;

  public AccessControl(AdminToken admin, ApiKeys keys) {
    this(admin, keys, null);
  }

  /** @param tls the certificate and key the proxy serves HTTPS with, or null for plain HTTP */
  public AccessControl(AdminToken admin, ApiKeys keys, Tls tls) {
    this.admin = admin;
    this.keys = keys;
    this.tls = tls;
  }

  /** The proxy's TLS settings, if it serves HTTPS (bearer credentials should not cross a network in clear). */
  public java.util.Optional<Tls> tls() {
    return java.util.Optional.ofNullable(tls);
  }

  /** The server options with TLS switched on when it is configured. */
  public io.vertx.core.http.HttpServerOptions configure(io.vertx.core.http.HttpServerOptions options) {
    return tls == null ? options : tls.configure(options);
  }

  /**
   * Admin endpoints locked by a random token nobody is told, scoring open: for proxies started without
   * credentials, which then accept no write at all.
   */
  public static AccessControl locked() {
    return new AccessControl(AdminToken.of(Secrets.random(32)), ApiKeys.open());
  }

  public AdminToken admin() {
    return admin;
  }

  public ApiKeys keys() {
    return keys;
  }

  /**
   * Puts the guard in front of every route added after this call; a route added before it runs {@link #check} in
   * its own chain of handlers.
   */
  public void mount(Router router) {
    router.route().handler(this::check);
  }

  /**
   * Whether the request carried the admin token: false before the guard has run, and on the endpoints that need
   * nothing, where the guard reads no credential.
   */
  public static boolean isAdmin(RoutingContext ctx) {
    return Boolean.TRUE.equals(ctx.get(ADMIN_MARK));
  }

  /** What a request with this method and path needs. */
  public static Need need(HttpMethod method, String path) {
    String p = path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    if (method == HttpMethod.GET || method == HttpMethod.HEAD) {
      if (p.equals("/v2/health/live") || p.equals("/v2/health/ready") || p.equals("/metrics") || p.equals("/ui")
          || p.startsWith("/ui/") || MODEL_READY.matcher(p).matches()) {
        return Need.NOTHING;
      }
      return Need.SCORING_KEY;
    }
    if (method == HttpMethod.POST && INFER.matcher(p).matches()) {
      return Need.SCORING_KEY;
    }
    return Need.ADMIN;
  }

  /** What the guard makes of a request's credential. */
  public enum Verdict {
    /** Let through: the credential is a scoring key, or none was needed. */
    ALLOWED,
    /** Let through: the credential is the admin token. */
    ADMIN,
    /** Refused: a credential is needed and none was sent (HTTP 401, gRPC UNAUTHENTICATED). */
    NO_CREDENTIAL,
    /** Refused: the credential sent is not one that this need accepts (HTTP 403, gRPC PERMISSION_DENIED). */
    WRONG_CREDENTIAL;

    public boolean allowed() {
      return this == ALLOWED || this == ADMIN;
    }
  }

  /**
   * The verdict on a request with this need and this {@code Authorization} header (null when absent), by the
   * rules above; every transport applies the same.
   */
  public Verdict verdict(Need need, String authorization) {
    if (need == Need.NOTHING) {
      return Verdict.ALLOWED; // open to all: no credential is hashed for a probe or a scrape
    }
    String token = bearer(authorization);
    if (token != null && admin.matches(token)) {
      return Verdict.ADMIN;
    }
    if (need == Need.SCORING_KEY && !keys.required()) {
      return Verdict.ALLOWED;
    }
    if (token == null) {
      return Verdict.NO_CREDENTIAL;
    }
    return need == Need.SCORING_KEY && keys.matches(token) ? Verdict.ALLOWED : Verdict.WRONG_CREDENTIAL;
  }

  /** The message of a refusal, for the client. */
  public static String refusal(Need need, Verdict verdict) {
    if (verdict == Verdict.NO_CREDENTIAL) {
      return need == Need.ADMIN
          ? "this endpoint needs the admin token: send 'Authorization: Bearer <token>' with the token of "
              + AdminToken.ENV + " or of the file " + AdminToken.FILE_NAME + " in the data directory"
          : "this endpoint needs a scoring key: send 'Authorization: Bearer <key>' with a key of the server's "
              + ApiKeys.ENV;
    }
    return need == Need.ADMIN ? "the bearer credential is not the admin token"
        : "the bearer credential is not a scoring key of this server";
  }

  /** Lets the request on when its credential allows what it asks, else answers 401 or 403; a route handler. */
  public void check(RoutingContext ctx) {
    Need need = need(ctx.request().method(), ctx.normalizedPath());
    Verdict verdict = verdict(need, need == Need.NOTHING ? null : ctx.request().getHeader("authorization"));
    if (verdict == Verdict.ADMIN) {
      ctx.put(ADMIN_MARK, true);
    }
    if (verdict.allowed()) {
      ctx.next();
    } else {
      refuse(ctx, verdict == Verdict.NO_CREDENTIAL ? 401 : 403, refusal(need, verdict));
    }
  }

  /** The token of an {@code Authorization: Bearer <token>} header, or null when there is none. */
  static String bearer(String header) {
    if (header == null || header.length() < 7 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return null;
    }
    String token = header.substring(7).strip();
    return token.isEmpty() ? null : token;
  }

  private static void refuse(RoutingContext ctx, int status, String message) {
    ctx.response().putHeader("www-authenticate", status == 401 ? "Bearer realm=\"rendezvous\""
        : "Bearer realm=\"rendezvous\", error=\"invalid_token\"");
    JsonResponses.error(ctx, status, message);
  }
}
