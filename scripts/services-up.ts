/**
 * `npm run services:up`: makes sure the shared test Kafka (127.0.0.1:9092) and NATS
 * (nats://127.0.0.1:4222) answer, starting them if need be. Idempotent: what already answers
 * is reused. What it starts keeps running after it exits; `npm run services:down` stops it.
 */
import { ensureServices, runDir, ServiceError, type SharedService } from './services/index.js';

const started = Date.now();
const log = (line: string): void => console.log(`services:up: ${line}`);

function describe(name: string, service: SharedService): string {
  const how = service.started ? 'started' : service.managed ? 'already running (ours)' : 'already running (not ours, left alone)';
  return `${name.padEnd(5)} ${service.address}  ${how}${service.logFile ? `  log: ${service.logFile}` : ''}`;
}

try {
  const { kafka, nats } = await ensureServices({ log });
  log(describe('kafka', kafka));
  log(describe('nats', nats));
  log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s (run dir: ${runDir()})`);
} catch (err) {
  if (err instanceof ServiceError) {
    console.error(`services:up failed: ${err.message}`);
  } else {
    console.error('services:up failed:', err);
  }
  process.exitCode = 1;
}
