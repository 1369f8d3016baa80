/**
 * Kafka's own command-line tools (ProducerPerformance, ConsumerPerformance) live in
 * `org.apache.kafka:kafka-tools`, which the broker's classpath (scripts/kafka/pom.xml) does not
 * include. This resolves that one jar with Maven, the way the broker's jars are resolved, into
 * `<cache>/kafka-tools-<version>/` (once; later runs find it), and runs the tools on
 * `kafka-tools.jar : <broker libs>/*` (its dependencies are all among the broker's jars).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from '../../scripts/services/paths.js';
import { ensureKafkaDist, type KafkaDist } from '../../scripts/services/index.js';

export interface KafkaTools {
  readonly dist: KafkaDist;
  readonly java: string;
  readonly classpath: string;
  readonly jar: string;
}

export async function ensureKafkaTools(log: (line: string) => void): Promise<KafkaTools> {
  const dist = await ensureKafkaDist(log);
  const dir = join(cacheDir(), `kafka-tools-${dist.version}`);
  const jar = join(dir, `kafka-tools-${dist.version}.jar`);
  if (!existsSync(jar)) {
    const staging = `${dir}.tmp-${process.pid}`;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    log(`resolving org.apache.kafka:kafka-tools:${dist.version} (ProducerPerformance, ConsumerPerformance) with mvn into ${dir}`);
    const artifact = `org.apache.kafka:kafka-tools:${dist.version}`;
    const { code, output } = await capture('mvn', [
      '-B',
      '-q',
      'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy',
      `-Dartifact=${artifact}`,
      `-DoutputDirectory=${staging}`,
    ]);
    if (code !== 0 || !existsSync(join(staging, `kafka-tools-${dist.version}.jar`))) {
      rmSync(staging, { recursive: true, force: true });
      throw new Error(`mvn could not resolve ${artifact} (exit code ${code}); is Maven Central reachable?\n${output.slice(-2000)}`);
    }
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
  }
  return { dist, java: dist.java, jar, classpath: `${jar}:${dist.classpath}` };
}

function capture(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    let output = '';
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', (err) => resolve({ code: null, output: `${output}${err.message}` }));
    child.once('exit', (code) => resolve({ code, output }));
  });
}
