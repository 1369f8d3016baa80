import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DeadLetterHeaders, type LogRecord } from 'tributary';
import { LINE_HEADER, linesByNumber } from './input-lines.js';
import { RESULT_ID_HEADER } from './identified-result.js';
import { LATE_FOR_HEADER, SOURCE_HEADER } from './result-sinks.js';

/** `summary.json`. */
export interface RunSummary {
  /** Input records: the non-blank lines of the input file (or, for an app that says so, those that are not dead letters). */
  readonly recordsIn: number;
  readonly deadLetters: number;
  readonly late: number;
  /** Records per output, each counted once. */
  readonly outputs: Readonly<Record<string, number>>;
  /**
   * Records read back more than once and written once: at-least-once re-emissions (identical)
   * of results, late records or dead letters, e.g. after a crash and `--resume`.
   */
  readonly duplicates: number;
}

/** What {@link writeOutputFiles} writes. */
export interface OutputFilesInput {
  readonly outputDir: string;
  /** The input file: dead letters and late records are written as their lines read there. */
  readonly input: string;
  /** The non-blank lines of the input. */
  readonly recordsIn: number;
  /** `'valid'`: `summary.json`'s `recordsIn` counts only the lines that are not dead letters. Default `'lines'`. */
  readonly recordsInCounts?: 'lines' | 'valid';
  /** Each output's records, by output name, as read back from its topic. */
  readonly outputs: ReadonlyMap<string, readonly LogRecord[]>;
  /** The outputs that are tables: the file holds the last record of each key (a table's changelog read back). */
  readonly tables?: ReadonlySet<string>;
  readonly late: readonly LogRecord[];
  /** Every dead-letter topic's records. */
  readonly deadLetters: readonly LogRecord[];
}

const text = (buffer: Buffer | null): string => (buffer === null ? '' : buffer.toString('utf8'));

function header(record: LogRecord, name: string): string | undefined {
  const value = record.headers[name];
  return value === undefined ? undefined : String(value);
}

function lineNumberOf(record: LogRecord): number | undefined {
  const value = header(record, LINE_HEADER);
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/**
 * Writes `<output>.jsonl` for every output, `late.jsonl`, `dead-letter.jsonl` and
 * `summary.json` into `outputDir`, each record once: an output record read twice (an
 * at-least-once re-emission, identical; with a result id, the same id) is written once and
 * counted as a duplicate; so is a late record (for the same output) or dead letter of the same
 * input line. A table output holds the last record of each key. Dead letters and late records are written
 * as their input lines, read again from the input file by line number.
 *
 * @example
 * const summary = await writeOutputFiles({ outputDir: 'out', input: 'clicks.jsonl', recordsIn: 1000, outputs, late, deadLetters });
 */
export async function writeOutputFiles(input: OutputFilesInput): Promise<RunSummary> {
  await mkdir(input.outputDir, { recursive: true });
  let duplicates = 0;
  const counts: Record<string, number> = {};
  for (const [name, records] of input.outputs) {
    let lines: string[];
    if (input.tables?.has(name)) {
      // A table's changelog: the last record of each key is its value (a key stays in one partition, in order).
      const latest = new Map<string, string>();
      for (const record of records) {
        const key = text(record.key);
        latest.delete(key);
        latest.set(key, text(record.value));
      }
      lines = [...latest.values()];
    } else {
      // A result is its id when it has one (two identical rows may be two results), else its content.
      const seen = new Map<string, string>();
      for (const record of records) {
        const line = text(record.value);
        const id = header(record, RESULT_ID_HEADER);
        const identity = id === undefined ? `value:${line}` : `id:${id}`;
        if (seen.has(identity)) duplicates++;
        else seen.set(identity, line);
      }
      lines = [...seen.values()];
    }
    counts[name] = lines.length;
    await writeFile(join(input.outputDir, `${name}.jsonl`), lines.map((l) => `${l}\n`).join(''));
  }

  // Late records and dead letters are identified by their input line (else by where they were read).
  // A line late for several outputs (LATE_FOR_HEADER) is one late record; the same (line, output) twice is a duplicate.
  const late = new Map<string, { lineNumber: number | undefined; value: string }>();
  const lateFor = new Set<string>();
  for (const record of input.late) {
    const lineNumber = lineNumberOf(record);
    const id = lineNumber !== undefined ? `line:${lineNumber}` : (header(record, SOURCE_HEADER) ?? `value:${text(record.value)}`);
    const occurrence = `${id}|${header(record, LATE_FOR_HEADER) ?? ''}`;
    if (lateFor.has(occurrence)) duplicates++;
    else lateFor.add(occurrence);
    if (!late.has(id)) late.set(id, { lineNumber, value: text(record.value) });
  }
  const letters = new Map<string, { lineNumber: number | undefined; reason: string; value: string }>();
  for (const record of input.deadLetters) {
    const lineNumber = lineNumberOf(record);
    const origin = `${header(record, DeadLetterHeaders.topic)}:${header(record, DeadLetterHeaders.partition)}@${header(record, DeadLetterHeaders.offset)}`;
    const id = lineNumber !== undefined ? `line:${lineNumber}` : origin;
    if (letters.has(id)) duplicates++;
    else letters.set(id, { lineNumber, reason: header(record, DeadLetterHeaders.error) ?? 'unknown', value: text(record.value) });
  }

  const wanted = new Set<number>();
  for (const { lineNumber } of [...late.values(), ...letters.values()]) if (lineNumber !== undefined) wanted.add(lineNumber);
  const lines = await linesByNumber(input.input, wanted);
  const byLine = <T extends { lineNumber: number | undefined }>(a: T, b: T): number => (a.lineNumber ?? Infinity) - (b.lineNumber ?? Infinity);

  const lateLines = [...late.values()].sort(byLine).map((r) => (r.lineNumber !== undefined ? (lines.get(r.lineNumber) ?? r.value) : r.value));
  await writeFile(join(input.outputDir, 'late.jsonl'), lateLines.map((l) => `${l}\n`).join(''));

  const letterLines = [...letters.values()].sort(byLine).map((r) =>
    JSON.stringify({
      line: r.lineNumber !== undefined ? (lines.get(r.lineNumber) ?? r.value) : r.value,
      lineNumber: r.lineNumber ?? null,
      reason: r.reason,
    }),
  );
  await writeFile(join(input.outputDir, 'dead-letter.jsonl'), letterLines.map((l) => `${l}\n`).join(''));

  const recordsIn = input.recordsInCounts === 'valid' ? input.recordsIn - letters.size : input.recordsIn;
  const summary: RunSummary = { recordsIn, deadLetters: letters.size, late: late.size, outputs: counts, duplicates };
  await writeFile(join(input.outputDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}
