/**
 * Scenario `demo-memory`: the peak RSS of `npm run demo` (the clickstream example on the embedded
 * MemoryLog) at 1,000,000 and 5,000,000 clicks (`--records N`: that size only), next to the same
 * demo run the way it was run before (under tsx, Node's default heap settings).
 *
 * Each run is a child process of its own, one after another: `node scripts/demo.mjs --events N`
 * (compiled JavaScript, the flags of `scripts/demo.mjs`) and `node --import tsx examples/demo.ts
 * --events N`. The figures come from the demo's own summary: its peak RSS
 * (`process.resourceUsage().maxRSS`), its CPU (`process.cpuUsage()`, the whole process) and its
 * elapsed time and throughput. Records/s here are clicks/s over the whole run.
 */
import { spawn } from 'node:child_process';
import { fmtInt } from '../lib/format.js';
import { compare, failed, measurement, type Measurement, type Scenario, type ScenarioOptions, type ScenarioResult } from '../scenario.js';

const DEFAULT_SIZES = [1_000_000, 5_000_000];

interface Variant {
  readonly name: string;
  readonly args: (events: number) => string[];
  readonly kind: 'anchor' | 'tributary';
}

const VARIANTS: readonly Variant[] = [
  { name: 'demo-under-tsx', kind: 'anchor', args: (events) => ['--import', 'tsx', 'examples/demo.ts', '--events', String(events)] },
  { name: 'npm-run-demo', kind: 'tributary', args: (events) => ['scripts/demo.mjs', '--events', String(events)] },
];

/** A number of the demo's summary table (`label   1,234 MB`), or undefined. */
function summaryNumber(stdout: string, label: string): number | undefined {
  const match = new RegExp(`${label.replace(/[()+]/g, '\\$&')}\\s+([\\d,.]+)`).exec(stdout);
  return match ? Number(match[1].replace(/,/g, '')) : undefined;
}

function runDemo(args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TRIBUTARY_LOG_LEVEL: 'silent' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(new Error(`demo exited with ${code}: ${stderr.slice(-500)}`));
    });
  });
}

export const demoMemory: Scenario = {
  name: 'demo-memory',
  description: 'peak RSS of npm run demo (embedded MemoryLog) at 1M and 5M clicks, vs the demo under tsx with Node defaults',
  async run(options: ScenarioOptions): Promise<ScenarioResult> {
    const sizes = options.records !== undefined ? [options.records] : DEFAULT_SIZES;
    const { log } = options;
    const anchors: Record<string, Measurement> = {};
    const tributary: Record<string, Measurement> = {};
    const comparedWith: Record<string, string> = {};
    for (const events of sizes) {
      const suffix = `-${events >= 1e6 ? `${events / 1e6}M` : fmtInt(events)}`;
      for (const variant of VARIANTS) {
        const name = `${variant.name}${suffix}`;
        log(`${name}: running`);
        let m: Measurement;
        try {
          const stdout = await runDemo(variant.args(events), 120_000 + events / 5);
          const seconds = summaryNumber(stdout, 'elapsed') ?? 0;
          const peak = summaryNumber(stdout, 'peak memory (max RSS)');
          const end = summaryNumber(stdout, 'memory (RSS at the end)');
          m = measurement({
            records: events,
            seconds,
            totalSeconds: seconds,
            cpuSeconds: summaryNumber(stdout, 'CPU (user + system)') ?? 0,
            details: { peakRssMiB: peak, endRssMiB: end },
          });
          log(`${name}: peak RSS ${peak} MB, ${fmtInt(m.recordsPerSec)} clicks/s`);
        } catch (err) {
          log(`${name}: FAILED: ${(err as Error).message}`);
          m = failed(err);
        }
        (variant.kind === 'anchor' ? anchors : tributary)[name] = m;
      }
      comparedWith[`${VARIANTS[0].name}${suffix}`] = `${VARIANTS[1].name}${suffix}`;
    }
    const { ratios, cpuRatios } = compare(tributary, anchors, comparedWith);
    return {
      name: 'demo-memory',
      description: demoMemory.description,
      params: { sizes },
      tributary,
      anchors,
      comparedWith,
      ratios,
      cpuRatios,
      columns: [
        { key: 'peakRssMiB', label: 'peak RSS MB', digits: 0 },
        { key: 'endRssMiB', label: 'RSS at end MB', digits: 0 },
      ],
      notes: [
        'npm-run-demo: node scripts/demo.mjs (examples compiled, the package from dist/, V8 flags of scripts/demo.mjs); demo-under-tsx: node --import tsx examples/demo.ts with Node defaults (how npm run demo ran before)',
        'figures from the demo summary: peak RSS = process.resourceUsage().maxRSS, CPU = process.cpuUsage() of the whole demo process; records/s = clicks/s over the run',
      ],
    };
  },
};
