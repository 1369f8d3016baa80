import { map } from 'rxjs';
import { createLogger, createTributary, defineProcessor, MemoryLog, toFunction } from './src/index.js';
const N = 300_000;
async function run(stallTimeoutMs: number, maxBatchRecords: number): Promise<number> {
  const log = new MemoryLog();
  log.createTopic('in', 4);
  const producer = log.producer();
  for (let i = 0; i < N; i += 10_000) await producer.send('in', Array.from({ length: 10_000 }, (_, j) => ({ key: `k${(i + j) % 101}`, value: `{"n":${i + j}}` })));
  let out = 0;
  const app = createTributary({
    log, logger: createLogger({ level: 'silent' }), supervision: { stallTimeoutMs },
    processors: [defineProcessor<string | null, { n: number }>({ id: 'p', source: { topics: 'in' }, maxBatchRecords, pipeline: (r) => r.pipe(map((x) => x.value.n)), sinks: toFunction('count', (items) => void (out += items.length)) })],
  });
  const c0 = process.cpuUsage();
  await app.start();
  await app.finishInput();
  const c = process.cpuUsage(c0);
  await app.stop();
  if (out !== N) throw new Error(`out ${out}`);
  return (c.user + c.system) / 1000;
}
for (const batch of [10]) {
  const on: number[] = [], off: number[] = [];
  for (let i = 0; i < 5; i++) { off.push(await run(Infinity, batch)); on.push(await run(60_000, batch)); }
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[2];
  console.log(`batch ${batch}: CPU ms per 300k records, watchdog off`, off.map(Math.round).join(' '), 'median', Math.round(med(off)), '| on', on.map(Math.round).join(' '), 'median', Math.round(med(on)));
}
