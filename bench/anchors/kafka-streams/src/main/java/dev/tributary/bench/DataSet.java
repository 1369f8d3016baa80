package dev.tributary.bench;

import java.nio.charset.StandardCharsets;

/**
 * The benchmarks' keyed data set; bench/lib/dataset.ts computes exactly the same records.
 *
 * Record i of n (0-based):
 * - event time: {@code base + floor(i * span / n)} ms (the record's Kafka timestamp), so n
 *   records cover {@code span} ms of event time evenly, in order;
 * - key: {@code "k" + index}, with {@code phase = floor(i * PHASES / n)} and
 *   {@code index = 2 * ((i * 7919) mod (keys / 2)) + (phase mod 2)}: the span is cut into
 *   PHASES phases, and in each phase only the keys of one parity are active (each of them every
 *   keys/2 records), so a key is active for one phase, quiet for the next (session windows with
 *   a gap shorter than a phase end there);
 * - value: {@code {"i":<i>,"pad":"xxx…"}} padded to exactly {@code valueBytes} bytes.
 */
final class DataSet {
  static final int PHASES = 10;

  final long n;
  final int keys;
  final long spanMs;
  final long baseMs;
  final int valueBytes;

  DataSet(long n, int keys, long spanMs, long baseMs, int valueBytes) {
    if (keys < 2 || keys % 2 != 0) throw new IllegalArgumentException("keys must be even and >= 2");
    this.n = n;
    this.keys = keys;
    this.spanMs = spanMs;
    this.baseMs = baseMs;
    this.valueBytes = valueBytes;
  }

  int keyIndex(long i) {
    long phase = i * PHASES / n;
    long half = keys / 2;
    return (int) (2 * ((i * 7919L) % half) + (phase % 2));
  }

  String key(long i) {
    return "k" + keyIndex(i);
  }

  long timestamp(long i) {
    return baseMs + i * spanMs / n;
  }

  byte[] value(long i) {
    String head = "{\"i\":" + i + ",\"pad\":\"";
    int pad = valueBytes - head.length() - 2;
    if (pad < 0) throw new IllegalArgumentException("valueBytes too small");
    StringBuilder sb = new StringBuilder(valueBytes).append(head);
    for (int k = 0; k < pad; k++) sb.append('x');
    sb.append("\"}");
    return sb.toString().getBytes(StandardCharsets.US_ASCII);
  }
}
