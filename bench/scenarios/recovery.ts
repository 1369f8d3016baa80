/**
 * Scenario `recovery` (issue 9, item 6): two workers in one consumer group, `kill -9` of one;
 * how long until its partitions' output resumes on the other, and until their lag is back to
 * what it was, against two Kafka Streams instances of one application id. Goal: resume < 5 s.
 *
 * Each round runs Kafka Streams, then tributary; each run:
 * 1. a fresh input topic (P partitions, default 12) and output topic, the output with
 *    `message.timestamp.type=LogAppendTime` (a result's timestamp is when the broker appended
 *    it); a watcher (bench/recovery/output-watcher.ts) reads the output from the start;
 * 2. worker `a` starts and takes every partition, then worker `b` joins; once each owns some and
 *    the assignment has not changed for 1 s, the anchors' Java loader produces the keyed data set
 *    at R records/s (default 3,000), timestamped when sent;
 * 3. the stateless pipeline (the `stateless` scenario's filter, each kept record written as
 *    `{ key, bytes, ts, p, o, w }`: input timestamp, partition, offset, worker);
 * 4. 6 s after the first result, one worker is killed with SIGKILL (`b` in odd rounds, `a` in
 *    even ones): no leave-group request, so the broker notices only when its session expires;
 * 5. the run ends when the loader is done and every kept input record has a result.
 *
 * A third run, `tributary-eviction`, is tributary with its workers in a NATS cluster that evicts
 * the killed worker from the group once it is declared down (2 s), instead of waiting for its
 * session.
 *
 * Two more runs have state (issue 18, part 3): `tributary-state` is `tributary-eviction` with a
 * stateful pipeline (every record updates its key's entry in a store on LMDB, and a kept record's
 * result is written from it), its state seeded before the run with S keys per partition
 * (`TRIBUTARY_BENCH_STATE_KEYS`, default 100,000; records the filter drops, produced and
 * processed by worker `a` before `b` joins); `tributary-standby` is the same with
 * `standbyReplicas: 1`, and waits, before the load, until each worker's standbys have caught up.
 * The survivor's restores of the killed worker's partitions are reported (changelog records read,
 * entries taken from local copies). `TRIBUTARY_BENCH_RECOVERY_RUNS` (comma-separated) picks runs.
 *
 * Both sides use the broker's minimum session timeout (`group.min.session.timeout.ms`, 6 s) and
 * heartbeats every 500 ms; both commit every second. Figures: bench/recovery/analysis.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { ensureAnchors, loadTopic, type Anchors } from '../lib/anchors.js';
import { connectBroker, type Broker } from '../lib/broker.js';
import { dataSet, expectedKept, keep, type DataSetSpec } from '../lib/dataset.js';
import { fmtInt } from '../lib/format.js';
import { benchTopic, cleanup, createTopics, interleaved, type RunSpec } from '../lib/runs.js';
import { recoveryFigures } from '../recovery/analysis.js';
import { OutputWatcher } from '../recovery/output-watcher.js';
import { WorkerProcess } from '../recovery/worker-process.js';
import { compare, failed, measurement, type Measurement, type Scenario, type ScenarioOptions } from '../scenario.js';

const DEFAULT_PARTITIONS = 12;
const DEFAULT_ROUNDS = 2;
const DEFAULT_RATE = 3_000;
const DEFAULT_SECONDS = 20;
/** First result → the kill. */
const WARMUP_MS = 6_000;
/** The baseline leaves out the first results (JIT, first fetches). */
const BASELINE_SKIP_MS = 2_000;
/** Kafka's `group.min.session.timeout.ms` default: the shortest session the broker accepts. */
const SESSION_TIMEOUT_MS = 6_000;
const HEARTBEAT_MS = 500;
const LAG_FACTOR = 1.5;
const STAY_MS = 1_000;
const KEYS = 10_000;
/** Keys of state per partition the stateful runs are seeded with. */
const STATE_KEYS = Number(process.env.TRIBUTARY_BENCH_STATE_KEYS ?? 100_000);

/** `tributary-eviction`: the tributary workers are also a cluster on NATS (default timings), which evicts the killed one. */
type System = 'tributary' | 'tributary-eviction' | 'tributary-state' | 'tributary-standby' | 'kafka-streams' | 'kafka-streams-state' | 'kafka-streams-standby';

const NATS_URL = process.env.TRIBUTARY_NATS_URL ?? 'nats://127.0.0.1:4222';

interface Context {
  readonly broker: Broker;
  readonly anchors: Anchors;
  readonly partitions: number;
  readonly rate: number;
  readonly data: DataSetSpec;
  readonly outputs: number;
  readonly created: string[];
  readonly groups: string[];
  readonly log: (line: string) => void;
}

export const recovery: Scenario = {
  name: 'recovery',
  description: 'two workers, kill -9 of one: time until its partitions\' output resumes and until their lag is back to baseline, tributary vs Kafka Streams',
  async run(options: ScenarioOptions) {
    const partitions = options.partitions ?? DEFAULT_PARTITIONS;
    const rounds = options.rounds ?? DEFAULT_ROUNDS;
    const rate = options.rate ?? DEFAULT_RATE;
    const records = options.records ?? rate * DEFAULT_SECONDS;
    const { log } = options;
    if (records / rate < WARMUP_MS / 1000 + 12) {
      throw new Error(`recovery needs at least ${WARMUP_MS / 1000 + 12} s of input (${fmtInt(records)} records at ${fmtInt(rate)}/s is ${(records / rate).toFixed(1)} s): raise --records or lower --rate`);
    }
    if (partitions < 2) throw new Error('recovery needs at least 2 partitions (one for each worker)');
    const data = dataSet(records, KEYS);
    const outputs = expectedKept(data);
    const broker = await connectBroker(log);
    const anchors = await ensureAnchors(log);
    const ctx: Context = { broker, anchors, partitions, rate, data, outputs, created: [], groups: [], log };
    log(`recovery: ${fmtInt(records)} records at ${fmtInt(rate)} records/s (${(records / rate).toFixed(0)} s) per run, ${partitions} partitions, kill ${WARMUP_MS / 1000} s after the first result`);
    try {
      const specs: RunSpec[] = [
        { name: 'kafka-streams', kind: 'anchor', run: (round) => measured(ctx, 'kafka-streams', round) },
        { name: 'kafka-streams-state', kind: 'anchor', run: (round) => measured(ctx, 'kafka-streams-state', round) },
        { name: 'kafka-streams-standby', kind: 'anchor', run: (round) => measured(ctx, 'kafka-streams-standby', round) },
        { name: 'tributary', kind: 'tributary', run: (round) => measured(ctx, 'tributary', round) },
        { name: 'tributary-eviction', kind: 'tributary', run: (round) => measured(ctx, 'tributary-eviction', round) },
        { name: 'tributary-state', kind: 'tributary', run: (round) => measured(ctx, 'tributary-state', round) },
        { name: 'tributary-standby', kind: 'tributary', run: (round) => measured(ctx, 'tributary-standby', round) },
      ];
      const picked = process.env.TRIBUTARY_BENCH_RECOVERY_RUNS?.split(',').map((r) => r.trim());
      const selected = specs.filter((s) => (!options.onlyTributary || s.kind === 'tributary') && (!picked || picked.includes(s.name)));
      const { anchors: anchorRuns, tributary } = await interleaved(selected, rounds, log, async () => broker.checkSame());
      const comparedWith: Record<string, string> = options.onlyTributary ? {} : { 'kafka-streams': 'tributary', 'kafka-streams-state': 'tributary-state', 'kafka-streams-standby': 'tributary-standby' };
      const { ratios, cpuRatios } = compare(tributary, anchorRuns, comparedWith);
      const figure = (m: Measurement | undefined, key: string): number | undefined => (typeof m?.details?.[key] === 'number' ? m.details[key] : undefined);
      const extra: Record<string, number> = {};
      for (const key of ['resumeMs', 'lagRecoveredMs']) {
        const t = figure(tributary.tributary, key);
        const a = figure(anchorRuns['kafka-streams'], key);
        if (t !== undefined && a) extra[key] = t / a;
        const e = figure(tributary['tributary-eviction'], key);
        if (e !== undefined && a) extra[`${key}.eviction`] = e / a;
        for (const variant of ['state', 'standby']) {
          const v = figure(tributary[`tributary-${variant}`], key);
          const k = figure(anchorRuns[`kafka-streams-${variant}`], key);
          if (v !== undefined && k) extra[`${key}.${variant}`] = v / k;
        }
      }
      const extraRatios: Record<string, Record<string, number>> = Object.keys(extra).length > 0 ? { 'kafka-streams': extra } : {};
      return {
        name: 'recovery',
        description: recovery.description,
        params: { rate, records, partitions, rounds, sessionTimeoutMs: SESSION_TIMEOUT_MS, heartbeatMs: HEARTBEAT_MS, warmupMs: WARMUP_MS, results: outputs, brokerPid: broker.pid ?? null, stateKeysPerPartition: STATE_KEYS },
        tributary,
        anchors: anchorRuns,
        comparedWith,
        ratios,
        cpuRatios,
        extraRatios,
        columns: [
          { key: 'reassignedMs', label: 'reassigned ms', digits: 0 },
          { key: 'resumeMs', label: 'resume ms', digits: 0 },
          { key: 'lagRecoveredMs', label: 'lag back ms', digits: 0 },
          { key: 'baselineP99Ms', label: 'lag p99 before ms', digits: 0 },
          { key: 'peakLagMs', label: 'peak lag ms', digits: 0 },
          { key: 'replayed', label: 'replayed', digits: 0 },
          { key: 'restoreRecords', label: 'restore changelog records', digits: 0 },
          { key: 'restoreLocal', label: 'restore local entries', digits: 0 },
          { key: 'restoreMs', label: 'restore ms (max)', digits: 0 },
        ],
        notes: [
          `input: ${fmtInt(records)} keyed records per run produced live by the anchors' Java loader at ${fmtInt(rate)} records/s (acks=1, linger.ms 5, timestamp = send time) into ${partitions} partitions; the stateless filter keeps ${fmtInt(outputs)}, each written as { key, bytes, ts, p, o, w } (input timestamp, partition, offset, worker) to an output topic with LogAppendTime timestamps`,
          `two workers in one group (tributary: one consumer group; Kafka Streams: one application.id, one stream thread each, at_least_once), session timeout ${SESSION_TIMEOUT_MS} ms (the broker's group.min.session.timeout.ms) and heartbeats every ${HEARTBEAT_MS} ms on both sides, commits every 1 s on both sides; worker a starts first, b joins; ${WARMUP_MS / 1000} s after the first result one is killed with SIGKILL (b in odd rounds, a in even ones): no leave-group, so the group coordinator notices only when the session expires`,
          `reassigned = kill → the survivor reports the killed worker's partitions as running (tributary: partition.started; Kafka Streams: active tasks, polled every 20 ms); resume = kill → the broker appended the survivor's first result for one of them; lag = t − the newest input timestamp among a partition's results appended by t, of the killed worker's partition furthest behind (sampled every 10 ms); "lag p99 before" = its 99th percentile from ${BASELINE_SKIP_MS / 1000} s after the first result to the kill; lag back = kill → the lag is within ${LAG_FACTOR} × that p99 and stays there ${STAY_MS / 1000} s; replayed = results written again for an input record that had one (the survivor replays from the last commit)`,
          `records/s is the offered rate; CPU-s = both workers' CPU (/proc/<pid>/stat) from the loader's start to the kill (the killed one) or to the last result (the survivor); ${rounds} round(s), each figure the median over the rounds`,
          `tributary-eviction: the same tributary workers, also a cluster on NATS (${NATS_URL}) with the default membership timings (heartbeat 250 ms, down after 2 s) and eviction: the survivor declares the killed worker down and removes its group member (LeaveGroup), so the rebalance starts then, not when the session expires`,
          `tributary-state / tributary-standby: tributary-eviction with a stateful pipeline (each record updates its key's entry { n, ts, p, o, bytes } in a store on LMDB; a kept record's result is written from it), seeded before the load with ${fmtInt(STATE_KEYS)} keys per partition (records the filter drops, processed by worker a before b joins); tributary-standby adds standbyReplicas: 1 and starts the load once every standby has caught up. restore = the survivor's restores of the killed worker's partitions: changelog records read (summed), entries taken from its local copies (summed), the longest restore. kafka-streams-state / kafka-streams-standby: the anchor's stateful variant (RecoveryWorker --state: the same entry per key in a persistent RocksDB store, changelogged), seeded the same way, with num.standby.replicas 0 / 1 and acceptable.recovery.lag unbounded (a joining instance gets its active tasks at once, as tributary's does); their restore records are what its restore listener reports`,
          `without eviction neither system can resume much sooner than the session timeout (${SESSION_TIMEOUT_MS / 1000} s, less up to one heartbeat interval: it runs from the dead member's last heartbeat): the group coordinator notices the dead member only when its session expires; the goal (< 5 s) would need a broker with a lower group.min.session.timeout.ms. resume − reassigned is what each system adds once it has the partitions`,
        ],
      };
    } finally {
      await cleanup(broker, ctx.created, ctx.groups, log);
      await broker.close();
    }
  },
};

async function measured(ctx: Context, system: System, round: number): Promise<Measurement> {
  try {
    const m = await recoveryRun(ctx, system, round);
    const d = m.details ?? {};
    ctx.log(`${system}: reassigned after ${String(d.reassignedMs)} ms, output resumed after ${String(d.resumeMs)} ms, lag back within ${Number(d.thresholdMs).toFixed(0)} ms after ${String(d.lagRecoveredMs)} ms (peak ${String(d.peakLagMs)} ms, ${String(d.replayed)} results replayed)`);
    return m;
  } catch (err) {
    ctx.log(`${system}: FAILED: ${(err as Error).message}`);
    return failed(err);
  }
}

/** Waits until `done()`, checking every 20 ms that nothing failed meanwhile (`check` throws then). */
async function waitFor(what: string | (() => string), done: () => boolean, timeoutMs: number, check: () => void): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    check();
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${typeof what === 'string' ? what : what()}`);
    await sleep(20);
  }
}

async function recoveryRun(ctx: Context, system: System, round: number): Promise<Measurement> {
  const { broker, anchors, partitions, rate, data, outputs, log } = ctx;
  const started = performance.now();
  const topic = benchTopic('recovery');
  const output = `${topic}-out`;
  const group = `${topic}-${system}`;
  ctx.created.push(topic, output, `${topic}.dlq`);
  ctx.groups.push(group, `${output}-watcher`);
  await createTopics(broker, [{ topic, partitions }]);
  await broker.admin.createTopics({
    topics: [{ topic: output, numPartitions: partitions, configEntries: [{ name: 'retention.ms', value: '-1' }, { name: 'message.timestamp.type', value: 'LogAppendTime' }] }],
    waitForLeaders: true,
  });
  const watcher = new OutputWatcher(broker.brokers, output, `${output}-watcher`);
  const workers: WorkerProcess[] = [];
  const stateDirs: string[] = [];
  const stateful = system.endsWith('-state') || system.endsWith('-standby');
  const standbys = system.endsWith('-standby') ? 1 : 0;
  // Both sides name the store's changelog `<group>-last-changelog` (tributary: the processor id is the group; Kafka Streams: the application id).
  if (stateful) ctx.created.push(`${group}-last-changelog`);
  // kafkajs logs every REBALANCE_IN_PROGRESS answer at error level: expected here, left out.
  const workerLog = (line: string): void => void (line.includes('The group is rebalancing') || log(line));
  const spawnWorker = (name: string): WorkerProcess => {
    const common = ['--worker', name, '--session-timeout-ms', String(SESSION_TIMEOUT_MS), '--heartbeat-ms', String(HEARTBEAT_MS)];
    if (!system.startsWith('kafka-streams')) {
      const cluster = system !== 'tributary' ? ['--nats', NATS_URL, '--cluster', group] : [];
      const state: string[] = [];
      if (stateful) {
        const stateDir = mkdtempSync(join(tmpdir(), 'tributary-bench-recovery-'));
        stateDirs.push(stateDir);
        state.push('--state-dir', stateDir, '--standbys', String(standbys));
      }
      return new WorkerProcess(name, process.execPath, ['--import', 'tsx', 'bench/recovery/tributary-worker.ts', '--brokers', broker.brokers.join(','), '--topic', topic, '--output', output, '--group', group, ...common, ...cluster, ...state], workerLog);
    }
    const stateDir = mkdtempSync(join(tmpdir(), 'tributary-bench-recovery-'));
    stateDirs.push(stateDir);
    return new WorkerProcess(
      name,
      anchors.java,
      [...anchors.jvmFlags, '-cp', anchors.classpath, 'dev.tributary.bench.RecoveryWorker', '--bootstrap', broker.brokers.join(','), '--input', topic, '--output', output, '--app-id', group, '--state-dir', stateDir, ...common, ...(stateful ? ['--state', 'true', '--standbys', String(standbys)] : [])],
      workerLog,
    );
  };
  let load: ReturnType<typeof loadTopic> | undefined;
  let loadError: Error | undefined;
  const alive = (expected: readonly WorkerProcess[]) => (): void => {
    const dead = expected.find((w) => w.exitedWith !== undefined);
    if (dead) throw new Error(`worker ${dead.name} exited (${dead.exitedWith})`);
    if (loadError) throw loadError;
  };
  try {
    await watcher.start();
    if (stateful) await seed(ctx, topic);
    const a = spawnWorker('a');
    workers.push(a);
    await waitFor(`worker a to run all ${partitions} partitions`, () => a.partitions.length === partitions, 90_000, alive([a]));
    if (stateful) {
      const seededAt = Date.now();
      await waitUntilCommitted(ctx, group, topic, STATE_KEYS, alive([a]));
      log(`${system}: worker a took in the ${fmtInt(STATE_KEYS * partitions)} seed records in ${((Date.now() - seededAt) / 1000).toFixed(1)} s`);
    }
    const b = spawnWorker('b');
    workers.push(b);
    const settled = (): boolean => {
      const last = Math.max(a.assignments.at(-1)?.at ?? 0, b.assignments.at(-1)?.at ?? 0);
      const owned = new Set([...a.partitions, ...b.partitions]);
      return a.partitions.length > 0 && b.partitions.length > 0 && owned.size === partitions && a.partitions.length + b.partitions.length === partitions && Date.now() - last >= 1_000;
    };
    await waitFor('workers a and b to share the partitions', settled, 180_000, alive([a, b]));
    if (standbys > 0) {
      const since = Date.now();
      const warm = (w: WorkerProcess, other: WorkerProcess): boolean => w.standbys !== undefined && w.standbys.at > since && w.standbys.count === other.partitions.length && w.standbys.lag === 0;
      await waitFor(() => `every standby to catch up (a: ${JSON.stringify(a.standbys)}, b: ${JSON.stringify(b.standbys)})`, () => warm(a, b) && warm(b, a), 300_000, alive([a, b]));
      log(`${system}: standbys caught up in ${((Date.now() - since) / 1000).toFixed(1)} s`);
    }
    log(`${system}: a runs ${a.partitions.join(',')}; b runs ${b.partitions.join(',')}; producing ${fmtInt(data.records)} records at ${fmtInt(rate)} records/s`);

    const cpuBefore = [a.cpuSeconds() ?? 0, b.cpuSeconds() ?? 0];
    const brokerBefore = broker.cpuSeconds();
    load = loadTopic({ anchors, brokers: broker.brokers, topic, data, rate, timeoutMs: 60_000 + (data.records / rate) * 3_000, log });
    load.catch((err: unknown) => (loadError = err instanceof Error ? err : new Error(String(err))));
    await waitFor('the first result', () => watcher.firstSeenAt > 0, 30_000, alive([a, b]));
    await waitFor('the end of the warm-up', () => Date.now() >= watcher.firstSeenAt + WARMUP_MS, WARMUP_MS + 1_000, alive([a, b]));

    const [victim, survivor] = round % 2 === 1 ? [b, a] : [a, b];
    const killed = [...victim.partitions];
    const victimCpu = (victim.cpuSeconds() ?? 0) - cpuBefore[victim === a ? 0 : 1];
    const killAt = Date.now();
    victim.signal('SIGKILL');
    log(`${system}: killed worker ${victim.name} (pid ${victim.pid}), which ran partitions ${killed.join(',')}`);

    const loaded = await load;
    log(`${system}: loader done in ${loaded.wallSeconds.toFixed(1)} s`);
    await waitFor(() => `a result for each of the ${fmtInt(outputs)} kept records (have ${fmtInt(watcher.distinct)})`, () => watcher.distinct >= outputs, 60_000, alive([survivor]));
    const survivorCpu = (survivor.cpuSeconds() ?? 0) - cpuBefore[survivor === a ? 0 : 1];
    const brokerAfter = broker.cpuSeconds();
    if (watcher.distinct > outputs) throw new Error(`${fmtInt(watcher.distinct)} distinct results, more than the ${fmtInt(outputs)} kept records`);

    const events = watcher.events;
    const firstTs = events.reduce((min, e) => Math.min(min, e.ts), Number.POSITIVE_INFINITY);
    const lastTs = events.reduce((max, e) => Math.max(max, e.ts), Number.NEGATIVE_INFINITY);
    const figures = recoveryFigures({
      events,
      killAt,
      killed,
      survivor: survivor.name,
      survivorAssignments: survivor.assignments,
      baselineFrom: watcher.firstSeenAt + BASELINE_SKIP_MS,
      // After the last record produced the lag grows by itself: stop there.
      until: lastTs,
      factor: LAG_FACTOR,
      stayMs: STAY_MS,
    });
    return measurement({
      records: data.records,
      seconds: (lastTs - firstTs) / 1000,
      totalSeconds: (performance.now() - started) / 1000,
      cpuSeconds: victimCpu + survivorCpu,
      brokerCpuSeconds: brokerBefore !== undefined && brokerAfter !== undefined ? brokerAfter - brokerBefore : undefined,
      details: { ...figures, killedWorker: victim.name, results: events.length, ...restoreFigures(survivor, killAt, killed) },
    });
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await watcher.stop().catch(() => {});
    // A run that failed early: let the loader finish (or time out) before its topic is deleted.
    await load?.catch(() => {});
    for (const dir of stateDirs) rmSync(dir, { recursive: true, force: true });
  }
}

/** The survivor's restores of the killed worker's partitions (stateful runs): changelog records read, entries from local copies, the longest. */
function restoreFigures(survivor: WorkerProcess, killAt: number, killed: readonly number[]): Record<string, number> {
  const restores = survivor.restores.filter((r) => r.at >= killAt && killed.includes(r.partition));
  if (restores.length === 0) return {};
  return {
    restoreRecords: restores.reduce((sum, r) => sum + r.records, 0),
    restoreLocal: restores.reduce((sum, r) => sum + r.localRecords, 0),
    restoreMs: Math.round(Math.max(...restores.map((r) => r.durationMs))),
    restoredKeys: restores.reduce((sum, r) => sum + r.keys, 0),
  };
}

/** Seeds the stateful runs' state: STATE_KEYS keys per partition, records the filter drops (`keep` is false for them). */
async function seed(ctx: Context, topic: string): Promise<void> {
  const started = Date.now();
  const kafka = new Kafka({ clientId: 'tributary-bench-seed', brokers: ctx.broker.brokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  try {
    const value = Buffer.from('seed');
    for (let p = 0; p < ctx.partitions; p++) {
      for (let i = 0; i < STATE_KEYS; i += 10_000) {
        const messages = Array.from({ length: Math.min(10_000, STATE_KEYS - i) }, (_, j) => ({ key: `s${p}.${i + j}-z`, value, partition: p }));
        if (keep(messages[0].key)) throw new Error('seed keys must be dropped by the filter');
        await producer.send({ topic, messages, acks: 1 });
      }
    }
  } finally {
    await producer.disconnect();
  }
  ctx.log(`seeded ${fmtInt(STATE_KEYS * ctx.partitions)} records of state in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** Waits until the group has committed at least `offset` on every partition of `topic`. */
async function waitUntilCommitted(ctx: Context, group: string, topic: string, offset: number, check: () => void): Promise<void> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    check();
    const fetched = await ctx.broker.admin.fetchOffsets({ groupId: group, topics: [topic] });
    const partitions = fetched.find((t) => t.topic === topic)?.partitions ?? [];
    if (partitions.length === ctx.partitions && partitions.every((p) => Number(p.offset) >= offset)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for group ${group} to commit the seed records`);
    await sleep(500);
  }
}
