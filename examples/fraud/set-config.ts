/**
 * Changes the fraud thresholds of a running cluster, through its NATS broadcast:
 *
 *   npx tsx examples/fraud/set-config.ts --nats nats://127.0.0.1:4222 --cluster shop1 '{"velocity":{"count":3}}'
 *   npx tsx examples/fraud/set-config.ts --nats nats://127.0.0.1:4222 --cluster shop1 --show
 *   npx tsx examples/fraud/set-config.ts --nats nats://127.0.0.1:4222 --cluster shop1 --reset
 *
 * The JSON gives some thresholds; the others keep their current value (the published one, else
 * the spec's default). The result is validated before it is published: a wrong value is
 * refused here with a message naming it, and never reaches the partitions. Prints the new
 * configuration and its revision.
 *
 * Exit codes: 0 done, 1 failed (NATS unreachable), 2 a bad command line or value.
 */
import { parseArgs } from 'node:util';
import { BroadcastState, ConfigError, createLogger } from 'tributary';
import { FRAUD_CONFIG_BROADCAST } from './app.js';
import { DEFAULT_FRAUD_CONFIG, FraudConfigSchema, resolveFraudConfig, type FraudConfig } from './fraud-config.js';

const USAGE = `usage: npx tsx examples/fraud/set-config.ts --nats URL --cluster NAME ('{"rule":{"setting":value}}' | --show | --reset)`;

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { nats: { type: 'string' }, cluster: { type: 'string' }, show: { type: 'boolean' }, reset: { type: 'boolean' } },
    });
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const actions = [values.show, values.reset, positionals.length > 0].filter(Boolean).length;
  if (!values.nats || !values.cluster || actions !== 1 || positionals.length > 1) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  let overrides: unknown = {};
  if (positionals.length === 1) {
    try {
      overrides = JSON.parse(positionals[0]);
    } catch (err) {
      process.stderr.write(`error: the thresholds are not JSON: ${(err as Error).message}\n`);
      return 2;
    }
  }
  const state = await BroadcastState.open<FraudConfig>({
    servers: values.nats,
    cluster: values.cluster,
    name: FRAUD_CONFIG_BROADCAST,
    schema: FraudConfigSchema,
    logger: createLogger({ level: 'warn' }),
    connectionOptions: { maxReconnectAttempts: 0 },
  });
  try {
    const current = state.latest();
    if (values.show) {
      process.stdout.write(`${JSON.stringify({ revision: current?.revision ?? 0, config: current?.value ?? DEFAULT_FRAUD_CONFIG }, null, 2)}\n`);
      return 0;
    }
    let next: FraudConfig;
    try {
      next = values.reset ? DEFAULT_FRAUD_CONFIG : resolveFraudConfig(overrides, current?.value ?? DEFAULT_FRAUD_CONFIG);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(`error: ${err.message}\n`);
      return 2;
    }
    const revision = await state.publish(next);
    process.stdout.write(`${JSON.stringify({ revision, config: next }, null, 2)}\n`);
    return 0;
  } finally {
    await state.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
