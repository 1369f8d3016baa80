package dev.tributary.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TaskMetadata;
import org.apache.kafka.streams.ThreadMetadata;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.LagInfo;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.processor.StateRestoreListener;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.processor.api.RecordMetadata;

/**
 * One Kafka Streams instance of the recovery scenario (bench/scenarios/recovery.ts): two of them
 * run with the same application id, and one is killed with SIGKILL.
 *
 * <pre>
 * RecoveryWorker --bootstrap B --input T --output O --app-id A --worker W --state-dir D
 *                [--session-timeout-ms 6000] [--heartbeat-ms 500] [--commit-ms 1000]
 * </pre>
 *
 * Topology: the stateless scenario's filter (the key's next-to-last character is an even digit),
 * then each kept record written to the output, keyed by its key, as
 * {@code {"key":k,"bytes":n,"ts":<input timestamp>,"p":<input partition>,"o":<input offset>,"w":"<worker>"}}
 * (tributary's worker writes the same). One stream thread, at-least-once, commits every
 * --commit-ms; the consumers' session timeout and heartbeat interval as given (Kafka Streams'
 * defaults: 45 s and 3 s).
 *
 * Prints {@code ASSIGNED {"at":<epoch ms>,"partitions":[…]}} on stdout whenever the input
 * partitions of its active tasks change (polled every 20 ms), until it is killed; SIGTERM closes
 * it (Kafka Streams does not leave the group on close: {@code internal.leave.group.on.close} is
 * false for its consumers).
 *
 * <p>With {@code --state true}, the stateful variant (tributary's {@code --state-dir}): every
 * record updates its key's entry in the persistent (RocksDB, changelogged) store {@code last}
 * ({@code {n, ts, p, o, bytes}}), and a kept record's result is written from it;
 * {@code --standbys N} sets {@code num.standby.replicas}, and {@code acceptable.recovery.lag} is
 * unbounded so that a joining instance gets its active tasks at once (no warmup replicas and
 * probing rebalances). Prints {@code STANDBYS {"at":…,"count":…,"lag":…}} every 250 ms (standby
 * tasks, and their stores' summed offset lag) and {@code RESTORED {"at":…,"partition":…,"records":…}}
 * when a store partition's restore ends.
 */
public final class RecoveryWorker {
  public static void main(String[] argv) throws Exception {
    Args args = new Args(argv);
    String input = args.get("input");
    String output = args.get("output");
    String worker = args.get("worker");
    Path stateDir = Path.of(args.get("state-dir"));

    boolean stateful = Boolean.parseBoolean(args.get("state", "false"));
    int standbys = (int) args.getLong("standbys", 0);
    StreamsBuilder builder = new StreamsBuilder();
    if (stateful) {
      builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore("last"), Serdes.String(), Serdes.String()));
      builder.stream(input, Consumed.with(Serdes.String(), Serdes.ByteArray()))
          .filter((k, v) -> k != null && k.length() >= 2)
          .processValues(() -> new Remember(worker), "last")
          .to(output, Produced.with(Serdes.String(), Serdes.String()));
    } else {
      builder.stream(input, Consumed.with(Serdes.String(), Serdes.ByteArray()))
          .filter((k, v) -> k != null && k.length() >= 2 && StreamsBench.keep(k))
          .processValues(() -> new Describe(worker))
          .to(output, Produced.with(Serdes.String(), Serdes.String()));
    }

    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, args.get("app-id"));
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, args.get("bootstrap"));
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, args.getLong("commit-ms", 1000));
    props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), (int) args.getLong("session-timeout-ms", 6000));
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG), (int) args.getLong("heartbeat-ms", 500));
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
    if (stateful) {
      props.put(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG, standbys);
      props.put(StreamsConfig.ACCEPTABLE_RECOVERY_LAG_CONFIG, Long.MAX_VALUE);
    }

    KafkaStreams streams = new KafkaStreams(builder.build(), props);
    if (stateful) {
      streams.setGlobalStateRestoreListener(new StateRestoreListener() {
        private final java.util.Map<TopicPartition, Long> restored = new java.util.concurrent.ConcurrentHashMap<>();
        @Override public void onRestoreStart(TopicPartition tp, String store, long start, long end) { restored.put(tp, 0L); }
        @Override public void onBatchRestored(TopicPartition tp, String store, long end, long n) { restored.merge(tp, n, Long::sum); }
        @Override public void onRestoreEnd(TopicPartition tp, String store, long total) {
          System.out.println("RESTORED {\"at\":" + System.currentTimeMillis() + ",\"partition\":" + tp.partition() + ",\"records\":" + total + ",\"localRecords\":0,\"keys\":0,\"durationMs\":0}");
          System.out.flush();
        }
      });
    }
    streams.setUncaughtExceptionHandler(e -> {
      System.err.println(worker + ": stream thread failed: " + e);
      e.printStackTrace();
      System.exit(1);
      return null;
    });
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      streams.close(Duration.ofSeconds(5));
      deleteRecursively(stateDir);
    }, "shutdown"));
    streams.start();

    Set<Integer> last = new TreeSet<>();
    boolean reported = false;
    long standbysReportedAt = 0;
    for (;;) {
      if (standbys > 0 && System.currentTimeMillis() - standbysReportedAt >= 250) {
        standbysReportedAt = System.currentTimeMillis();
        try {
          int count = 0;
          for (ThreadMetadata thread : streams.metadataForLocalThreads()) count += thread.standbyTasks().size();
          long lag = 0;
          for (java.util.Map<Integer, LagInfo> byPartition : streams.allLocalStorePartitionLags().values()) {
            for (LagInfo info : byPartition.values()) lag += Math.max(0, info.offsetLag());
          }
          // allLocalStorePartitionLags covers active tasks too: an active task's lag is 0 once it is restored.
          System.out.println("STANDBYS {\"at\":" + standbysReportedAt + ",\"count\":" + count + ",\"lag\":" + lag + "}");
          System.out.flush();
        } catch (RuntimeException notRunning) {
          // not running yet
        }
      }
      Set<Integer> now = new TreeSet<>();
      try {
        for (ThreadMetadata thread : streams.metadataForLocalThreads()) {
          for (TaskMetadata task : thread.activeTasks()) {
            for (TopicPartition tp : task.topicPartitions()) if (tp.topic().equals(input)) now.add(tp.partition());
          }
        }
      } catch (IllegalStateException notRunning) {
        // not started yet, or shutting down
        Thread.sleep(20);
        continue;
      }
      if (!reported || !now.equals(last)) {
        reported = true;
        last = now;
        StringBuilder line = new StringBuilder("ASSIGNED {\"at\":").append(System.currentTimeMillis()).append(",\"partitions\":[");
        int i = 0;
        for (int p : now) line.append(i++ > 0 ? "," : "").append(p);
        System.out.println(line.append("]}"));
        System.out.flush();
      }
      Thread.sleep(20);
    }
  }

  /** The stateful variant: the key's entry in {@code last} updated, and a kept record's result written from it. */
  private static final class Remember implements FixedKeyProcessor<String, byte[], String> {
    private final String worker;
    private FixedKeyProcessorContext<String, String> context;
    private KeyValueStore<String, String> store;

    Remember(String worker) {
      this.worker = worker;
    }

    @Override
    public void init(FixedKeyProcessorContext<String, String> context) {
      this.context = context;
      this.store = context.getStateStore("last");
    }

    @Override
    public void process(FixedKeyRecord<String, byte[]> record) {
      RecordMetadata md = context.recordMetadata().orElseThrow();
      int bytes = record.value() == null ? 0 : record.value().length;
      String previous = store.get(record.key());
      long n = previous == null ? 1 : Long.parseLong(previous.substring(5, previous.indexOf(','))) + 1;
      store.put(record.key(), "{\"n\":" + n + ",\"ts\":" + record.timestamp() + ",\"p\":" + md.partition() + ",\"o\":" + md.offset() + ",\"bytes\":" + bytes + "}");
      if (!StreamsBench.keep(record.key())) return;
      context.forward(record.withValue("{\"key\":\"" + record.key() + "\",\"bytes\":" + bytes + ",\"ts\":" + record.timestamp()
          + ",\"p\":" + md.partition() + ",\"o\":" + md.offset() + ",\"w\":\"" + worker + "\"}"));
    }
  }

  /** The output value: what the watcher needs to attribute each result (input partition and offset, worker) and time it. */
  private static final class Describe implements FixedKeyProcessor<String, byte[], String> {
    private final String worker;
    private FixedKeyProcessorContext<String, String> context;

    Describe(String worker) {
      this.worker = worker;
    }

    @Override
    public void init(FixedKeyProcessorContext<String, String> context) {
      this.context = context;
    }

    @Override
    public void process(FixedKeyRecord<String, byte[]> record) {
      RecordMetadata md = context.recordMetadata().orElseThrow();
      int bytes = record.value() == null ? 0 : record.value().length;
      context.forward(record.withValue("{\"key\":\"" + record.key() + "\",\"bytes\":" + bytes + ",\"ts\":" + record.timestamp()
          + ",\"p\":" + md.partition() + ",\"o\":" + md.offset() + ",\"w\":\"" + worker + "\"}"));
    }
  }

  private static void deleteRecursively(Path dir) {
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // a temp directory
    }
  }
}
