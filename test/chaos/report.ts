// The chaos report as a table (one row per fault) with a verdict, or as JSON.
import type { ChaosReport } from './harness.js';

/** The report as text: the fault table, the verifier's totals, findings and the verdict. */
export function formatReport(report: ChaosReport): string {
  const lines: string[] = [];
  const header = ['#', 'fault', 'detail', 'at s', 'lasted ms', 'recovered ms', 'after end ms', 'lost', 'dup windows', 'dup alerts', 'order', 'violations', 'actor fails', 'peak RSS MiB'];
  const rows = report.faults.map((f) => [
    String(f.index),
    f.kind,
    f.detail,
    (f.injectedAt / 1000).toFixed(1),
    String(f.durationMs),
    f.recoveredAfterMs === null ? 'NEVER' : String(f.recoveredAfterMs),
    f.kind === 'drain' ? '-' : f.stableAfterMs === null ? 'NEVER' : String(f.stableAfterMs),
    String(f.lost),
    String(f.duplicates),
    String(f.duplicateAlerts),
    String(f.orderViolations),
    String(f.violations),
    String(f.partitionFailures),
    String(f.peakRssMb),
  ]);
  lines.push(`chaos ${report.profile}, seed ${report.seed}, started ${report.startedAt}, wall time ${(report.wallMs / 1000).toFixed(0)} s`);
  lines.push('');
  lines.push(...table(header, rows));
  lines.push('');
  const v = report.verification;
  if (v) {
    const s = v.summary;
    lines.push(
      `input: ${s.inputRecords} records (${s.events} events of which ${s.skewed} skewed, ${s.poison} poison, ${s.badLines} bad lines); ` +
        `counted ${s.counted}, late ${s.late}, dead-lettered ${s.deadLettered}, lost ${s.lost}; ` +
        `keys whose sequence numbers do not all arrive: ${s.keysWithGaps} of ${s.keys}`,
    );
    lines.push(
      `windows: ${s.windows} emitted, ${s.referenceWindows} in the reference; ${s.countResults} results written, ` +
        `${s.duplicateResults} identical re-emissions; late duplicates ${s.duplicateLate}, dead-letter duplicates ${s.duplicateDeadLetters}; ` +
        `items re-written to the repartition topic ${s.repartitionRewrites} (dropped downstream)`,
    );
    lines.push(`violations: ${s.violations} (order ${s.orderViolations})`);
    for (const violation of v.violations.slice(0, 20)) lines.push(`  ${violation.kind}: ${violation.detail}`);
    if (v.violations.length > 20) lines.push(`  ... ${v.violations.length - 20} more in the JSON report`);
    for (const notice of v.notices.slice(0, 10)) lines.push(`  notice ${notice.kind}: ${notice.detail}`);
  } else {
    lines.push('verification: not reached');
  }
  const fv = report.fraudVerification;
  if (fv) {
    const s = fv.summary;
    lines.push(
      `fraud: ${s.transactions} transactions (${s.malformed} malformed lines, ${s.late} late, ${s.deadLettered} dead-lettered); ` +
        `alerts ${s.alerts} of ${s.expectedAlerts} expected, ${s.missingAlerts} missing, ${s.unexpectedAlerts} unexpected, ${s.duplicateAlerts} identical re-emissions; violations ${s.violations} (order ${s.orderViolations})`,
    );
    for (const violation of fv.violations.slice(0, 10)) lines.push(`  ${violation.kind}: ${violation.detail}`);
    if (fv.violations.length > 10) lines.push(`  ... ${fv.violations.length - 10} more in the JSON report`);
  }
  lines.push(`producer: ${report.producer.acked} records acknowledged, ${report.producer.retries} sends retried${report.fraudProducer ? `; fraud producer: ${report.fraudProducer.acked} acknowledged, ${report.fraudProducer.retries} retried` : ''}; live results seen on NATS: ${report.liveResults}`);
  lines.push(`peak RSS per worker (MiB): ${Object.entries(report.peakRssMb).map(([w, mb]) => `${w} ${mb}`).join(', ')}`);
  for (const exit of report.unexpectedExits) {
    lines.push(`worker exit not caused by a fault: ${exit.worker}#${exit.incarnation} ${exit.kind} (code ${exit.code}, signal ${exit.signal}), log ${exit.logFile}`);
  }
  lines.push(`run dir: ${report.runDir}`);
  lines.push('');
  if (report.verdict === 'PASS') {
    lines.push(`VERDICT: PASS (replay with --seed ${report.seed})`);
  } else {
    lines.push(`VERDICT: FAIL (replay with --profile ${report.profile} --seed ${report.seed})`);
    for (const failure of report.failures) lines.push(`  - ${failure}`);
  }
  return lines.join('\n');
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const numeric = new Set([0, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
  const format = (cells: readonly string[]): string =>
    `| ${cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ')} |`;
  return [format(header), `|${widths.map((w, i) => (numeric.has(i) ? `${'-'.repeat(w + 1)}:` : `${'-'.repeat(w + 2)}`)).join('|')}|`, ...rows.map(format)];
}
