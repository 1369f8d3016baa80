import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { ServiceError } from './errors.js';
import type { Log } from './kafka-dist.js';
import { withLock } from './lock.js';
import { runDir } from './paths.js';
import { tail, which } from './process.js';

/**
 * The nats-server executable: `$TRIBUTARY_NATS_SERVER`, else nats-server on PATH, else
 * installed from Debian's packages (`apt-get update && apt-get install -y nats-server`, as
 * root, or through `sudo -n` otherwise).
 */
export async function ensureNatsServerBinary(log: Log = () => undefined): Promise<string> {
  const configured = process.env.TRIBUTARY_NATS_SERVER;
  if (configured) return configured;
  const found = which('nats-server');
  if (found) return found;
  return withLock(join(runDir(), 'apt.lock'), async () => {
    const again = which('nats-server');
    if (again) return again;
    const aptLog = join(runDir(), 'apt.log');
    const isRoot = process.getuid?.() === 0;
    const sudo = isRoot ? undefined : which('sudo');
    if (!isRoot && !sudo) {
      throw new ServiceError(
        'nats-server not found on PATH, and installing it needs root or sudo: run `apt-get install -y nats-server` ' +
          'as root, or set TRIBUTARY_NATS_SERVER to a nats-server executable',
      );
    }
    const asRoot = (args: string[]): [string, string[]] => (sudo ? [sudo, ['-n', ...args]] : [args[0], args.slice(1)]);
    log(`installing nats-server from Debian's packages (log: ${aptLog})`);
    mkdirSync(runDir(), { recursive: true });
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    for (const step of [['apt-get', 'update'], ['apt-get', 'install', '-y', '--no-install-recommends', 'nats-server']]) {
      const [command, args] = asRoot(step);
      const code = await run(command, args, aptLog, env);
      if (code !== 0) {
        throw new ServiceError(
          `\`${step.join(' ')}\` failed (exit code ${code}) while installing nats-server; ` +
            `install it by hand or set TRIBUTARY_NATS_SERVER\n${tail(aptLog, 10)}`,
          { logFile: aptLog },
        );
      }
    }
    const installed = which('nats-server');
    if (!installed) throw new ServiceError('nats-server was installed but is not on PATH', { logFile: aptLog });
    return installed;
  });
}

function run(command: string, args: string[], logFile: string, env: NodeJS.ProcessEnv): Promise<number | null> {
  const out = openSync(logFile, 'a');
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, { stdio: ['ignore', out, out], env });
    closeSync(out);
    child.once('error', () => resolvePromise(null));
    child.once('exit', (code) => resolvePromise(code));
  });
}
