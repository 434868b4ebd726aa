package dev.rendezvous.decoy;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.rendezvous.common.InferenceRequest;
import dev.rendezvous.common.Json;
import dev.rendezvous.common.Outcome;
import dev.rendezvous.common.Score;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Base64;

/**
 * One archived Kafka record: where it came from, a few fields copied out for joining and filtering, and its
 * value byte for byte. As a line of an archive segment it is one JSON object, for example
 *
 * <pre>{"request_id":"p1-a","client_id":"c7","received_at_us":...,"deadline_at_us":...,"topic":"rdv.fraud.input",
 * "partition":0,"offset":41,"timestamp_ms":...,"archived_at_us":...,"input":{...the record value...}}</pre>
 *
 * <p>The value is written last and verbatim, so {@code jq .input} shows the request as the models saw it and
 * the reader recovers the exact bytes. A value that is not a single line of JSON (no producer of this
 * project writes one) is kept as base64 in {@code <field>_base64} instead.
 *
 * @param kind what the value is
 * @param requestId the request id (the record key)
 * @param clientId for inputs, the client's own id, else null
 * @param receivedAtUs for inputs, when the proxy received the request (epoch µs), else 0
 * @param deadlineAtUs for inputs, the request's deadline (epoch µs), else 0
 * @param warmUp true for the launcher's warm-up requests, when the decoy is told to keep them
 * @param topic source topic ("" for replayed scores)
 * @param partition source partition (-1 for replayed scores)
 * @param offset source offset (-1 for replayed scores)
 * @param timestampMs the Kafka record timestamp, epoch ms
 * @param archivedAtUs when the decoy wrote it, epoch µs
 * @param value the record value, byte for byte
 */
public record ArchivedRecord(Kind kind, String requestId, String clientId, long receivedAtUs, long deadlineAtUs,
    boolean warmUp, String topic, int partition, long offset, long timestampMs, long archivedAtUs, byte[] value) {

  /** The input request; only for {@link Kind#INPUT}. */
  public InferenceRequest request() {
    return Json.decode(value, InferenceRequest.class);
  }

  /** The score; only for {@link Kind#SCORE} and {@link Kind#REPLAY}. */
  public Score score() {
    return Json.decode(value, Score.class);
  }

  /** The outcome; only for {@link Kind#OUTCOME}. */
  public Outcome outcome() {
    return Json.decode(value, Outcome.class);
  }

  /** This record as one archive line, newline included. */
  public byte[] toLine() {
    try {
      boolean verbatim = isOneLineOfJson(value);
      ByteArrayOutputStream out = new ByteArrayOutputStream(value.length + 256);
      try (JsonGenerator g = Json.MAPPER.getFactory().createGenerator(out, JsonEncoding.UTF8)) {
        g.writeStartObject();
        g.writeStringField("request_id", requestId);
        if (clientId != null) {
          g.writeStringField("client_id", clientId);
        }
        if (kind == Kind.INPUT) {
          g.writeNumberField("received_at_us", receivedAtUs);
          g.writeNumberField("deadline_at_us", deadlineAtUs);
        }
        if (warmUp) {
          g.writeBooleanField("warm_up", true);
        }
        g.writeStringField("topic", topic);
        g.writeNumberField("partition", partition);
        g.writeNumberField("offset", offset);
        g.writeNumberField("timestamp_ms", timestampMs);
        g.writeNumberField("archived_at_us", archivedAtUs);
        if (!verbatim) {
          g.writeStringField(kind.field() + "_base64", Base64.getEncoder().encodeToString(value));
        }
        g.writeEndObject();
      }
      if (!verbatim) {
        out.write('\n');
        return out.toByteArray();
      }
      // Reopen the object and append the value verbatim as its last field.
      byte[] head = out.toByteArray();
      ByteArrayOutputStream line = new ByteArrayOutputStream(head.length + value.length + 16);
      line.write(head, 0, head.length - 1);
      line.write((",\"" + kind.field() + "\":").getBytes(java.nio.charset.StandardCharsets.UTF_8));
      line.write(value);
      line.write('}');
      line.write('\n');
      return line.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Parses a line written by {@link #toLine()}; throws IllegalArgumentException when it is not one. */
  public static ArchivedRecord parse(Kind kind, byte[] line, int length) {
    String requestId = null;
    String clientId = null;
    long receivedAt = 0;
    long deadlineAt = 0;
    boolean warmUp = false;
    String topic = "";
    int partition = -1;
    long offset = -1;
    long timestampMs = 0;
    long archivedAt = 0;
    byte[] value = null;
    try (JsonParser p = Json.MAPPER.getFactory().createParser(line, 0, length)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new IllegalArgumentException("an archive line must be a JSON object");
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken t = p.nextToken();
        if (name.equals(kind.field())) {
          int start = (int) p.currentTokenLocation().getByteOffset();
          p.skipChildren();
          int end = (int) p.currentLocation().getByteOffset();
          value = Arrays.copyOfRange(line, start, end);
          continue;
        }
        switch (name) {
          case "request_id" -> requestId = p.getValueAsString();
          case "client_id" -> clientId = p.getValueAsString();
          case "received_at_us" -> receivedAt = p.getLongValue();
          case "deadline_at_us" -> deadlineAt = p.getLongValue();
          case "warm_up" -> warmUp = p.getBooleanValue();
          case "topic" -> topic = p.getValueAsString();
          case "partition" -> partition = p.getIntValue();
          case "offset" -> offset = p.getLongValue();
          case "timestamp_ms" -> timestampMs = p.getLongValue();
          case "archived_at_us" -> archivedAt = p.getLongValue();
          default -> {
            if (name.equals(kind.field() + "_base64")) {
              value = Base64.getDecoder().decode(p.getValueAsString());
            } else if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
              p.skipChildren(); // a field added by a later version
            }
          }
        }
      }
      if (p.currentToken() != JsonToken.END_OBJECT) {
        throw new IllegalArgumentException("an archive line must be one complete JSON object");
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("not an archive line: " + e.getMessage(), e);
    }
    if (requestId == null || value == null) {
      throw new IllegalArgumentException("an archive line needs request_id and " + kind.field());
    }
    return new ArchivedRecord(kind, requestId, clientId, receivedAt, deadlineAt, warmUp, topic, partition, offset,
        timestampMs, archivedAt, value);
  }

  /** True when the bytes are exactly one JSON value on one line, so they can be embedded as they are. */
  static boolean isOneLineOfJson(byte[] value) {
    for (byte b : value) {
      if (b == '\n' || b == '\r') {
        return false;
      }
    }
    try (JsonParser p = Json.MAPPER.getFactory().createParser(value)) {
      if (p.nextToken() == null) {
        return false;
      }
      p.skipChildren();
      return p.nextToken() == null;
    } catch (IOException e) {
      return false;
    }
  }
}
