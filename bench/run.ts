/**
 * `npm run bench -- [scenario] [--json] [--markdown] [--records N] [--partitions P] [--rounds R] [--rate R] [--profile [dir]]`
 *
 * Runs one scenario (or every known one), prints a table (or, with --json, one JSON document on
 * stdout), progress on stderr. Exit codes: 0 ok, 1 a run failed, 2 bad usage.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { repoRoot } from '../scripts/services/paths.js';
import { machine, versions } from './lib/machine.js';
import { markdownTable, resultHeader, resultRows, table } from './lib/format.js';
import type { ScenarioResult } from './scenario.js';
import { scenarios } from './scenarios/index.js';

interface Args {
  readonly scenario: string | undefined;
  readonly json: boolean;
  readonly markdown: boolean;
  readonly records: number | undefined;
  readonly partitions: number | undefined;
  readonly rounds: number | undefined;
  readonly profileDir: string | undefined;
  readonly rate: number | undefined;
}

const USAGE = `usage: npm run bench -- [scenario] [--json] [--markdown] [--records N] [--partitions P] [--rounds R] [--rate R] [--profile [dir]]
scenarios: ${scenarios.map((s) => s.name).join(', ')} (default: all)
  --json         one JSON document on stdout (progress stays on stderr)
  --markdown     the tables as Markdown (for BENCHMARKS.md)
  --records N    records per run (scenario default otherwise)
  --partitions P partitions of the topic (scenario default otherwise)
  --rounds R     run each measurement R times, interleaved; report medians (scenario default otherwise)
  --rate R       latency: input records/s (default: half of the stateless pipeline's measured maximum)
                 recovery: input records/s (default 3000)
  --profile      run the Node consumers under --cpu-prof; profiles in .tributary/bench/profiles/ (or dir)`;

function usage(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

function parseArgs(argv: readonly string[]): Args {
  let scenario: string | undefined;
  let json = false;
  let markdown = false;
  let records: number | undefined;
  let partitions: number | undefined;
  let rounds: number | undefined;
  let profileDir: string | undefined;
  let rate: number | undefined;
  const positive = (flag: string, value: string | undefined): number => {
    const n = Number(value?.replace(/[_,]/g, ''));
    if (value === undefined || !Number.isSafeInteger(n) || n <= 0) usage(`${flag} needs a positive integer, got ${value ?? 'nothing'}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    switch (flag) {
      case '--json':
        json = true;
        break;
      case '--markdown':
        markdown = true;
        break;
      case '--records':
        records = positive('--records', inline ?? argv[++i]);
        break;
      case '--partitions':
        partitions = positive('--partitions', inline ?? argv[++i]);
        break;
      case '--rounds':
        rounds = positive('--rounds', inline ?? argv[++i]);
        break;
      case '--rate':
        rate = positive('--rate', inline ?? argv[++i]);
        break;
      case '--profile':
        if (inline !== undefined) profileDir = resolve(inline);
        else if (argv[i + 1] !== undefined && !argv[i + 1].startsWith('--') && !scenarios.some((s) => s.name === argv[i + 1])) profileDir = resolve(argv[++i]);
        else profileDir = join(repoRoot, '.tributary', 'bench', 'profiles');
        break;
      case '--help':
      case '-h':
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
        break;
      default:
        if (arg.startsWith('-')) usage(`unknown option '${arg}'`);
        if (scenario !== undefined) usage(`one scenario at a time (got '${scenario}' and '${arg}')`);
        scenario = arg;
    }
  }
  return { scenario, json, markdown, records, partitions, rounds, profileDir, rate };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const selected = args.scenario === undefined ? scenarios : scenarios.filter((s) => s.name === args.scenario);
  if (selected.length === 0) {
    process.stderr.write(`unknown scenario '${args.scenario}'; known scenarios: ${scenarios.map((s) => s.name).join(', ')}\n`);
    process.exit(2);
  }
  if (args.profileDir) mkdirSync(args.profileDir, { recursive: true });
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const results: ScenarioResult[] = [];
  let ok = true;
  for (const scenario of selected) {
    log(`== ${scenario.name}: ${scenario.description}`);
    const started = performance.now();
    try {
      const result = await scenario.run({ records: args.records, partitions: args.partitions, rounds: args.rounds, profileDir: args.profileDir, rate: args.rate, log });
      const wallSeconds = Math.round((performance.now() - started) / 100) / 10;
      log(`== ${scenario.name}: done in ${wallSeconds} s`);
      results.push({ ...result, wallSeconds });
      if ([...Object.values(result.tributary), ...Object.values(result.anchors)].some((m) => m.error)) ok = false;
    } catch (err) {
      ok = false;
      log(`${scenario.name}: FAILED: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const report = { scenarios: results, machine: machine(), versions: versions() };
  const text = render(results, report.machine, report.versions, args.markdown);
  if (args.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    log(`\n${text}`);
  } else {
    process.stdout.write(`\n${text}\n`);
  }
  process.exit(ok ? 0 : 1);
}

function render(results: readonly ScenarioResult[], m: ReturnType<typeof machine>, v: ReturnType<typeof versions>, markdown: boolean): string {
  const out: string[] = [];
  for (const r of results) {
    const params = Object.entries(r.params)
      .filter(([k]) => k !== 'brokerPid')
      .map(([k, val]) => `${k}=${String(val)}`)
      .join(' ');
    const took = r.wallSeconds !== undefined ? `, ${r.wallSeconds} s` : '';
    out.push(markdown ? `### ${r.name}\n\n${params}${took}\n` : `${r.name}  (${params}${took})`);
    out.push((markdown ? markdownTable : table)(resultHeader(r), resultRows(r)));
    const extra = Object.entries(r.extraRatios ?? {}).flatMap(([anchor, figures]) =>
      Object.entries(figures).map(([figure, ratio]) => `tributary ÷ ${anchor}, ${figure}: ${ratio.toFixed(2)}×`),
    );
    out.push(...[...extra, ...r.notes].map((n) => (markdown ? `- ${n}` : `  · ${n}`)));
    for (const [name, e] of Object.entries({ ...r.anchors, ...r.tributary })) if (e.error) out.push(`  ${name} failed: ${e.error}`);
    out.push('');
  }
  out.push(`machine: ${m.cpus} × ${m.model}, ${m.memory}, node ${m.node}`);
  out.push(`versions: kafka ${v.kafka}, kafkajs ${v.kafkajs}, node ${v.node}, tributary ${v.tributary} (${v.commit})`);
  return out.join('\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
