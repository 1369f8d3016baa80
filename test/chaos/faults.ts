// Injecting one fault of the schedule, and waiting until it is over.
import type { KafkaBrokerHandle, NatsServerHandle } from '../../scripts/services/index.js';
import type { NatsCut } from './nats-cut.js';
import type { InputProducer } from './producer.js';
import type { Fault } from './schedule.js';
import type { WorkerPool } from './worker-pool.js';

/** What faults act on. */
export interface FaultContext {
  readonly broker: KafkaBrokerHandle;
  readonly nats: NatsServerHandle;
  readonly pool: WorkerPool;
  readonly producer: InputProducer;
  readonly say: (line: string) => void;
  /** Each base worker's relay to NATS for its cluster connection (the `worker-nats-cut` fault). */
  readonly natsCuts: ReadonlyMap<string, NatsCut>;
}

/** Injects `fault` and resolves when it is over (the broker back, the worker resumed, ...). */
export async function inject(fault: Fault, { broker, nats, pool, producer, say, natsCuts }: FaultContext): Promise<void> {
  switch (fault.kind) {
    case 'operator-throw': {
      pool.broadcast({ type: 'throw', count: fault.count, stage: fault.stage });
      await sleep(5_000);
      pool.broadcast({ type: 'throw', count: 0, stage: fault.stage });
      return;
    }
    case 'worker-sigkill':
      await sleep(fault.delayMs);
      await pool.kill(fault.worker);
      return;
    case 'worker-sigstop':
    case 'worker-sigstop-short':
      // A false suspicion needs a member to suspect: a worker still starting (after a kill) has none yet.
      if (fault.kind === 'worker-sigstop-short') await pool.waitReady(fault.worker, 60_000);
      pool.pause(fault.worker);
      await sleep(fault.stopMs);
      pool.resume(fault.worker);
      return;
    case 'worker-nats-cut': {
      const relay = natsCuts.get(fault.worker);
      if (!relay) throw new Error(`no NATS relay for ${fault.worker}`);
      await pool.waitReady(fault.worker, 60_000);
      relay.cut();
      await sleep(fault.cutMs);
      relay.heal();
      return;
    }
    case 'rebalance-storm': {
      const pending: Promise<void>[] = [];
      for (const step of fault.steps) {
        // A worker leaves only after it has joined (started its processors): real churn, not a
        // process killed while it loads.
        if (step.op === 'remove') await pool.waitReady(step.worker, 60_000);
        say(`  storm: ${step.op} ${step.worker}`);
        pending.push(step.op === 'add' ? pool.add(step.worker) : pool.remove(step.worker));
        await sleep(fault.intervalMs);
      }
      await Promise.all(pending);
      return;
    }
    case 'kafka-sigterm-bounce':
    case 'kafka-sigkill-bounce':
    case 'kafka-down': {
      const hard = fault.kind === 'kafka-sigkill-bounce' || (fault.kind === 'kafka-down' && fault.hard);
      await (hard ? broker.kill() : broker.stop());
      say(`  broker down (${hard ? 'SIGKILL' : 'SIGTERM'})`);
      await sleep(fault.downMs);
      await broker.start();
      say('  broker back');
      return;
    }
    case 'nats-restart':
      await (fault.hard ? nats.kill() : nats.stop());
      await sleep(fault.downMs);
      await nats.start();
      return;
    case 'poison-records':
      producer.inject('poison', fault.count);
      return;
    case 'malformed-lines':
      producer.inject('malformed', fault.count);
      return;
    case 'oversized-lines':
      producer.inject('oversized', fault.count);
      return;
    case 'proto-lines':
      producer.inject('proto', fault.count);
      return;
    case 'skewed-timestamps':
      producer.inject('skew', fault.count);
      return;
    case 'slow-sink':
      pool.broadcast({ type: 'slow', delayMs: fault.delayMs });
      await sleep(fault.durationMs);
      pool.broadcast({ type: 'slow', delayMs: 0 });
      return;
  }
}


const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
