package dev.rendezvous.proxy;

/** A client error with the HTTP status to answer and a message that says what was wrong. */
public final class BadRequestException extends RuntimeException {

  private final int status;

  public BadRequestException(int status, String message) {
    super(message, null, false, false);
    this.status = status;
  }

  public BadRequestException(String message) {
    this(400, message);
  }

  public int status() {
    return status;
  }
}
