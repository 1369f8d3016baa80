/**
 * A terminal view that redraws a block of lines in place (plain ANSI escapes) when the output
 * is a terminal, and prints a plain line now and then when it is not (a pipe, a CI log).
 *
 * @example
 * const view = new LiveView(process.stdout);
 * view.render(['line one', 'line two']); // redraws the same two lines on a TTY
 * view.done();
 */
export class LiveView {
  private drawn = 0;
  private lastPlain = 0;
  readonly tty: boolean;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly plainIntervalMs = 1_000,
  ) {
    this.tty = Boolean(out.isTTY) && process.env.TERM !== 'dumb';
    if (this.tty) out.write('\x1b[?25l'); // hide the cursor while redrawing
  }

  /**
   * Shows `lines` (TTY: in place of the previous block) or, off a terminal, `plain` at most once
   * per `plainIntervalMs` (or at once with `force`).
   */
  render(lines: readonly string[], plain: string, force = false): void {
    if (!this.tty) {
      const now = Date.now();
      if (force || now - this.lastPlain >= this.plainIntervalMs) {
        this.lastPlain = now;
        this.out.write(`${plain}\n`);
      }
      return;
    }
    const width = this.out.columns ?? 120;
    let frame = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    for (const line of lines) frame += `\x1b[2K${truncate(line, width)}\n`;
    // A shorter block than the last one: clear what is left below it.
    for (let i = lines.length; i < this.drawn; i++) frame += '\x1b[2K\n';
    if (this.drawn > lines.length) frame += `\x1b[${this.drawn - lines.length}A`;
    this.out.write(frame);
    this.drawn = lines.length;
  }

  /** Leaves the last block on screen and shows the cursor again. */
  done(): void {
    if (this.tty) this.out.write('\x1b[?25h');
  }
}

/** Visible length of `text`: without ANSI escapes, wide (CJK, emoji) characters as two columns. */
export function visibleWidth(text: string): number {
  let width = 0;
  // eslint-disable-next-line no-control-regex -- ANSI escape sequences start with ESC
  for (const ch of text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')) {
    const cp = ch.codePointAt(0)!;
    width += cp >= 0x1100 && (cp <= 0x115f || (cp >= 0x2e80 && cp <= 0xa4cf) || (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) || cp >= 0x1f300) ? 2 : 1;
  }
  return width;
}

/** Cuts `text` to `width` visible columns (keeping its escapes), so a redrawn line never wraps. */
function truncate(text: string, width: number): string {
  if (visibleWidth(text) <= width) return text;
  let out = '';
  let used = 0;
  // eslint-disable-next-line no-control-regex -- ANSI escape sequences start with ESC
  for (const part of text.split(/(\x1b\[[0-9;?]*[A-Za-z])/)) {
    if (part.startsWith('\x1b[')) {
      out += part;
      continue;
    }
    for (const ch of part) {
      const w = visibleWidth(ch);
      if (used + w > width - 1) return `${out}…\x1b[0m`;
      out += ch;
      used += w;
    }
  }
  return out;
}

/** A progress bar `[████░░░░]` of `width` cells for a fraction in [0, 1]. */
export function progressBar(fraction: number, width = 30): string {
  const f = Math.max(0, Math.min(1, Number.isFinite(fraction) ? fraction : 0));
  const full = Math.round(f * width);
  return `[${'█'.repeat(full)}${'░'.repeat(width - full)}]`;
}

/** A plain text table: a header row, the first column left-aligned, the others right-aligned. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(visibleWidth(h), ...rows.map((r) => visibleWidth(r[i] ?? ''))));
  const pad = (cell: string, i: number, right: boolean): string => {
    const gap = ' '.repeat(widths[i] - visibleWidth(cell));
    return right ? gap + cell : cell + gap;
  };
  const line = (cells: readonly string[]): string => `  ${cells.map((c, i) => pad(c, i, i > 0)).join('   ')}`;
  const rule = `  ${widths.map((w) => '─'.repeat(w)).join('   ')}`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}
