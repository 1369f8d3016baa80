// `npm run chaos -- [--profile ci|soak] [--duration 30m] [--seed N] [--json] [--keep] [--only kind,kind] [--exactly-once]`
//
// Runs the chaos suite (docs/chaos.md): its own Kafka broker and nats-server, worker processes,
// a seeded fault schedule, and a verifier over everything the run wrote. Prints the report
// (a table per fault and a verdict; JSON with --json) and exits 1 on any violation.
import { PROFILES, parseDuration, type Profile } from './profiles.js';
import { runChaos } from './harness.js';
import { formatReport } from './report.js';
import { FAULT_KINDS, type FaultKind } from './schedule.js';

interface Args {
  profile: Profile;
  seed: number;
  json: boolean;
  keep: boolean;
  only: FaultKind[] | undefined;
  exactlyOnce: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  let profileName: string = 'ci';
  let duration: string | undefined;
  let seed: number | undefined;
  let json = false;
  let keep = false;
  let only: FaultKind[] | undefined;
  let exactlyOnce = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--profile') profileName = value();
    else if (arg === '--duration') duration = value();
    else if (arg === '--seed') seed = Number(value());
    else if (arg === '--json') json = true;
    else if (arg === '--keep') keep = true;
    else if (arg === '--exactly-once') exactlyOnce = true;
    else if (arg === '--only') {
      only = value().split(',').map((k) => k.trim()) as FaultKind[];
      const unknown = only.filter((k) => !(FAULT_KINDS as readonly string[]).includes(k));
      if (unknown.length > 0) throw new Error(`--only: unknown fault classes ${unknown.join(', ')} (known: ${FAULT_KINDS.join(', ')})`);
    }
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write('usage: npm run chaos -- [--profile ci|soak] [--duration 30m] [--seed N] [--json] [--keep] [--only kind,kind] [--exactly-once]\n');
      process.exit(0);
    } else throw new Error(`unknown argument '${arg}' (see --help)`);
  }
  const base = PROFILES[profileName as Profile['name']];
  if (!base) throw new Error(`--profile: expected ci or soak, got '${profileName}'`);
  if (seed !== undefined && !Number.isSafeInteger(seed)) throw new Error('--seed: expected an integer');
  let profile: Profile = base;
  if (duration !== undefined) {
    if (base.mode !== 'cycle') throw new Error('--duration applies to --profile soak (ci runs every fault class once)');
    profile = { ...base, durationMs: parseDuration(duration) };
  }
  return { profile, seed: seed ?? Math.floor(Math.random() * 1_000_000), json, keep, only, exactlyOnce };
}

let args: Args;
try {
  args = parseArgs(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`chaos: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
}
const report = await runChaos({
  profile: args.profile,
  seed: args.seed,
  keep: args.keep,
  only: args.only,
  exactlyOnce: args.exactlyOnce,
  progress: (line) => process.stderr.write(`${line}\n`),
});
process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
process.exit(report.verdict === 'PASS' ? 0 : 1);
