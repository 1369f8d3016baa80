/** Number formatting and the readable table. */
import type { Measurement, ScenarioResult } from '../scenario.js';

export const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');
export const fmtFixed = (n: number | undefined, digits = 2): string => (n === undefined || !Number.isFinite(n) ? '—' : n.toFixed(digits));
export const fmtRatio = (n: number | undefined): string => (n === undefined ? '—' : `${n.toFixed(2)}×`);

/** A plain-text table, columns padded; numbers right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = header.map((_, i) => rows.every((r) => /^[-\d.,×—%+ ]*$/.test(r[i] ?? '')));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The same rows as a Markdown table (for BENCHMARKS.md). */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const numeric = header.map((_, i) => rows.every((r) => /^[-\d.,×—%+ ]*$/.test(r[i] ?? '')));
  return [
    `| ${header.join(' | ')} |`,
    `|${numeric.map((n) => (n ? '---:' : '---')).join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

export const RESULT_HEADER = [
  'run',
  'records/s',
  'records/s total',
  'CPU-s',
  'CPU-s per M',
  'broker CPU-s',
  'vs anchor (rate)',
  'vs anchor (CPU/M)',
] as const;

/** The header of a scenario's table: {@link RESULT_HEADER} plus the scenario's own columns. */
export function resultHeader(result: ScenarioResult): string[] {
  return [...RESULT_HEADER, ...(result.columns ?? []).map((c) => c.label)];
}

/** One row per tributary variant and anchor; a tributary row names the anchor its ratios are against. */
export function resultRows(result: ScenarioResult): string[][] {
  const rows: string[][] = [];
  const columns = result.columns ?? [];
  const extra = (m: Measurement): string[] =>
    columns.map((c) => {
      const v = m.details?.[c.key];
      return typeof v === 'number' ? (c.digits === 0 ? fmtInt(v) : fmtFixed(v, c.digits ?? 1)) : '—';
    });
  const row = (name: string, m: Measurement, rate: string, cpu: string): string[] =>
    m.error
      ? [name, 'FAILED', '', '', '', '', '', '', ...columns.map(() => '')]
      : [
          name,
          fmtInt(m.recordsPerSec),
          fmtInt(m.totalRecordsPerSec),
          fmtFixed(m.cpuSeconds),
          fmtFixed(m.cpuSecondsPerMillion),
          fmtFixed(m.brokerCpuSeconds, 1),
          rate,
          cpu,
          ...extra(m),
        ];
  for (const [name, m] of Object.entries(result.anchors)) rows.push(row(name, m, 'anchor', 'anchor'));
  for (const [name, m] of Object.entries(result.tributary)) {
    const against = Object.entries(result.comparedWith).filter(([, v]) => v === name).map(([a]) => a);
    const rate = against.map((a) => `${fmtRatio(result.ratios[a])} ${a}`).join('; ');
    const cpu = against.map((a) => `${fmtRatio(result.cpuRatios[a])} ${a}`).join('; ');
    rows.push(row(name, m, rate, cpu));
  }
  return rows;
}
