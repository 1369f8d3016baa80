package dev.tributary.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.SessionWindows;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.state.SessionStore;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.WindowStore;

/**
 * The Kafka Streams anchor: one application instance, one stream thread, in-memory stores.
 *
 * <pre>
 * StreamsBench --mode stateless|tumbling|session --bootstrap B --input T --output O --app-id A
 *              --inputs N --outputs M --label L [--changelog true|false] [--commit-ms 1000]
 *              [--window-ms 10000] [--gap-ms 5000] [--store memory|rocksdb]
 * </pre>
 *
 * Topologies (the same as tributary's in bench/keyed/tributary.ts):
 * - stateless: filter (the key's next-to-last character is an even digit) → mapValues to
 *   {"key":k,"bytes":n} → to(output);
 * - tumbling: groupByKey → windowedBy(TimeWindows.ofSizeWithNoGrace(window)) → count (in-memory
 *   window store) → suppress(untilWindowCloses(unbounded)) → "key@windowStart" = count → output;
 * - session: the same with SessionWindows.ofInactivityGapWithNoGrace(gap).
 *
 * Stores: --store memory (Stores.inMemoryWindowStore / inMemorySessionStore) or rocksdb (the
 * persistent stores Kafka Streams uses by default); with their changelog topics unless
 * --changelog false.
 *
 * Measured like the Node children: the window opens at the first input record processed (the
 * group join is before it) and closes when N input records were processed and M results were
 * acknowledged by the broker on the output topic (producer interceptor, {@link AckCounter}); CPU
 * is the whole JVM's user + system time over that window (/proc/self/stat: every thread, GC and
 * JIT included, as Node's process.cpuUsage()). Prints one line "BENCH_RESULT {json}" on stdout.
 */
public final class StreamsBench {
  private static final String RESULT_PREFIX = "BENCH_RESULT ";

  private static final AtomicLong inputs = new AtomicLong();
  private static volatile long targetInputs;
  private static volatile long targetOutputs;
  private static volatile long firstNanos;
  private static volatile double[] firstCpu;
  private static volatile long inputsDoneNanos;
  private static volatile long halfNanos;
  private static volatile long halfInputs;
  private static volatile double[] halfCpu;
  private static volatile long endNanos;
  private static volatile double[] endCpu;
  private static final CountDownLatch done = new CountDownLatch(1);

  public static void main(String[] argv) throws Exception {
    long startNanos = System.nanoTime();
    Args args = new Args(argv);
    String mode = args.get("mode");
    String input = args.get("input");
    String output = args.get("output");
    String label = args.get("label");
    targetInputs = args.getLong("inputs");
    targetOutputs = args.getLong("outputs");
    boolean changelog = Boolean.parseBoolean(args.get("changelog", "true"));
    long windowMs = args.getLong("window-ms", 10_000);
    long gapMs = args.getLong("gap-ms", 5_000);
    boolean inMemory = args.get("store", "memory").equals("memory");
    Path stateDir = Files.createTempDirectory("tributary-bench-kstreams-");

    AckCounter.outputTopic = output;
    AckCounter.onAck = StreamsBench::check;

    StreamsBuilder builder = new StreamsBuilder();
    KStream<String, byte[]> in = builder.stream(input, Consumed.with(Serdes.String(), Serdes.ByteArray())).peek((k, v) -> {
      if (inputs.getAndIncrement() == 0) {
        firstCpu = cpu();
        firstNanos = System.nanoTime();
      }
      check();
    });
    switch (mode) {
      case "stateless" -> in.filter((k, v) -> k != null && k.length() >= 2 && keep(k))
          .mapValues((k, v) -> "{\"key\":\"" + k + "\",\"bytes\":" + v.length + "}")
          .to(output, Produced.with(Serdes.String(), Serdes.String()));
      case "tumbling" -> {
        Materialized<String, Long, WindowStore<Bytes, byte[]>> store = Materialized
            .<String, Long>as(inMemory
                ? Stores.inMemoryWindowStore("counts", Duration.ofMillis(windowMs), Duration.ofMillis(windowMs), false)
                : Stores.persistentTimestampedWindowStore("counts", Duration.ofMillis(windowMs), Duration.ofMillis(windowMs), false))
            .withKeySerde(Serdes.String())
            .withValueSerde(Serdes.Long());
        if (!changelog) store = store.withLoggingDisabled();
        in.groupByKey(Grouped.with(Serdes.String(), Serdes.ByteArray()))
            .windowedBy(TimeWindows.ofSizeWithNoGrace(Duration.ofMillis(windowMs)))
            .count(store)
            .suppress(Suppressed.untilWindowCloses(changelog ? Suppressed.BufferConfig.unbounded() : Suppressed.BufferConfig.unbounded().withLoggingDisabled()))
            .toStream()
            .map((wk, count) -> KeyValue.pair(wk.key() + "@" + wk.window().start(), Long.toString(count)))
            .to(output, Produced.with(Serdes.String(), Serdes.String()));
      }
      case "session" -> {
        Materialized<String, Long, SessionStore<Bytes, byte[]>> store = Materialized
            .<String, Long>as(inMemory ? Stores.inMemorySessionStore("sessions", Duration.ofMillis(gapMs)) : Stores.persistentSessionStore("sessions", Duration.ofMillis(gapMs)))
            .withKeySerde(Serdes.String())
            .withValueSerde(Serdes.Long());
        if (!changelog) store = store.withLoggingDisabled();
        in.groupByKey(Grouped.with(Serdes.String(), Serdes.ByteArray()))
            .windowedBy(SessionWindows.ofInactivityGapWithNoGrace(Duration.ofMillis(gapMs)))
            .count(store)
            .suppress(Suppressed.untilWindowCloses(changelog ? Suppressed.BufferConfig.unbounded() : Suppressed.BufferConfig.unbounded().withLoggingDisabled()))
            .toStream()
            .filter((wk, count) -> count != null)
            .map((wk, count) -> KeyValue.pair(wk.key() + "@" + wk.window().start(), Long.toString(count)))
            .to(output, Produced.with(Serdes.String(), Serdes.String()));
      }
      default -> throw new IllegalArgumentException("unknown --mode " + mode);
    }

    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, args.get("app-id"));
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, args.get("bootstrap"));
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, args.getLong("commit-ms", 1000));
    // at_least_once (the default) or exactly_once_v2: one transactional producer per stream thread.
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, args.get("guarantee", StreamsConfig.AT_LEAST_ONCE));
    props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    props.put(StreamsConfig.producerPrefix(ProducerConfig.INTERCEPTOR_CLASSES_CONFIG), AckCounter.class.getName());
    props.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");

    KafkaStreams streams = new KafkaStreams(builder.build(), props);
    streams.setUncaughtExceptionHandler(e -> {
      System.err.println(label + ": stream thread failed: " + e);
      e.printStackTrace();
      System.exit(1);
      return null;
    });
    Thread progress = new Thread(() -> {
      long lastIn = -1, lastOut = -1, lastChange = System.nanoTime();
      while (done.getCount() > 0) {
        try {
          Thread.sleep(2000);
        } catch (InterruptedException e) {
          return;
        }
        long in2 = inputs.get(), out2 = AckCounter.acked.get();
        System.err.printf("%s: %,d / %,d in, %,d / %,d out (%s)%n", label, in2, targetInputs, out2, targetOutputs, streams.state());
        if (in2 != lastIn || out2 != lastOut) {
          lastIn = in2;
          lastOut = out2;
          lastChange = System.nanoTime();
        } else if (System.nanoTime() - lastChange > 60_000_000_000L) {
          System.err.printf("%s: no progress for 60 s (in %d of %d, out %d of %d)%n", label, in2, targetInputs, out2, targetOutputs);
          System.exit(1);
        }
      }
    }, "progress");
    progress.setDaemon(true);
    progress.start();

    streams.start();
    done.await();
    double seconds = (endNanos - firstNanos) / 1e9;
    double totalSeconds = (endNanos - startNanos) / 1e9;
    double cpuUser = endCpu[0] - firstCpu[0];
    double cpuSys = endCpu[1] - firstCpu[1];
    double[] all = cpu();
    String json = String.format(java.util.Locale.ROOT,
        "{\"label\":\"%s\",\"records\":%d,\"firstBatchRecords\":1,\"seconds\":%.6f,\"totalSeconds\":%.6f,\"cpuSeconds\":%.3f,"
            + "\"cpuUserSeconds\":%.3f,\"cpuSystemSeconds\":%.3f,\"processCpuSeconds\":%.3f,\"maxRssMiB\":%.1f,\"windowStartUs\":0,\"windowEndUs\":0,"
            + "\"extra\":{\"outputs\":%d,\"inputSeconds\":%.6f,\"secondHalfRecordsPerSec\":%.1f,\"secondHalfCpuPerM\":%.4f}}",
        label, inputs.get(), seconds, totalSeconds, cpuUser + cpuSys, cpuUser, cpuSys, all[0] + all[1], maxRssMiB(), AckCounter.acked.get(),
        (inputsDoneNanos - firstNanos) / 1e9,
        (inputs.get() - halfInputs) / ((endNanos - halfNanos) / 1e9),
        (endCpu[0] + endCpu[1] - halfCpu[0] - halfCpu[1]) / ((inputs.get() - halfInputs) / 1e6));
    System.out.println(RESULT_PREFIX + json);
    System.out.flush();
    streams.close(Duration.ofSeconds(10));
    deleteRecursively(stateDir);
    System.exit(0);
  }

  /** The stateless filter: the key's next-to-last character is an even digit (about half the keys). */
  static boolean keep(String key) {
    char c = key.charAt(key.length() - 2);
    return c >= '0' && c <= '9' && (c - '0') % 2 == 0;
  }

  /** Closes the window once N inputs were processed and M outputs acknowledged. */
  private static synchronized void check() {
    if (endCpu != null) return;
    if (halfCpu == null && inputs.get() >= targetInputs / 2) {
      halfCpu = cpu();
      halfNanos = System.nanoTime();
      halfInputs = inputs.get();
    }
    if (inputsDoneNanos == 0 && inputs.get() >= targetInputs) inputsDoneNanos = System.nanoTime();
    if (inputs.get() >= targetInputs && AckCounter.acked.get() >= targetOutputs) {
      endNanos = System.nanoTime();
      endCpu = cpu();
      done.countDown();
    }
  }

  /** [user, system] CPU seconds of this process (every thread), from /proc/self/stat. */
  static double[] cpu() {
    try {
      String stat = Files.readString(Path.of("/proc/self/stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return new double[] {Long.parseLong(f[11]) / 100.0, Long.parseLong(f[12]) / 100.0};
    } catch (IOException e) {
      throw new RuntimeException(e);
    }
  }

  static double maxRssMiB() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
      }
    } catch (IOException ignored) {
      // not on Linux
    }
    return 0;
  }

  static void deleteRecursively(Path dir) {
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // a temp directory
    }
  }
}
