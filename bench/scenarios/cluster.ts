/**
 * Scenario `cluster` (issue 6's benchmark): messaging between two tributary nodes, each a process
 * of its own (bench/cluster/peer.ts) on the shared nats-server, next to the raw NATS client doing
 * the same on the same connections in the same run.
 *
 * - `tell` vs `nats-publish`: N one-way messages (default 100,000) of a 100-byte payload, sent as
 *   fast as the client takes them (a flush every 5,000); the rate runs from the first send to the
 *   last message received by the other node (one machine, one clock). tell wraps each message in
 *   the versioned envelope, and the receiver validates it (size, JSON, schema, sender) and runs
 *   the actor's handler; the raw subscriber only counts.
 * - `ask` vs `nats-request`: K requests (default 5,000) one after another (after 1,000 warm-up),
 *   100-byte payload echoed back; rate = K / elapsed, with p50 and p99 latency.
 *
 * CPU-s: the driver's plus the responder's CPU over the run. Rounds (default 3) interleave the
 * four runs; figures are medians. `--records N` sets N, K is N / 20.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { repoRoot } from '../../scripts/services/paths.js';
import { ensureNats } from '../../scripts/services/index.js';
import { runNodeChild } from '../lib/processes.js';
import { compare, failed, measurement, medianOf, type Measurement, type Scenario, type ScenarioOptions } from '../scenario.js';

const DEFAULT_MESSAGES = 100_000;
const DEFAULT_ROUNDS = 3;
const PAYLOAD_BYTES = 100;

interface OneWay {
  readonly messages: number;
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly lost: number;
}

interface Serial {
  readonly requests: number;
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
}

interface DriverResult {
  readonly messages: number;
  readonly asks: number;
  readonly payloadBytes: number;
  readonly rounds: ReadonlyArray<{ rawPublish: OneWay; tell: OneWay; rawRequest: Serial; ask: Serial }>;
}

const oneWay = (r: OneWay, note: string): Measurement =>
  measurement({ records: r.messages, seconds: r.seconds, totalSeconds: r.seconds, cpuSeconds: r.cpuSeconds, note, details: { lost: r.lost } });
const serial = (r: Serial, note: string): Measurement =>
  measurement({
    records: r.requests,
    seconds: r.seconds,
    totalSeconds: r.seconds,
    cpuSeconds: r.cpuSeconds,
    note,
    details: { p50Ms: r.p50Ms, p99Ms: r.p99Ms, meanMs: r.meanMs },
  });

/** Median of one latency figure over the rounds. */
const medianDetail = (ms: readonly Measurement[], key: 'p50Ms' | 'p99Ms'): number => {
  const values = ms.map((m) => Number(m.details?.[key])).filter(Number.isFinite).sort((a, b) => a - b);
  const mid = values.length >> 1;
  return values.length % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
};

export const cluster: Scenario = {
  name: 'cluster',
  description: 'tell throughput and ask latency between two tributary nodes (two processes) vs raw NATS publish and request/reply',
  async run(options: ScenarioOptions) {
    const messages = options.records ?? DEFAULT_MESSAGES;
    const asks = Math.max(100, Math.floor(messages / 20));
    const rounds = options.rounds ?? DEFAULT_ROUNDS;
    const { log } = options;
    const nats = await ensureNats({ log });
    const clusterName = `bench-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    const common = ['--nats', nats.address, '--cluster', clusterName];

    log(`responder: starting (cluster ${clusterName} on ${nats.address})`);
    const responder = spawn(process.execPath, ['--import', 'tsx', 'bench/cluster/peer.ts', '--role', 'responder', ...common], {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    createInterface({ input: responder.stderr }).on('line', log);
    const exited = new Promise<void>((resolve) => responder.once('exit', () => resolve()));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the responder did not start within 60 s')), 60_000);
        createInterface({ input: responder.stdout }).on('line', (line) => {
          if (line === 'READY') {
            clearTimeout(timer);
            resolve();
          } else log(line);
        });
        responder.once('exit', (code) => reject(new Error(`the responder exited (code ${code}) before it was ready`)));
      });
      const result = await runNodeChild<DriverResult>({
        script: 'bench/cluster/peer.ts',
        args: ['--role', 'driver', ...common, '--messages', String(messages), '--asks', String(asks), '--rounds', String(rounds), '--payload', String(PAYLOAD_BYTES)],
        timeoutMs: 120_000 + rounds * (messages / 5 + asks * 2),
        onLine: log,
      });
      const pick = <K extends keyof DriverResult['rounds'][number]>(key: K) => result.rounds.map((r) => r[key]);
      const tellRounds = pick('tell').map((r) => oneWay(r, 'messages/s, first send → last received'));
      const publishRounds = pick('rawPublish').map((r) => oneWay(r, 'messages/s, first send → last received'));
      const askRounds = pick('ask').map((r) => serial(r, 'requests/s, serial'));
      const requestRounds = pick('rawRequest').map((r) => serial(r, 'requests/s, serial'));
      const tributary = { tell: medianOf(tellRounds), ask: medianOf(askRounds) };
      const anchors = { 'nats-publish': medianOf(publishRounds), 'nats-request': medianOf(requestRounds) };
      const comparedWith = { 'nats-publish': 'tell', 'nats-request': 'ask' };
      const { ratios, cpuRatios } = compare(tributary, anchors, comparedWith);
      const [askP50, askP99, rawP50, rawP99] = [
        medianDetail(askRounds, 'p50Ms'),
        medianDetail(askRounds, 'p99Ms'),
        medianDetail(requestRounds, 'p50Ms'),
        medianDetail(requestRounds, 'p99Ms'),
      ];
      const lost = pick('tell').reduce((s, r) => s + r.lost, 0) + pick('rawPublish').reduce((s, r) => s + r.lost, 0);
      return {
        name: 'cluster',
        description: cluster.description,
        params: { messages, asks, payloadBytes: PAYLOAD_BYTES, rounds, nats: nats.address },
        tributary,
        anchors,
        comparedWith,
        ratios,
        cpuRatios,
        notes: [
          `ask latency p50 ${askP50.toFixed(3)} ms, p99 ${askP99.toFixed(3)} ms; raw NATS request p50 ${rawP50.toFixed(3)} ms, p99 ${rawP99.toFixed(3)} ms ` +
            `(ask / raw: p50 ${(askP50 / rawP50).toFixed(2)}×, p99 ${(askP99 / rawP99).toFixed(2)}×)`,
          'rates are messages/s (tell, nats-publish: first send → last received on the other node) and requests/s (ask, nats-request: serial)',
          `CPU-s: both processes over the run; medians of ${rounds} interleaved rounds`,
          ...(lost > 0 ? [`${lost} one-way messages were not received within 60 s (core NATS: at most once)`] : []),
        ],
      };
    } catch (err) {
      return {
        name: 'cluster',
        description: cluster.description,
        params: { messages, asks, rounds },
        tributary: { tell: failed(err), ask: failed(err) },
        anchors: {},
        comparedWith: {},
        ratios: {},
        cpuRatios: {},
        notes: [],
      };
    } finally {
      responder.stdin.end();
      const timer = setTimeout(() => responder.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  },
};
