/** The shared broker as the benchmarks see it: its admin client, and its pid to watch its CPU. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { runDir } from '../../scripts/services/paths.js';
import { ensureKafka } from '../../scripts/services/index.js';
import { procCpuSeconds } from './processes.js';

export interface Broker {
  readonly brokers: string[];
  readonly admin: Admin;
  /** The broker's pid when services:up started it (so its CPU can be read), else undefined. */
  readonly pid: number | undefined;
  /** CPU seconds the broker has used so far, when its pid is known. */
  cpuSeconds(): number | undefined;
  /**
   * Throws when the broker is no longer the one we started with (another session ran
   * services:down/up: the shared broker starts with a fresh data directory, so our topic is gone).
   */
  checkSame(): void;
  close(): Promise<void>;
}

export async function connectBroker(log: (line: string) => void): Promise<Broker> {
  const kafka = await ensureKafka({ log });
  const brokers = kafka.address.split(',').map((b) => b.trim());
  const client = new Kafka({ clientId: 'tributary-bench', brokers, logLevel: logLevel.WARN });
  const admin = client.admin();
  await admin.connect();
  const pidFile = join(runDir(), 'kafka', 'kafka.pid');
  const readPid = (): number | undefined => (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : undefined);
  const pid = kafka.managed ? readPid() : undefined;
  return {
    brokers,
    admin,
    pid,
    cpuSeconds: () => procCpuSeconds(pid),
    checkSame: () => {
      if (pid === undefined) return;
      const now = readPid();
      if (now !== pid || procCpuSeconds(pid) === undefined) {
        throw new Error(
          `the shared Kafka broker was restarted during the benchmark (pid ${pid} → ${now ?? 'none'}): another session ran ` +
            'services:down/up or a test restarted it, and its data (our topic) is gone; run the benchmark again',
        );
      }
    },
    close: () => admin.disconnect(),
  };
}
