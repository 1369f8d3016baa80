import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ServiceError } from './errors.js';
import { withLock } from './lock.js';
import { cacheDir, kafkaPom, runDir } from './paths.js';
import { tail, which } from './process.js';

/** A resolved Kafka release: its jars, cached outside the repository. */
export interface KafkaDist {
  readonly version: string;
  /** `<cache>/kafka-<version>` */
  readonly home: string;
  /** The java classpath: `<home>/libs/*` */
  readonly classpath: string;
  /** The java executable to run it with. */
  readonly java: string;
}

interface Manifest {
  readonly version: string;
  readonly pomSha256: string;
  readonly jars: readonly string[];
}

/** Progress lines for a person watching (services:up prints them). */
export type Log = (line: string) => void;

const silent: Log = () => undefined;

/** The Kafka version pinned by scripts/kafka/pom.xml (`<kafka.version>`). */
export function kafkaVersion(): string {
  const match = /<kafka\.version>\s*([^<\s]+)\s*<\/kafka\.version>/.exec(readFileSync(kafkaPom, 'utf8'));
  if (!match?.[1]) throw new ServiceError(`${kafkaPom} has no <kafka.version> property`);
  return match[1];
}

/**
 * The pinned Kafka release, resolved from Maven Central with `mvn` on first use and cached in
 * `~/.cache/tributary/kafka-<version>/libs`; later calls (any clone, any run) find the cache
 * complete and run no mvn at all. The cache is redone when the pom changes.
 */
export async function ensureKafkaDist(log: Log = silent): Promise<KafkaDist> {
  const java = javaExecutable();
  const version = kafkaVersion();
  const home = join(cacheDir(), `kafka-${version}`);
  const libs = join(home, 'libs');
  const dist: KafkaDist = { version, home, classpath: join(libs, '*'), java };
  const pom = readFileSync(kafkaPom);
  const pomSha256 = createHash('sha256').update(pom).digest('hex');
  if (cacheIsComplete(home, pomSha256)) return dist;
  // Two test files starting their own brokers on a cold cache resolve it once.
  return withLock(`${home}.lock`, async () => {
    if (!cacheIsComplete(home, pomSha256)) await resolveWithMaven(version, home, pomSha256, log);
    return dist;
  });
}

async function resolveWithMaven(version: string, home: string, pomSha256: string, log: Log): Promise<void> {
  const libs = join(home, 'libs');
  const mvn = which('mvn');
  if (!mvn) {
    throw new ServiceError(
      `mvn not found on PATH: it resolves Apache Kafka ${version} from Maven Central into ${libs} ` +
        `(install it with: apt-get install -y maven)`,
    );
  }
  mkdirSync(runDir(), { recursive: true });
  const mvnLog = join(runDir(), 'mvn.log');
  const staging = join(home, `libs.tmp-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  log(`resolving Apache Kafka ${version} from Maven Central into ${libs} (mvn log: ${mvnLog})`);
  const code = await run(
    mvn,
    ['-B', '-q', '-Dstyle.color=never', '-f', kafkaPom, 'dependency:copy-dependencies', `-DoutputDirectory=${staging}`],
    mvnLog,
  );
  const jars = existsSync(staging) ? readdirSync(staging).filter((f) => f.endsWith('.jar')).sort() : [];
  if (code !== 0 || !jars.includes(`kafka_2.13-${version}.jar`)) {
    rmSync(staging, { recursive: true, force: true });
    const excerpt = tail(mvnLog, 15);
    throw new ServiceError(
      `mvn could not resolve Apache Kafka ${version} (org.apache.kafka:kafka_2.13) and its dependencies ` +
        `from Maven Central (exit code ${code}); is the registry reachable?` +
        (excerpt ? `\n${indent(excerpt)}` : ''),
      { logFile: mvnLog },
    );
  }
  rmSync(libs, { recursive: true, force: true });
  renameSync(staging, libs);
  const manifest: Manifest = { version, pomSha256, jars };
  writeFileSync(join(home, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  log(`cached ${jars.length} jars for Apache Kafka ${version} in ${libs}`);
}

function cacheIsComplete(home: string, pomSha256: string): boolean {
  try {
    const manifest = JSON.parse(readFileSync(join(home, 'manifest.json'), 'utf8')) as Manifest;
    if (manifest.pomSha256 !== pomSha256 || manifest.jars.length === 0) return false;
    return manifest.jars.every((jar) => existsSync(join(home, 'libs', jar)));
  } catch {
    return false;
  }
}

let javaChecked: string | undefined;

/**
 * The java executable (`$JAVA_HOME/bin/java`, else `java` on PATH), checked to be Java 17 or
 * newer, which Kafka 4 brokers need.
 */
export function javaExecutable(): string {
  if (javaChecked) return javaChecked;
  const fromHome = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : undefined;
  const java = fromHome && existsSync(fromHome) ? fromHome : which('java');
  if (!java) {
    throw new ServiceError(
      'java not found (no $JAVA_HOME/bin/java, no java on PATH): the Kafka broker for tests needs ' +
        'Java 17 or newer (install it with: apt-get install -y openjdk-17-jre-headless)',
    );
  }
  const probe = spawnSync(java, ['-version'], { encoding: 'utf8' });
  const match = /version "(\d+)(?:\.(\d+))?/.exec(`${probe.stderr}${probe.stdout}`);
  const major = match ? Number(match[1] === '1' ? match[2] : match[1]) : NaN;
  if (!(major >= 17)) {
    throw new ServiceError(
      `${java} is not Java 17 or newer (it says: ${(probe.stderr || probe.stdout || '').split('\n')[0]}); ` +
        'Kafka 4 brokers need Java 17+',
    );
  }
  javaChecked = java;
  return java;
}

function run(command: string, args: string[], logFile: string): Promise<number | null> {
  const out = openSync(logFile, 'w');
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, { stdio: ['ignore', out, out] });
    closeSync(out);
    child.once('error', () => resolvePromise(null));
    child.once('exit', (code) => resolvePromise(code));
  });
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}
