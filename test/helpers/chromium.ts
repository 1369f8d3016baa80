import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { withLock } from '../../scripts/services/lock.js';
import { runDir } from '../../scripts/services/paths.js';
import { tail, which } from '../../scripts/services/process.js';

/** Chromium to drive, or why there is none. */
export type ChromiumLookup = { readonly executablePath: string } | { readonly unavailable: string };

const DEBIAN_PATH = '/usr/bin/chromium';

/**
 * Headless Chromium from Debian's packages: `$TRIBUTARY_CHROMIUM`, else `/usr/bin/chromium` or
 * `chromium` on PATH, else installed the way nats-server is (`apt-get update && apt-get install -y
 * chromium`, as root or through `sudo -n`, under the same apt lock). Never a browser download:
 * `npx playwright install` fetches from outside the package registries. Resolves to why it is
 * unavailable when it cannot be installed (no root, no sudo, apt failing), for a clear skip.
 */
export async function ensureChromium(): Promise<ChromiumLookup> {
  const configured = process.env.TRIBUTARY_CHROMIUM;
  if (configured) return existsSync(configured) ? { executablePath: configured } : { unavailable: `TRIBUTARY_CHROMIUM=${configured} does not exist` };
  const found = (): string | undefined => (existsSync(DEBIAN_PATH) ? DEBIAN_PATH : which('chromium'));
  const present = found();
  if (present) return { executablePath: present };
  mkdirSync(runDir(), { recursive: true });
  return withLock(join(runDir(), 'apt.lock'), async (): Promise<ChromiumLookup> => {
    const again = found();
    if (again) return { executablePath: again };
    const isRoot = process.getuid?.() === 0;
    const sudo = isRoot ? undefined : which('sudo');
    if (!isRoot && !sudo) return { unavailable: 'chromium is not installed, and installing it needs root or sudo (apt-get install -y chromium)' };
    const aptLog = join(runDir(), 'apt.log');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    for (const step of [['apt-get', 'update'], ['apt-get', 'install', '-y', '--no-install-recommends', 'chromium']]) {
      const [command, args] = sudo ? [sudo, ['-n', ...step]] : [step[0], step.slice(1)];
      const code = await run(command, args, aptLog, env);
      if (code !== 0) return { unavailable: `\`${step.join(' ')}\` failed (exit code ${code}) while installing chromium:\n${tail(aptLog, 10)}` };
    }
    const installed = found();
    return installed ? { executablePath: installed } : { unavailable: 'chromium was installed but is not at /usr/bin/chromium nor on PATH' };
  }, 900_000);
}

/** A headless Chromium with a fresh profile; `close()` also deletes the profile. */
export async function launchChromium(executablePath: string): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'tributary-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    viewport: { width: 1400, height: 1000 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
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
