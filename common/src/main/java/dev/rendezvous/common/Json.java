package dev.rendezvous.common;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import java.io.IOException;
import java.io.UncheckedIOException;

/** The one serializer for every message: JSON through a shared, thread-safe Jackson mapper. */
public final class Json {

  public static final ObjectMapper MAPPER = new ObjectMapper()
      .setSerializationInclusion(JsonInclude.Include.NON_NULL)
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  /**
   * Reads one JSON document and nothing after it: trailing bytes are an error, not ignored. For what clients send,
   * where {@code {...} garbage} must not pass as {@code {...}}.
   */
  public static final ObjectReader STRICT_READER = MAPPER.reader()
      .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private Json() {}

  public static byte[] encode(Object message) {
    try {
      return MAPPER.writeValueAsBytes(message);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot encode " + message.getClass().getSimpleName(), e);
    }
  }

  /** Decodes a message; throws UncheckedIOException naming the type when the bytes are not one. */
  public static <T> T decode(byte[] bytes, Class<T> type) {
    try {
      return MAPPER.readValue(bytes, type);
    } catch (IOException e) {
      throw new UncheckedIOException("not a valid " + type.getSimpleName() + ": " + e.getMessage(), e);
    }
  }
}
