import { ConfigError } from '../../errors.js';

/**
 * Options of the web console (`createTributary({ ui })`). Every key is optional; `ui: true` takes
 * the defaults.
 *
 * @example
 * createTributary({ processors, httpPort: 9464, ui: { controlToken: process.env.TRIBUTARY_UI_TOKEN } });
 * // open http://127.0.0.1:9464/ui/
 */
export interface ConsoleOptions {
  /**
   * Enables the control buttons (pause, resume, drain a processor; cluster-wide with `cluster`):
   * a request must carry `Authorization: Bearer <controlToken>`. Default: none, the console is
   * read-only and every control request is refused (403). At least 16 characters.
   */
  readonly controlToken?: string;
  /** Time between live updates. Default 1,000 ms; at least 250 ms (4 updates a second at most). */
  readonly intervalMs?: number;
  /** Partition rows in a live update, the most interesting first (failed, restarting, most lag). Default 100, at most 1,000. */
  readonly maxRows?: number;
  /** Children listed per supervisor in a live update, the most interesting first; the others are counted by state. Default 50. */
  readonly maxChildren?: number;
  /** Browsers connected at once; more are refused (503). Default 16. */
  readonly maxClients?: number;
  /** Minutes of plot history kept and sent to a browser when it connects. Default 10. */
  readonly historyMinutes?: number;
}

/** {@link ConsoleOptions} with every default filled in. */
export interface ResolvedConsoleOptions {
  readonly controlToken: string | undefined;
  readonly intervalMs: number;
  readonly maxRows: number;
  readonly maxChildren: number;
  readonly maxClients: number;
  readonly historyMinutes: number;
}

/** The fewest milliseconds between two live updates: 4 a second at most. */
export const MIN_CONSOLE_INTERVAL_MS = 250;

/**
 * Validates console options and fills in the defaults; throws a {@link ConfigError} naming the
 * setting (`ui.intervalMs`, ...).
 *
 * @example
 * resolveConsoleOptions(true).intervalMs; // 1000
 */
export function resolveConsoleOptions(ui: boolean | ConsoleOptions): ResolvedConsoleOptions {
  const options: ConsoleOptions = ui === true ? {} : ui === false ? {} : ui;
  const integer = (name: keyof ConsoleOptions, fallback: number, min: number, max: number): number => {
    const value = options[name] ?? fallback;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
      throw new ConfigError(`ui.${name}`, `must be an integer from ${min} to ${max}, got ${String(value)}`);
    }
    return value;
  };
  const token = options.controlToken;
  if (token !== undefined && (typeof token !== 'string' || token.length < 16)) {
    throw new ConfigError('ui.controlToken', 'must be a string of at least 16 characters (it guards pause, resume and drain)');
  }
  return {
    controlToken: token,
    intervalMs: integer('intervalMs', 1_000, MIN_CONSOLE_INTERVAL_MS, 60_000),
    maxRows: integer('maxRows', 100, 1, 1_000),
    maxChildren: integer('maxChildren', 50, 1, 1_000),
    maxClients: integer('maxClients', 16, 1, 256),
    historyMinutes: integer('historyMinutes', 10, 1, 60),
  };
}
