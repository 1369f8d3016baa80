package dev.tributary.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TableJoined;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.WindowStore;

/**
 * The Kafka Streams anchor of the nexmark-kafka scenario: Nexmark's q3 or q7 as
 * {@code ../shared/specs/nexmark.md} defines them, over the topics the nexmark example app reads
 * on Kafka (persons keyed by id, auctions by id, bids by auction; JSON values, event time as the
 * record timestamp), written the way a Kafka Streams user would, one stream thread, stores in
 * memory (or RocksDB) with their changelogs, at-least-once.
 *
 * <pre>
 * NexmarkBench --query q3|q7 --bootstrap B --persons T --auctions T --bids T --output O --app-id A
 *              --inputs N --outputs M --label L [--store memory|rocksdb] [--commit-ms 1000] [--grace-ms 30000]
 * </pre>
 *
 * <ul>
 *   <li>q3: persons in OR, ID or CA and auctions in category 10, each filtered as a stream and
 *       turned into a table ({@code toTable}), joined with a foreign-key table-table join
 *       (auction.seller = person.id): a result whichever side arrives first, once per auction,
 *       as the spec's regular join.
 *   <li>q7: bids re-keyed by their 10 s tumbling window's start, repartitioned, a windowed
 *       aggregate keeping the highest price and every bid at it, {@code suppress(untilWindowCloses)},
 *       one record per such bid. The repartition topic's stream time is the maximum over its four
 *       upstream tasks, so windows get a grace (default 30 s) where tributary's watermark is the
 *       minimum over upstream partitions; and a finite input never closes the last windows, so
 *       once every bid is acknowledged on the repartition topic this process writes one record
 *       far past the data to each of its partitions (its windows are left out of the output).
 * </ul>
 *
 * JSON values are parsed whole ({@link FlatJson}), as tributary parses and validates each event.
 * Measured as {@link StreamsBench}: from the first input record processed until N inputs were
 * processed and M results acknowledged on the output topic (q3, a table: M auctions with a result
 * and every update sent acknowledged; {@code updates} counts them all); CPU of the whole JVM.
 */
public final class NexmarkBench {
  private static final String RESULT_PREFIX = "BENCH_RESULT ";
  private static final long WINDOW_MS = 10_000;
  private static final Set<String> Q3_STATES = Set.of("OR", "ID", "CA");
  private static final long Q3_CATEGORY = 10;

  private static final AtomicLong inputs = new AtomicLong();
  private static final AtomicLong maxTimestamp = new AtomicLong(Long.MIN_VALUE);
  private static volatile long targetInputs;
  private static volatile long targetOutputs;
  private static volatile long firstNanos;
  private static volatile double[] firstCpu;
  private static volatile long endNanos;
  private static volatile double[] endCpu;
  private static volatile long flushWindowStart = Long.MAX_VALUE;
  private static final AtomicBoolean flushing = new AtomicBoolean();
  private static volatile Runnable flush = () -> {};
  private static final CountDownLatch done = new CountDownLatch(1);
  /** q3: the auctions with a result so far, and every result record sent (a table's updates: an auction may get several). */
  private static final Set<String> resultKeys = ConcurrentHashMap.newKeySet();
  private static final AtomicLong sent = new AtomicLong();
  private static volatile boolean countKeys;

  public static void main(String[] argv) throws Exception {
    long startNanos = System.nanoTime();
    Args args = new Args(argv);
    String query = args.get("query");
    String output = args.get("output");
    String label = args.get("label");
    String appId = args.get("app-id");
    String bootstrap = args.get("bootstrap");
    targetInputs = args.getLong("inputs");
    targetOutputs = args.getLong("outputs");
    boolean inMemory = args.get("store", "memory").equals("memory");
    Path stateDir = Files.createTempDirectory("tributary-bench-nexmark-");
    AckCounter.outputTopic = output;
    AckCounter.onAck = NexmarkBench::check;

    StreamsBuilder builder = new StreamsBuilder();
    switch (query) {
      case "q3" -> {
        q3(builder, args.get("persons"), args.get("auctions"), output, inMemory);
        countKeys = true;
      }
      case "q7" -> {
        q7(builder, args.get("bids"), output, inMemory, args.getLong("grace-ms", 30_000));
        String repartition = appId + "-q7-by-window-repartition";
        AckCounter.watchedTopic = repartition;
        flush = () -> new Thread(() -> closeLastWindows(bootstrap, repartition, label), "flush").start();
      }
      default -> throw new IllegalArgumentException("unknown --query " + query + " (q3 or q7)");
    }

    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, args.getLong("commit-ms", 1000));
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
    double cpuUser = endCpu[0] - firstCpu[0];
    double cpuSys = endCpu[1] - firstCpu[1];
    double[] all = StreamsBench.cpu();
    System.out.println(RESULT_PREFIX + String.format(java.util.Locale.ROOT,
        "{\"label\":\"%s\",\"records\":%d,\"firstBatchRecords\":1,\"seconds\":%.6f,\"totalSeconds\":%.6f,\"cpuSeconds\":%.3f,"
            + "\"cpuUserSeconds\":%.3f,\"cpuSystemSeconds\":%.3f,\"processCpuSeconds\":%.3f,\"maxRssMiB\":%.1f,\"windowStartUs\":0,\"windowEndUs\":0,"
            + "\"extra\":{\"outputs\":%d,\"updates\":%d}}",
        label, inputs.get(), seconds, (endNanos - startNanos) / 1e9, cpuUser + cpuSys, cpuUser, cpuSys, all[0] + all[1], StreamsBench.maxRssMiB(), countKeys ? resultKeys.size() : AckCounter.acked.get(), AckCounter.acked.get()));
    System.out.flush();
    streams.close(Duration.ofSeconds(10));
    StreamsBench.deleteRecursively(stateDir);
    System.exit(0);
  }

  private static <T> KStream<String, T> counted(KStream<String, T> stream) {
    return stream.peek((k, v) -> {
      if (inputs.getAndIncrement() == 0) {
        firstCpu = StreamsBench.cpu();
        firstNanos = System.nanoTime();
      }
      check();
    });
  }

  private static Materialized<String, String, KeyValueStore<Bytes, byte[]>> table(String name, boolean inMemory) {
    return Materialized.<String, String>as(inMemory ? Stores.inMemoryKeyValueStore(name) : Stores.persistentKeyValueStore(name))
        .withKeySerde(Serdes.String())
        .withValueSerde(Serdes.String());
  }

  /** q3: local persons and category-10 auctions, each a table, joined by auction.seller = person.id. */
  private static void q3(StreamsBuilder builder, String personsTopic, String auctionsTopic, String output, boolean inMemory) {
    Consumed<String, String> consumed = Consumed.with(Serdes.String(), Serdes.String());
    // A person as name \0 city \0 state; an auction as seller \0 id.
    KTable<String, String> persons = counted(builder.stream(personsTopic, consumed))
        .mapValues(FlatJson::parse)
        .filter((id, p) -> Q3_STATES.contains((String) p.get("state")))
        .mapValues(p -> p.get("name") + "\0" + p.get("city") + "\0" + p.get("state"))
        .toTable(table("q3-persons", inMemory));
    KTable<String, String> auctions = counted(builder.stream(auctionsTopic, consumed))
        .mapValues(FlatJson::parse)
        .filter((id, a) -> ((Long) a.get("category")) == Q3_CATEGORY)
        .mapValues(a -> a.get("seller") + "\0" + a.get("id"))
        .toTable(table("q3-auctions", inMemory));
    auctions
        .join(persons, (String a) -> a.substring(0, a.indexOf('\0')), (a, p) -> {
          String[] person = p.split("\0", -1);
          return "{\"name\":" + FlatJson.quote(person[0]) + ",\"city\":" + FlatJson.quote(person[1]) + ",\"state\":" + FlatJson.quote(person[2])
              + ",\"auctionId\":" + a.substring(a.indexOf('\0') + 1) + "}";
        }, TableJoined.as("q3"), table("q3-results", inMemory))
        .toStream()
        .filter((id, row) -> row != null)
        .peek((id, row) -> {
          sent.incrementAndGet();
          resultKeys.add(id);
        })
        .to(output, Produced.with(Serdes.String(), Serdes.String()));
  }

  /** q7: per 10 s tumbling window, every bid at the window's highest price. */
  private static void q7(StreamsBuilder builder, String bidsTopic, String output, boolean inMemory, long graceMs) {
    Materialized<String, String, WindowStore<Bytes, byte[]>> store = Materialized
        .<String, String>as(inMemory
            ? Stores.inMemoryWindowStore("q7-highest", Duration.ofMillis(WINDOW_MS + graceMs), Duration.ofMillis(WINDOW_MS), false)
            : Stores.persistentTimestampedWindowStore("q7-highest", Duration.ofMillis(WINDOW_MS + graceMs), Duration.ofMillis(WINDOW_MS), false))
        .withKeySerde(Serdes.String())
        .withValueSerde(Serdes.String());
    // A bid as "price,auction,bidder,dateTime"; the aggregate as "maxPrice;bid;bid;...".
    counted(builder.stream(bidsTopic, Consumed.with(Serdes.String(), Serdes.String())))
        .map((auction, json) -> {
          Map<String, Object> b = FlatJson.parse(json);
          long ts = (Long) b.get("dateTime");
          maxTimestamp.accumulateAndGet(ts, Math::max);
          return KeyValue.pair(Long.toString(ts - Math.floorMod(ts, WINDOW_MS)), b.get("price") + "," + b.get("auction") + "," + b.get("bidder") + "," + ts);
        })
        .groupByKey(Grouped.with("q7-by-window", Serdes.String(), Serdes.String()))
        .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofMillis(WINDOW_MS), Duration.ofMillis(graceMs)))
        .aggregate(() -> "", (window, bid, agg) -> {
          long price = Long.parseLong(bid.substring(0, bid.indexOf(',')));
          if (agg.isEmpty()) return price + ";" + bid;
          long max = Long.parseLong(agg.substring(0, agg.indexOf(';')));
          if (price > max) return price + ";" + bid;
          if (price == max) return agg + ";" + bid;
          return agg;
        }, store)
        .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
        .toStream()
        .filter((window, agg) -> window.window().start() < flushWindowStart)
        .flatMap((window, agg) -> {
          String[] parts = agg.split(";");
          List<KeyValue<String, String>> rows = new ArrayList<>(parts.length - 1);
          for (int i = 1; i < parts.length; i++) {
            String[] f = parts[i].split(",");
            rows.add(KeyValue.pair(null, "{\"windowStart\":" + window.window().start() + ",\"windowEnd\":" + window.window().end() + ",\"auction\":" + f[1]
                + ",\"bidder\":" + f[2] + ",\"price\":" + f[0] + ",\"dateTime\":" + f[3] + "}"));
          }
          return rows;
        })
        .to(output, Produced.with(Serdes.String(), Serdes.String()));
  }

  /**
   * Once every bid is on the repartition topic: one record a day past the data to each of its
   * partitions, so that stream time passes every window's end plus grace and suppress emits them.
   */
  private static void closeLastWindows(String bootstrap, String topic, String label) {
    long ts = maxTimestamp.get() + 86_400_000L;
    long windowStart = ts - Math.floorMod(ts, WINDOW_MS);
    flushWindowStart = windowStart;
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
      int partitions = producer.partitionsFor(topic).size();
      for (int p = 0; p < partitions; p++) {
        producer.send(new ProducerRecord<>(topic, p, ts, Long.toString(windowStart), "-1,-1,-1," + ts));
      }
      producer.flush();
      System.err.printf("%s: wrote one record at %d to each of the %d partitions of %s (closes the last windows)%n", label, ts, partitions, topic);
    }
  }

  private static synchronized void check() {
    if (endCpu != null) return;
    if (inputs.get() >= targetInputs && AckCounter.watchedAcked.get() >= targetInputs && !AckCounter.watchedTopic.isEmpty() && flushing.compareAndSet(false, true)) {
      flush.run();
    }
    // q3's output is a table's changelog: done once every auction has a result and every record sent is acknowledged.
    boolean outputsDone = countKeys ? resultKeys.size() >= targetOutputs && AckCounter.acked.get() >= sent.get() : AckCounter.acked.get() >= targetOutputs;
    if (inputs.get() >= targetInputs && outputsDone) {
      endNanos = System.nanoTime();
      endCpu = StreamsBench.cpu();
      done.countDown();
    }
  }
}
