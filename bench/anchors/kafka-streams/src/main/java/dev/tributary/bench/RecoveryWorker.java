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
import org.apache.kafka.streams.kstream.Produced;
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
 */
public final class RecoveryWorker {
  public static void main(String[] argv) throws Exception {
    Args args = new Args(argv);
    String input = args.get("input");
    String output = args.get("output");
    String worker = args.get("worker");
    Path stateDir = Path.of(args.get("state-dir"));

    StreamsBuilder builder = new StreamsBuilder();
    builder.stream(input, Consumed.with(Serdes.String(), Serdes.ByteArray()))
        .filter((k, v) -> k != null && k.length() >= 2 && StreamsBench.keep(k))
        .processValues(() -> new Describe(worker))
        .to(output, Produced.with(Serdes.String(), Serdes.String()));

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

    KafkaStreams streams = new KafkaStreams(builder.build(), props);
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
    for (;;) {
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
