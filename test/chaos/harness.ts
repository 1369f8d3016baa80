// The chaos harness: its own Kafka broker and nats-server, N worker processes, a producer at a
// fixed rate, the seeded fault schedule, then the verifier over everything the run wrote.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { NatsCut } from './nats-cut.js';
import { startKafkaBroker, startNatsServer, runDir as servicesRunDir, type KafkaBrokerHandle, type NatsServerHandle } from '../../scripts/services/index.js';
import { KafkaConnector } from '../../src/connectors/kafka/index.js';
import { createLogger } from '../../src/observability/logger.js';
import { attribute } from './attribute.js';
import type { FaultRecord } from './fault-record.js';
import { LIVE_SUBJECT, Topics, type CountSettings } from './count-topology.js';
import { waitDrained } from './drained.js';
import { inject, type FaultContext } from './faults.js';
import { InputGenerator } from './input.js';
import type { RunServices } from './run-services.js';
import type { Profile } from './profiles.js';
import { InputProducer } from './producer.js';
import { readTopics } from '../../examples/shared/read-topics.js';
import { describeFault, planSchedule, type Fault, type FaultKind } from './schedule.js';
import { verify, type Verification } from './verifier.js';
import { verifyTotals } from './totals-verifier.js';
import { FraudInput } from './fraud-input.js';
import { FRAUD_BOUND_MS, FRAUD_HISTORY_TTL_MS, FraudTopics } from './fraud-topology.js';
import { verifyFraud, type FraudVerification } from './fraud-verifier.js';
import { WorkerPool, type UnexpectedExit } from './worker-pool.js';
import type { WorkerConfig } from './worker.js';
import type { WorkerMessage } from './worker-protocol.js';

export interface RunOptions {
  readonly profile: Profile;
  readonly seed: number;
  /** Progress lines (stderr). */
  readonly progress: (line: string) => void;
  /** Keep the broker's and workers' directories after the run. Default: only on failure. */
  readonly keep?: boolean;
  /** Only these fault classes (the schedule is planned in full, then filtered: same parameters as the full run). */
  readonly only?: readonly FaultKind[];
  /**
   * The workers' processors with `guarantee: 'exactly-once'`; the run then fails on any duplicate
   * result, late record, dead letter or alert (at-least-once allows identical re-emissions).
   */
  readonly exactlyOnce?: boolean;
}

export type { FaultRecord } from './fault-record.js';

export interface ChaosReport {
  readonly profile: Profile['name'];
  readonly seed: number;
  readonly startedAt: string;
  readonly wallMs: number;
  readonly runDir: string;
  readonly faults: FaultRecord[];
  readonly verification: Verification | undefined;
  readonly fraudVerification: FraudVerification | undefined;
  readonly producer: { readonly acked: number; readonly retries: number };
  readonly fraudProducer: { readonly acked: number; readonly retries: number } | undefined;
  readonly liveResults: number;
  readonly unexpectedExits: UnexpectedExit[];
  readonly peakRssMb: Record<string, number>;
  /** Every reason the run failed; empty: it passed. */
  readonly failures: string[];
  readonly verdict: 'PASS' | 'FAIL';
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function runChaos(options: RunOptions): Promise<ChaosReport> {
  const { profile, seed } = options;
  const startedAt = Date.now();
  const stamp = new Date(startedAt).toISOString().replace(/[:.]/g, '-');
  const runDir = join(servicesRunDir(), 'chaos', `${stamp}-${profile.name}-seed${seed}`);
  mkdirSync(runDir, { recursive: true });
  const harnessLog = join(runDir, 'harness.log');
  const rel = (): string => `${((Date.now() - startedAt) / 1000).toFixed(1).padStart(6)}s`;
  const say = (line: string): void => {
    const text = `[chaos ${rel()}] ${line}`;
    appendFileSync(harnessLog, `${text}\n`);
    options.progress(text);
  };
  const failures: string[] = [];
  const faults: FaultRecord[] = [];
  let broker: KafkaBrokerHandle | undefined;
  let nats: NatsServerHandle | undefined;
  let pool: WorkerPool | undefined;
  let producer: InputProducer | undefined;
  let watcher: NatsConnection | undefined;
  const natsCuts = new Map<string, NatsCut>();
  let verification: Verification | undefined;
  let liveResults = 0;
  const outs: Array<{ at: number; maxWs: number }> = [];
  const failuresAt: number[] = [];

  const fraud = profile.fraudRatePerSec > 0;
  let fraudProducer: InputProducer | undefined;
  let fraudVerification: FraudVerification | undefined;
  say(`profile ${profile.name}, seed ${seed}, run dir ${runDir}`);
  try {
    // 1. Services of our own, so that we can kill them.
    [broker, nats] = await Promise.all([
      startBroker(say),
      // JetStream: the fraud thresholds are a broadcast in a KV bucket.
      startNatsServer({ name: 'chaos', jetstream: true, log: (line) => say(line) }),
    ]);
    const brokers = [...broker.brokers];
    // For test/chaos/inspect.ts: where the broker's data (kept when the run fails) and ports are.
    const services: RunServices = { brokerDir: broker.dir, brokerPort: broker.port, controllerPort: broker.controllerPort, natsUrl: nats.url };
    writeFileSync(join(runDir, 'services.json'), `${JSON.stringify(services, null, 2)}\n`);
    const quiet = createLogger({ level: 'silent' });
    const log = new KafkaConnector({ brokers, clientId: 'chaos-harness', connectionTimeoutMs: 3_000, requestTimeoutMs: 15_000 }, quiet);
    const admin = log.admin();
    await admin.ensureTopics([
      { name: Topics.input, partitions: profile.inputPartitions },
      { name: Topics.repartition, partitions: profile.repartitionPartitions },
      { name: Topics.counts, partitions: 3 },
      { name: Topics.totals, partitions: 3 },
      { name: Topics.late, partitions: 1 },
      { name: Topics.dlq, partitions: 1 },
      { name: Topics.stageDlq, partitions: 1 },
      ...(fraud
        ? [
            { name: FraudTopics.input, partitions: profile.inputPartitions },
            { name: FraudTopics.alerts, partitions: 3 },
            { name: FraudTopics.late, partitions: 1 },
            { name: FraudTopics.dlq, partitions: 1 },
          ]
        : []),
    ]);
    await admin.close();

    watcher = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    watcher.subscribe(LIVE_SUBJECT, { callback: () => void liveResults++ });

    // 2. Workers.
    const settings: CountSettings = {
      inputPartitions: profile.inputPartitions,
      repartitionPartitions: profile.repartitionPartitions,
      windowMs: profile.windowMs,
      boundMs: profile.boundMs,
      maxRecordBytes: profile.maxRecordBytes,
    };
    const natsUrl = nats.url;
    const base = Array.from({ length: profile.workers }, (_, i) => `w${i + 1}`);
    // The base workers' cluster connections go through relays that `worker-nats-cut` cuts.
    for (const id of base) natsCuts.set(id, await NatsCut.open(natsUrl));
    const workerConfig = (id: string): WorkerConfig => ({
      id,
      brokers,
      natsUrl,
      clusterNatsUrl: natsCuts.get(id)?.url ?? natsUrl,
      seed,
      settings,
      fraud,
      exactlyOnce: options.exactlyOnce ?? false,
      logLevel: process.env.TRIBUTARY_LOG_LEVEL ?? 'info',
    });
    const onMessage = (worker: string, message: WorkerMessage): void => {
      if (message.type === 'out') outs.push({ at: Date.now(), maxWs: message.maxWs });
      else if (message.type === 'lifecycle') {
        failuresAt.push(Date.now());
        appendFileSync(harnessLog, `[chaos ${rel()}] ${worker}: ${message.event} ${message.processor}/${message.partition}: ${message.error}\n`);
      }
    };
    pool = new WorkerPool({ runDir, config: workerConfig, onMessage, livenessMs: profile.livenessMs, log: say });
    pool.startSampling();
    await Promise.all(base.map((id) => pool!.add(id)));
    say(`${base.length} workers ready`);

    // 3. Input.
    const generator = new InputGenerator({
      seed,
      keys: profile.keys,
      groups: profile.groups,
      ratePerSec: profile.ratePerSec,
      boundMs: profile.boundMs,
      t0: Math.floor(Date.now() / 60_000) * 60_000,
      inputPartitions: profile.inputPartitions,
    });
    producer = new InputProducer(log.producer(), generator, Topics.input);
    producer.start();
    if (fraud) {
      // Enough transactions for the planned run (the producer stops when they run out).
      const plannedS = profile.mode === 'once' ? 400 : profile.durationMs / 1000 + 300;
      const fraudInput = new FraudInput({ seed, ratePerSec: profile.fraudRatePerSec, records: Math.ceil(plannedS * profile.fraudRatePerSec), inputPartitions: profile.inputPartitions });
      fraudProducer = new InputProducer(log.producer(), fraudInput, FraudTopics.input);
      fraudProducer.start();
    }

    // 4. Faults.
    const schedule = planSchedule({ seed, workers: base, mode: profile.mode, kafkaDownMs: profile.kafkaDownMs }).filter(
      (f) => options.only === undefined || options.only.includes(f.kind),
    );
    const context: FaultContext = { broker, nats, pool, producer, say, natsCuts };
    const windowAfter = (frontier: number): number => Math.floor(frontier / profile.windowMs) * profile.windowMs + profile.windowMs;
    const firstOutput = (since: number, threshold: number): number | undefined => outs.find((o) => o.at >= since && o.maxWs >= threshold)?.at;
    const waitForOutput = async (since: number, threshold: number, boundMs: number): Promise<number | undefined> => {
      const deadline = Date.now() + boundMs;
      for (;;) {
        const at = firstOutput(since, threshold);
        if (at !== undefined || Date.now() > deadline) return at;
        await sleep(100);
      }
    };
    /** A fault's row as it starts: injected now, at the producer's current frontier, nothing counted yet. */
    const newFaultRecord = (index: number, kind: FaultRecord['kind'], detail: string, fault: Fault | undefined): FaultRecord => ({
      index,
      kind,
      detail,
      fault,
      injectedAt: Date.now() - startedAt,
      durationMs: 0,
      recoveredAfterMs: null,
      stableAfterMs: null,
      frontierAtInjection: producer!.frontier,
      partitionFailures: 0,
      peakRssMb: 0,
      lost: 0,
      duplicates: 0,
      duplicateAlerts: 0,
      orderViolations: 0,
      violations: 0,
      workerExits: [],
    });
    const runOne = async (index: number, kind: FaultRecord['kind'], fault: Fault | undefined): Promise<void> => {
      const record = newFaultRecord(index, kind, fault ? describeFault(fault) : kind === 'baseline' ? 'no fault: the pipeline as it runs' : '', fault);
      faults.push(record);
      const injected = Date.now();
      const threshold = windowAfter(producer!.frontier);
      say(`fault ${index}: ${kind} (${record.detail})`);
      try {
        if (fault) await inject(fault, context);
      } catch (err) {
        record.error = err instanceof Error ? err.message : String(err);
        failures.push(`fault ${index} (${kind}) could not be injected: ${record.error}`);
        say(`fault ${index}: injection failed: ${record.error}`);
      }
      const healed = Date.now();
      record.durationMs = healed - injected;
      const healThreshold = windowAfter(producer!.frontier);
      const recoveredAt = await waitForOutput(injected, threshold, Math.max(0, healed + profile.recoveryBoundMs - Date.now()));
      const stableAt = recoveredAt === undefined ? undefined : await waitForOutput(healed, healThreshold, Math.max(0, healed + profile.recoveryBoundMs - Date.now()));
      record.recoveredAfterMs = recoveredAt === undefined ? null : recoveredAt - injected;
      record.stableAfterMs = stableAt === undefined ? null : Math.max(0, stableAt - healed);
      if (recoveredAt === undefined || stableAt === undefined) {
        failures.push(`fault ${index} (${kind}): no output covering the input produced after it within ${profile.recoveryBoundMs} ms of its end`);
        say(`fault ${index}: NOT RECOVERED within ${profile.recoveryBoundMs} ms`);
        await pool!.ensureAllRunning().catch((err: unknown) => say(`could not restart the workers: ${String(err)}`));
      } else {
        say(`fault ${index}: recovered after ${record.recoveredAfterMs} ms (output after its end in ${record.stableAfterMs} ms)`);
      }
      await sleep(profile.settleMs);
    };

    await sleep(profile.warmupMs);
    await runOne(0, 'baseline', undefined);
    const deadline = startedAt + profile.durationMs;
    for (let i = 0; i < schedule.length; i++) {
      if (profile.mode === 'cycle' && Date.now() > deadline) break;
      await runOne(i + 1, schedule[i].kind, schedule[i]);
    }

    // 5. Drain: every worker up, the input ended by a flush record per partition, outputs caught up.
    const drain = newFaultRecord(faults.length, 'drain', 'end of input: flush, wait for every window', undefined);
    faults.push(drain);
    say('draining: all workers up, end of input');
    const drainStart = Date.now();
    await pool.ensureAllRunning();
    producer.stopGenerating();
    fraudProducer?.stopGenerating();
    await producer.flush(profile.inputPartitions, producer.frontier + 60_000, profile.drainTimeoutMs);
    // A day after the last transaction: every card's history expires, every hold is released.
    await fraudProducer?.flush(profile.inputPartitions, fraudProducer.frontier + FRAUD_HISTORY_TTL_MS + 3_600_000, profile.drainTimeoutMs);
    const drained = await waitDrained(log, fraud, profile.drainTimeoutMs - (Date.now() - drainStart), say);
    drain.durationMs = Date.now() - drainStart;
    drain.recoveredAfterMs = drained ? drain.durationMs : null;
    if (!drained) failures.push(`the outputs did not catch up with the input within ${profile.drainTimeoutMs} ms after the last fault`);
    say(drained ? `drained in ${drain.durationMs} ms` : 'NOT DRAINED');

    // 6. Verify.
    say('reading the outputs');
    const fraudTopics = fraud ? [FraudTopics.input, FraudTopics.alerts, FraudTopics.late, FraudTopics.dlq] : [];
    const topics = await readTopics(log, [Topics.input, Topics.counts, Topics.late, Topics.dlq, Topics.stageDlq, Topics.repartition, Topics.totals, ...fraudTopics], { timeoutMs: 180_000 });
    verification = verify({
      windowMs: profile.windowMs,
      boundMs: profile.boundMs,
      input: topics.get(Topics.input)!,
      counts: topics.get(Topics.counts)!,
      late: topics.get(Topics.late)!,
      dlq: topics.get(Topics.dlq)!,
      stageDlq: topics.get(Topics.stageDlq)!,
      repartition: topics.get(Topics.repartition)!,
    });
    say(`verified the count: ${JSON.stringify(verification.summary)}`);
    if (fraud) {
      fraudVerification = verifyFraud({
        boundMs: FRAUD_BOUND_MS,
        input: topics.get(FraudTopics.input)!,
        alerts: topics.get(FraudTopics.alerts)!,
        late: topics.get(FraudTopics.late)!,
        dlq: topics.get(FraudTopics.dlq)!,
      });
      say(`verified the fraud app: ${JSON.stringify(fraudVerification.summary)}`);
    }
    const totals = verifyTotals({ counts: topics.get(Topics.counts)!, late: topics.get(Topics.late)!, totals: topics.get(Topics.totals)! });
    say(`verified the group totals: ${JSON.stringify(totals.summary)}`);
    const all = [...verification.violations, ...totals.violations, ...(fraudVerification?.violations ?? [])];
    for (const v of all.slice(0, 50)) say(`VIOLATION ${v.kind}: ${v.detail}`);
    if (all.length > 0) {
      const byKind = new Map<string, number>();
      for (const v of all) byKind.set(v.kind, (byKind.get(v.kind) ?? 0) + 1);
      failures.push(`${all.length} invariant violations: ${[...byKind].map(([k, n]) => `${k} ${n}`).join(', ')}`);
    }
    if (options.exactlyOnce) {
      const duplicates = verification.duplicates.length + (fraudVerification?.duplicates.length ?? 0);
      if (duplicates > 0) failures.push(`exactly-once: ${duplicates} duplicates (${verification.duplicates.length} of the count, ${fraudVerification?.duplicates.length ?? 0} of the fraud app); there must be none`);
      say(`exactly-once: ${duplicates} duplicates`);
    }
  } catch (err) {
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    failures.push(`the harness failed: ${message}`);
    say(`harness error: ${message}`);
  } finally {
    say('stopping');
    await producer?.close().catch(() => undefined);
    await fraudProducer?.close().catch(() => undefined);
    await pool?.close().catch(() => undefined);
    for (const relay of natsCuts.values()) await relay.close().catch(() => undefined);
    await watcher?.close().catch(() => undefined);
    await nats?.stop().catch(() => undefined);
    await broker?.stop().catch(() => undefined);
  }

  // Attribute what the verifier and the samplers found to the fault during which it happened.
  const rssByWorker: Record<string, number> = {};
  for (const s of pool?.rss ?? []) rssByWorker[s.worker] = Math.max(rssByWorker[s.worker] ?? 0, s.kb / 1024);
  for (const [worker, mb] of Object.entries(rssByWorker)) {
    if (mb > profile.rssBoundMb) failures.push(`worker ${worker} peaked at ${mb.toFixed(0)} MiB RSS, above the ${profile.rssBoundMb} MiB bound`);
  }
  const exits = pool?.unexpectedExits ?? [];
  for (const exit of exits) {
    if (exit.kind === 'crash') failures.push(`worker ${exit.worker} crashed (exit code ${exit.code}, signal ${exit.signal}); log ${exit.logFile}`);
  }
  attribute(faults, startedAt, {
    verification,
    fraudVerification,
    countHistory: producer?.history ?? [],
    fraudHistory: fraudProducer?.history ?? [],
    rss: pool?.rss ?? [],
    failuresAt,
    exits,
  });

  const failed = failures.length > 0;
  if (!failed && !options.keep) {
    await broker?.destroy().catch(() => undefined);
    await nats?.destroy().catch(() => undefined);
  }
  return {
    profile: profile.name,
    seed,
    startedAt: new Date(startedAt).toISOString(),
    wallMs: Date.now() - startedAt,
    runDir,
    faults,
    verification,
    fraudVerification,
    producer: { acked: producer?.acked ?? 0, retries: producer?.retries ?? 0 },
    fraudProducer: fraudProducer ? { acked: fraudProducer.acked, retries: fraudProducer.retries } : undefined,
    liveResults,
    unexpectedExits: exits,
    peakRssMb: Object.fromEntries(Object.entries(rssByWorker).map(([w, mb]) => [w, Math.round(mb)])),
    failures,
    verdict: failed ? 'FAIL' : 'PASS',
  };
}

/**
 * Starts the run's broker, trying up to 3 times: formatting its storage fails now and then (a
 * random cluster id that starts with '-' reads as an option to kafka-storage), which is no
 * reason to fail a chaos run.
 */
async function startBroker(say: (line: string) => void): Promise<KafkaBrokerHandle> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startKafkaBroker({
        name: 'chaos',
        log: (line) => say(line),
        properties: { 'log.retention.ms': -1, 'group.min.session.timeout.ms': 1_000 },
      });
    } catch (err) {
      if (attempt >= 3) throw err;
      say(`starting the broker failed (attempt ${attempt}), trying again: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    }
  }
}
