/**
 * A node of the `cluster` benchmark (bench/scenarios/cluster.ts), one process each:
 *
 *   node --import tsx bench/cluster/peer.ts --role responder --nats URL --cluster C
 *   node --import tsx bench/cluster/peer.ts --role driver --nats URL --cluster C --messages N --asks K --rounds R --payload B
 *
 * Both run a tributary app (MemoryLog, one idle processor) with a ClusterNode, and keep a raw
 * NATS subscription on the same connection for the anchor runs.
 *
 * The responder (node `b`) answers:
 *   actor `echo` (returns the message), actor `sink` (counts tells), actor `stats` / `reset`;
 *   raw `bench.<C>.echo` (responds with the payload), raw `bench.<C>.sink` (counts), raw `bench.<C>.stats` / `bench.<C>.reset`.
 * It prints `READY` when started and runs until stdin closes.
 *
 * The driver (node `a`) waits until it sees `b`, then runs R rounds of, interleaved: raw publish
 * N messages, tell N messages, N raw requests... (serial K), ask (serial K), each after a warm-up,
 * and prints one `BENCH_RESULT {json}` line.
 */
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { createTributary } from '../../src/app/tributary.js';
import { ClusterNode } from '../../src/cluster/index.js';
import { MemoryLog } from '../../src/connectors/memory/index.js';
import { defineProcessor } from '../../src/processor/define-processor.js';
import { toFunction } from '../../src/sinks/function-sink.js';
import { RESULT_PREFIX } from '../ingest/child.js';

const { values: args } = parseArgs({
  options: {
    role: { type: 'string' },
    nats: { type: 'string' },
    cluster: { type: 'string' },
    messages: { type: 'string', default: '100000' },
    asks: { type: 'string', default: '5000' },
    rounds: { type: 'string', default: '3' },
    payload: { type: 'string', default: '100' },
  },
});
const role = args.role === 'driver' ? 'driver' : 'responder';
const nodeId = role === 'driver' ? 'a' : 'b';
const logger = pino({ level: 'warn', base: { node: nodeId } }, pino.destination(2));
const log = new MemoryLog();
log.createTopic('idle', 1);
const app = createTributary({
  log,
  logger,
  processors: [defineProcessor({ id: 'idle', source: { topics: 'idle' }, pipeline: (r) => r, sinks: toFunction('none', () => undefined) })],
});
await app.start();
const node = new ClusterNode({ app, cluster: args.cluster!, nodeId, servers: args.nats!, askTimeoutMs: 10_000 });
await node.start();
const nc = node.connection;
const raw = (name: string): string => `bench.${args.cluster}.${name}`;
const cpuNow = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const wallMs = (): number => performance.timeOrigin + performance.now();

/** What the responder reports about what it received since the last reset. */
export interface SinkStats {
  readonly count: number;
  readonly firstAt: number;
  readonly lastAt: number;
  /** The responder's CPU seconds since the reset. */
  readonly cpuSeconds: number;
}

if (role === 'responder') {
  let count = 0;
  let firstAt = 0;
  let lastAt = 0;
  let cpuAtReset = cpuNow();
  const receive = (): void => {
    const now = wallMs();
    if (count === 0) firstAt = now;
    lastAt = now;
    count++;
  };
  const reset = (): void => {
    count = 0;
    firstAt = lastAt = 0;
    cpuAtReset = cpuNow();
  };
  const stats = (): SinkStats => ({ count, firstAt, lastAt, cpuSeconds: cpuNow() - cpuAtReset });
  node.register('echo', (message) => message);
  node.register('sink', receive);
  node.register('stats', stats);
  node.register('reset', reset);
  nc.subscribe(raw('echo'), { callback: (_, msg) => void msg.respond(msg.data) });
  nc.subscribe(raw('sink'), { callback: receive });
  nc.subscribe(raw('stats'), { callback: (_, msg) => void msg.respond(JSON.stringify(stats())) });
  nc.subscribe(raw('reset'), { callback: (_, msg) => (reset(), void msg.respond('ok')) });
  await nc.flush();
  process.stdout.write('READY\n');
  createInterface({ input: process.stdin }).on('close', () => {
    void node.stop().then(() => app.stop()).then(() => process.exit(0));
  });
} else {
  const messages = Number(args.messages);
  const asks = Number(args.asks);
  const rounds = Number(args.rounds);
  const payload = 'x'.repeat(Number(args.payload));
  const b = { node: 'b', path: 'echo' };
  const progress = (line: string): void => void process.stderr.write(`${line}\n`);
  for (let i = 0; i < 200 && node.members().members.find((m) => m.node === 'b')?.status !== 'alive'; i++) await new Promise((r) => setTimeout(r, 50));
  if (node.members().members.find((m) => m.node === 'b')?.status !== 'alive') throw new Error('the responder never appeared in the membership');

  const rawStats = async (): Promise<SinkStats> => JSON.parse((await nc.request(raw('stats'), '', { timeout: 10_000 })).string()) as SinkStats;
  const tellStats = (): Promise<SinkStats> => node.ask<SinkStats>({ node: 'b', path: 'stats' }, null);

  /** N one-way messages as fast as the client takes them; the rate is measured to the last one received. */
  async function oneWay(send: () => void, reset: () => Promise<unknown>, stats: () => Promise<SinkStats>) {
    await reset();
    const cpu0 = cpuNow();
    const started = wallMs();
    for (let i = 0; i < messages; i++) {
      send();
      // Let the socket drain now and then, so the client's outbound buffer stays bounded.
      if (i % 5_000 === 4_999) await nc.flush();
    }
    await nc.flush();
    let s = await stats();
    const deadline = Date.now() + 60_000;
    while (s.count < messages && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      s = await stats();
    }
    const seconds = (s.lastAt - started) / 1000;
    return { messages: s.count, seconds, cpuSeconds: cpuNow() - cpu0 + s.cpuSeconds, lost: messages - s.count };
  }

  /** K requests one after another; latency of each. */
  async function serial(request: () => Promise<unknown>) {
    for (let i = 0; i < Math.min(1_000, asks); i++) await request(); // warm-up
    const latencies: number[] = [];
    const cpu0 = cpuNow();
    const started = performance.now();
    for (let i = 0; i < asks; i++) {
      const t0 = performance.now();
      await request();
      latencies.push(performance.now() - t0);
    }
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((x, y) => x - y);
    const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
    return { requests: asks, seconds, cpuSeconds: cpuNow() - cpu0, p50Ms: at(0.5), p99Ms: at(0.99), meanMs: (seconds * 1000) / asks };
  }

  const results = [];
  for (let round = 1; round <= rounds; round++) {
    progress(`round ${round}/${rounds}: raw publish`);
    const rawPublish = await oneWay(() => nc.publish(raw('sink'), payload), () => nc.request(raw('reset'), '', { timeout: 10_000 }), rawStats);
    progress(`round ${round}/${rounds}: tell`);
    const tell = await oneWay(() => node.tell({ node: 'b', path: 'sink' }, payload), () => node.ask({ node: 'b', path: 'reset' }, null), tellStats);
    progress(`round ${round}/${rounds}: raw request/reply`);
    const rawRequest = await serial(() => nc.request(raw('echo'), payload, { timeout: 10_000 }));
    progress(`round ${round}/${rounds}: ask`);
    const ask = await serial(() => node.ask(b, payload));
    results.push({ rawPublish, tell, rawRequest, ask });
    progress(
      `round ${round}: raw publish ${Math.round(rawPublish.messages / rawPublish.seconds)}/s, tell ${Math.round(tell.messages / tell.seconds)}/s, ` +
        `raw request p50 ${rawRequest.p50Ms.toFixed(3)} ms, ask p50 ${ask.p50Ms.toFixed(3)} ms`,
    );
  }
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify({ messages, asks, payloadBytes: payload.length, rounds: results })}\n`);
  await node.stop();
  await app.stop();
  process.exit(0);
}
