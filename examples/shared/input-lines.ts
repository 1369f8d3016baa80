import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/** The record header carrying an input record's line number (1-based, blank lines counted). */
export const LINE_HEADER = 'example.line';

/** One non-blank line of an input file. */
export interface InputLine {
  /** The line as read, without its line break. */
  readonly text: string;
  /** 1-based, counting every physical line (blank ones too), so it matches an editor's. */
  readonly lineNumber: number;
}

/** True for an empty or whitespace-only line: the spec's blank lines, skipped. */
export function isBlank(text: string): boolean {
  return text.trim().length === 0;
}

/**
 * The non-blank lines of `file`, streamed (the file is never in memory as a whole). `\n` and
 * `\r\n` both end a line.
 *
 * @example
 * for await (const { text, lineNumber } of readInputLines('clicks.jsonl')) console.log(lineNumber, text.length);
 */
export async function* readInputLines(file: string): AsyncGenerator<InputLine> {
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let lineNumber = 0;
  for await (const text of lines) {
    lineNumber++;
    if (!isBlank(text)) yield { text, lineNumber };
  }
}

/**
 * The text of the given lines of `file` (one streaming pass): how dead letters and late records
 * are mapped back to the input lines as read.
 *
 * @example
 * const texts = await linesByNumber('clicks.jsonl', new Set([3, 17]));
 */
export async function linesByNumber(file: string, wanted: ReadonlySet<number>): Promise<Map<number, string>> {
  const found = new Map<number, string>();
  if (wanted.size === 0) return found;
  for await (const { text, lineNumber } of readInputLines(file)) {
    if (wanted.has(lineNumber)) found.set(lineNumber, text);
    if (found.size === wanted.size) break;
  }
  return found;
}

/** How many records (non-blank lines) `file` holds. */
export async function countInputRecords(file: string): Promise<number> {
  let count = 0;
  for await (const _line of readInputLines(file)) count++;
  return count;
}
