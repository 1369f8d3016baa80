import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (two levels above this file). */
export const repoRoot: string = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Where the shared services keep logs, pid files and data: `<repo>/.tributary/run/`
 * (gitignored), or `TRIBUTARY_RUN_DIR`.
 */
export function runDir(): string {
  return process.env.TRIBUTARY_RUN_DIR ?? join(repoRoot, '.tributary', 'run');
}

/**
 * Where downloaded artefacts (the Kafka jars) are cached across clones and runs:
 * `$TRIBUTARY_CACHE_DIR`, else `$XDG_CACHE_HOME/tributary`, else `~/.cache/tributary`.
 */
export function cacheDir(): string {
  if (process.env.TRIBUTARY_CACHE_DIR) return process.env.TRIBUTARY_CACHE_DIR;
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg && xdg.length > 0 ? xdg : join(homedir(), '.cache'), 'tributary');
}

/** The pom that pins the Kafka release and its runtime classpath. */
export const kafkaPom: string = join(repoRoot, 'scripts', 'kafka', 'pom.xml');

/** The broker's log4j2 configuration (logs to the file named by -Dtributary.kafka.logFile). */
export const kafkaLog4jConfig: string = join(repoRoot, 'scripts', 'kafka', 'log4j2.xml');
