// The seeded fault schedule: which faults, in which order, with which parameters. The same seed
// and profile give the same schedule (`--seed N` replays it).
import { seededRandom, type Random } from './random.js';

/** Every fault class the suite injects. */
export const FAULT_KINDS = [
  'operator-throw',
  'worker-sigkill',
  'worker-sigstop',
  'worker-sigstop-short',
  'worker-nats-cut',
  'rebalance-storm',
  'kafka-sigterm-bounce',
  'kafka-sigkill-bounce',
  'kafka-down',
  'nats-restart',
  'poison-records',
  'malformed-lines',
  'oversized-lines',
  'proto-lines',
  'skewed-timestamps',
  'slow-sink',
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

/** A step of a rebalance storm. */
export interface StormStep {
  readonly op: 'add' | 'remove';
  readonly worker: string;
}

/** One fault of the schedule, with everything needed to inject it again. */
export type Fault =
  | { readonly kind: 'operator-throw'; readonly count: number; readonly stage: 'up' | 'down' | 'both' }
  | { readonly kind: 'worker-sigkill'; readonly worker: string; readonly delayMs: number }
  | { readonly kind: 'worker-sigstop'; readonly worker: string; readonly stopMs: number }
  | { readonly kind: 'worker-sigstop-short'; readonly worker: string; readonly stopMs: number }
  | { readonly kind: 'worker-nats-cut'; readonly worker: string; readonly cutMs: number }
  | { readonly kind: 'rebalance-storm'; readonly steps: readonly StormStep[]; readonly intervalMs: number }
  | { readonly kind: 'kafka-sigterm-bounce'; readonly downMs: number }
  | { readonly kind: 'kafka-sigkill-bounce'; readonly downMs: number }
  | { readonly kind: 'kafka-down'; readonly downMs: number; readonly hard: boolean }
  | { readonly kind: 'nats-restart'; readonly downMs: number; readonly hard: boolean }
  | { readonly kind: 'poison-records'; readonly count: number }
  | { readonly kind: 'malformed-lines'; readonly count: number }
  | { readonly kind: 'oversized-lines'; readonly count: number }
  | { readonly kind: 'proto-lines'; readonly count: number }
  | { readonly kind: 'skewed-timestamps'; readonly count: number }
  | { readonly kind: 'slow-sink'; readonly delayMs: number; readonly durationMs: number };

/** What shapes a schedule. */
export interface ScheduleOptions {
  readonly seed: number;
  /** The base workers (`w1`..): faults aimed at one worker pick among them. */
  readonly workers: readonly string[];
  /** `once`: every class exactly once, in a seeded order (ci). `cycle`: rounds of every class, each round in a new order (soak). */
  readonly mode: 'once' | 'cycle';
  /** Kafka down: [min, max] ms. */
  readonly kafkaDownMs: readonly [number, number];
  /** How many rounds to plan in `cycle` mode (the runner stops when the duration is up). */
  readonly rounds?: number;
}

/**
 * The fault schedule. In `once` mode every class appears once; the order is shuffled, except
 * that the Kafka outage is never first (the baseline must be measured on a warm pipeline).
 *
 * @example
 * planSchedule({ seed: 7, workers: ['w1', 'w2', 'w3'], mode: 'once', kafkaDownMs: [30_000, 30_000] });
 */
export function planSchedule(options: ScheduleOptions): Fault[] {
  const random = seededRandom(options.seed ^ 0x5c4ed);
  const rounds = options.mode === 'once' ? 1 : (options.rounds ?? 50);
  const faults: Fault[] = [];
  let extra = options.workers.length;
  for (let round = 0; round < rounds; round++) {
    let order = random.shuffle(FAULT_KINDS);
    if (order[0] === 'kafka-down') order = [...order.slice(1), order[0]];
    for (const kind of order) {
      faults.push(makeFault(kind, random, options, () => `w${++extra}`));
    }
  }
  return faults;
}

function makeFault(kind: FaultKind, r: Random, options: ScheduleOptions, newWorker: () => string): Fault {
  const worker = (): string => r.pick(options.workers);
  switch (kind) {
    case 'operator-throw':
      return { kind, count: r.int(3, 8), stage: r.pick(['up', 'down', 'both'] as const) };
    case 'worker-sigkill':
      return { kind, worker: worker(), delayMs: r.int(0, 2_000) };
    case 'worker-sigstop':
      // Beyond the 6 s session timeout: the group moves its partitions, then it wakes up as a zombie.
      return { kind, worker: worker(), stopMs: r.int(9_000, 13_000) };
    case 'worker-sigstop-short':
      // A false suspicion: beyond the cluster's down timeout (2 s), so the worker is evicted, but
      // short of the 6 s session: without eviction Kafka would have waited for it.
      return { kind, worker: worker(), stopMs: r.int(3_000, 5_000) };
    case 'worker-nats-cut':
      // Cut from NATS only (its Kafka connections stay up) for longer than the down timeout: the
      // others declare it down and evict it while it goes on working; it must rejoin and lose nothing.
      return { kind, worker: worker(), cutMs: r.int(4_000, 8_000) };
    case 'rebalance-storm': {
      const steps: StormStep[] = [];
      const added: string[] = [];
      const removable = [...options.workers];
      for (let i = 0; i < 6; i++) {
        if (added.length === 0 || (added.length < 2 && r.chance(0.6))) {
          const id = newWorker();
          added.push(id);
          steps.push({ op: 'add', worker: id });
        } else if (r.chance(0.25) && removable.length > 0) {
          // A base worker leaves and comes back: its partitions move twice.
          const id = removable.splice(r.int(0, removable.length - 1), 1)[0];
          steps.push({ op: 'remove', worker: id }, { op: 'add', worker: id });
        } else {
          steps.push({ op: 'remove', worker: added.splice(r.int(0, added.length - 1), 1)[0] });
        }
      }
      for (const id of added) steps.push({ op: 'remove', worker: id });
      return { kind, steps, intervalMs: r.int(2_000, 4_000) };
    }
    case 'kafka-sigterm-bounce':
    case 'kafka-sigkill-bounce':
      return { kind, downMs: r.int(0, 3_000) };
    case 'kafka-down':
      return { kind, downMs: r.int(options.kafkaDownMs[0], options.kafkaDownMs[1]), hard: r.chance(0.5) };
    case 'nats-restart':
      return { kind, downMs: r.int(500, 3_000), hard: r.chance(0.5) };
    case 'poison-records':
      return { kind, count: r.int(2, 4) };
    case 'malformed-lines':
      return { kind, count: r.int(3, 8) };
    case 'oversized-lines':
      return { kind, count: r.int(2, 4) };
    case 'proto-lines':
      return { kind, count: r.int(3, 6) };
    case 'skewed-timestamps':
      return { kind, count: r.int(20, 40) };
    case 'slow-sink':
      return { kind, delayMs: r.int(200, 600), durationMs: r.int(8_000, 12_000) };
  }
}

/** A one-line description of a fault, for the report. */
export function describeFault(fault: Fault): string {
  switch (fault.kind) {
    case 'operator-throw':
      return `${fault.count} throws, stage ${fault.stage}`;
    case 'worker-sigkill':
      return `SIGKILL ${fault.worker}`;
    case 'worker-sigstop':
    case 'worker-sigstop-short':
      return `SIGSTOP ${fault.worker} ${fault.stopMs} ms`;
    case 'worker-nats-cut':
      return `${fault.worker} cut from NATS ${fault.cutMs} ms`;
    case 'rebalance-storm':
      return `${fault.steps.map((s) => `${s.op === 'add' ? '+' : '-'}${s.worker}`).join(' ')} every ${fault.intervalMs} ms`;
    case 'kafka-sigterm-bounce':
    case 'kafka-sigkill-bounce':
      return `down ${fault.downMs} ms`;
    case 'kafka-down':
      return `${fault.hard ? 'SIGKILL' : 'SIGTERM'}, down ${fault.downMs} ms`;
    case 'nats-restart':
      return `${fault.hard ? 'SIGKILL' : 'SIGTERM'}, down ${fault.downMs} ms`;
    case 'poison-records':
    case 'malformed-lines':
    case 'oversized-lines':
    case 'proto-lines':
    case 'skewed-timestamps':
      return `${fault.count} records`;
    case 'slow-sink':
      return `+${fault.delayMs} ms per write for ${fault.durationMs} ms`;
  }
}
