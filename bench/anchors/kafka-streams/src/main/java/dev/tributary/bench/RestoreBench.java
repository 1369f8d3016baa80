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
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.processor.StateRestoreListener;
import org.apache.kafka.streams.state.Stores;

/**
 * The {@code state-restore} scenario's anchor: Kafka Streams restoring a key-value store from its
 * changelog ({@code <app-id>-counts-changelog}, one partition, filled beforehand with N distinct
 * String keys and 8-byte Long values), as a new instance with an empty state directory does.
 *
 * Topology: {@code stream(input).groupByKey().count(Materialized.as(store "counts"))}, with the
 * store in memory ({@code --store memory}: Stores.inMemoryKeyValueStore) or on RocksDB
 * ({@code --store rocksdb}: Stores.persistentTimestampedKeyValueStore, Kafka Streams' default).
 * The input topic is empty: the instance only restores.
 *
 * Measured by the global restore listener: from onRestoreStart to onRestoreEnd of the store's
 * changelog partition (records restored, seconds, and the JVM's CPU over that window from
 * /proc/self/stat). Prints one line "BENCH_RESULT {json}" on stdout.
 */
public final class RestoreBench {
  private static final String RESULT_PREFIX = "BENCH_RESULT ";
  private static volatile long startNanos;
  private static volatile double[] startCpu;
  private static volatile long endNanos;
  private static volatile double[] endCpu;
  private static final AtomicLong restored = new AtomicLong();
  private static final CountDownLatch done = new CountDownLatch(1);

  public static void main(String[] argv) throws Exception {
    long launched = System.nanoTime();
    Args args = new Args(argv);
    String label = args.get("label");
    long expected = args.getLong("records");
    boolean inMemory = args.get("store", "memory").equals("memory");
    Path stateDir = Files.createTempDirectory("tributary-bench-restore-");

    StreamsBuilder builder = new StreamsBuilder();
    builder.stream(args.get("input"), Consumed.with(Serdes.String(), Serdes.ByteArray()))
        .groupByKey(Grouped.with(Serdes.String(), Serdes.ByteArray()))
        .count(Materialized.<String, Long>as(inMemory ? Stores.inMemoryKeyValueStore("counts") : Stores.persistentTimestampedKeyValueStore("counts"))
            .withKeySerde(Serdes.String())
            .withValueSerde(Serdes.Long()));

    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, args.get("app-id"));
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, args.get("bootstrap"));
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
    props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    props.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");

    KafkaStreams streams = new KafkaStreams(builder.build(), props);
    streams.setGlobalStateRestoreListener(new StateRestoreListener() {
      @Override
      public void onRestoreStart(TopicPartition tp, String store, long startingOffset, long endingOffset) {
        startCpu = cpu();
        startNanos = System.nanoTime();
        System.err.printf("%s: restoring %s from %d to %d%n", label, tp, startingOffset, endingOffset);
      }

      @Override
      public void onBatchRestored(TopicPartition tp, String store, long batchEndOffset, long numRestored) {
        restored.addAndGet(numRestored);
      }

      @Override
      public void onRestoreEnd(TopicPartition tp, String store, long totalRestored) {
        endNanos = System.nanoTime();
        endCpu = cpu();
        restored.set(totalRestored);
        done.countDown();
      }
    });
    streams.setUncaughtExceptionHandler(e -> {
      System.err.println(label + ": stream thread failed: " + e);
      e.printStackTrace();
      System.exit(1);
      return null;
    });
    streams.start();
    if (!done.await(300, TimeUnit.SECONDS)) {
      System.err.printf("%s: no restore end within 300 s (%d restored, state %s)%n", label, restored.get(), streams.state());
      System.exit(1);
    }
    if (restored.get() != expected) System.err.printf("%s: restored %d records, expected %d%n", label, restored.get(), expected);
    double seconds = (endNanos - startNanos) / 1e9;
    double cpuUser = endCpu[0] - startCpu[0];
    double cpuSys = endCpu[1] - startCpu[1];
    double[] all = cpu();
    String json = String.format(java.util.Locale.ROOT,
        "{\"label\":\"%s\",\"records\":%d,\"firstBatchRecords\":0,\"seconds\":%.6f,\"totalSeconds\":%.6f,\"cpuSeconds\":%.3f,"
            + "\"cpuUserSeconds\":%.3f,\"cpuSystemSeconds\":%.3f,\"processCpuSeconds\":%.3f,\"maxRssMiB\":%.1f,\"windowStartUs\":0,\"windowEndUs\":0,"
            + "\"extra\":{\"keys\":%d,\"restoreSeconds\":%.6f}}",
        label, restored.get(), seconds, (endNanos - launched) / 1e9, cpuUser + cpuSys, cpuUser, cpuSys, all[0] + all[1], maxRssMiB(), restored.get(), seconds);
    System.out.println(RESULT_PREFIX + json);
    System.out.flush();
    streams.close(Duration.ofSeconds(10));
    streams.cleanUp();
    deleteRecursively(stateDir);
    System.exit(0);
  }

  private static double[] cpu() {
    try {
      String stat = Files.readString(Path.of("/proc/self/stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return new double[] {Long.parseLong(f[11]) / 100.0, Long.parseLong(f[12]) / 100.0};
    } catch (IOException e) {
      throw new RuntimeException(e);
    }
  }

  private static double maxRssMiB() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
      }
    } catch (IOException ignored) {
      // not on Linux
    }
    return 0;
  }

  private static void deleteRecursively(Path dir) {
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // a temp directory
    }
  }
}
