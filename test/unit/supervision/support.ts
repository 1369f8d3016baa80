import { pino, type Logger } from 'pino';
import type { ChildExit, ChildHandle, ChildSpecOptions } from '../../../src/supervision/child-spec.js';
import { SimulatedClock } from '../../../src/supervision/simulated-clock.js';
import { Supervisor, type SupervisorOptions } from '../../../src/supervision/supervisor.js';
import type { SupervisorEvent } from '../../../src/supervision/supervisor-event.js';

/** How a fake child behaves. */
export interface FakeBehaviour extends Omit<ChildSpecOptions, 'id' | 'start'> {
  /** Whether start number `n` (1-based) rejects. Default: never. */
  readonly failStart?: (n: number) => boolean;
  /** Never ends when asked to stop. */
  readonly hangOnStop?: boolean;
  /** Ends this long (simulated) after being asked to stop. Default 0. */
  readonly stopTakesMs?: number;
  /** Crashes this long (simulated) after start number `n` (1-based); `undefined`: runs until told. */
  readonly crashAfterMs?: (n: number) => number | undefined;
}

interface Running {
  readonly end: (exit: ChildExit) => void;
}

/**
 * Fake children on a simulated clock, recording what happens to them in `log`
 * (`'start a'`, `'start-failed a'`, `'stop a (restart)'`).
 */
export class FakeChildren {
  readonly log: string[] = [];
  private readonly running = new Map<string, Running>();
  private readonly starts = new Map<string, number>();

  constructor(private readonly clock: SimulatedClock) {}

  spec(id: string, behaviour: FakeBehaviour = {}): ChildSpecOptions {
    const { failStart, hangOnStop, stopTakesMs = 0, crashAfterMs, ...rest } = behaviour;
    return {
      ...rest,
      id,
      start: async (): Promise<ChildHandle> => {
        const n = (this.starts.get(id) ?? 0) + 1;
        this.starts.set(id, n);
        if (failStart?.(n)) {
          this.log.push(`start-failed ${id}`);
          throw new Error(`${id} failed to start (${n})`);
        }
        this.log.push(`start ${id}`);
        let resolve!: (exit: ChildExit) => void;
        const done = new Promise<ChildExit>((r) => (resolve = r));
        let ended = false;
        const end = (exit: ChildExit): void => {
          if (ended) return;
          ended = true;
          if (this.running.get(id) === entry) this.running.delete(id);
          resolve(exit);
        };
        const entry: Running = { end };
        this.running.set(id, entry);
        const crashIn = crashAfterMs?.(n);
        if (crashIn !== undefined) this.clock.setTimeout(() => end({ reason: 'failed', error: new Error(`${id} crashed (${n})`) }), crashIn);
        return {
          done,
          stop: async (reason) => {
            this.log.push(`stop ${id} (${reason})`);
            if (hangOnStop) return;
            if (stopTakesMs > 0) this.clock.setTimeout(() => end({ reason: 'shutdown' }), stopTakesMs);
            else end({ reason: 'shutdown' });
          },
        };
      },
    };
  }

  /** The running child `id` fails with `error`. */
  crash(id: string, error: Error = new Error(`${id} crashed`)): Error {
    this.mustRun(id).end({ reason: 'failed', error });
    return error;
  }

  /** The running child `id` ends on its own with `reason`. */
  exit(id: string, reason: 'normal' | 'shutdown'): void {
    this.mustRun(id).end({ reason });
  }

  isRunning(id: string): boolean {
    return this.running.has(id);
  }

  startsOf(id: string): number {
    return this.starts.get(id) ?? 0;
  }

  /** Forgets the log so far. */
  clearLog(): void {
    this.log.length = 0;
  }

  private mustRun(id: string): Running {
    const running = this.running.get(id);
    if (!running) throw new Error(`test bug: child ${id} is not running`);
    return running;
  }
}

/** A logger that writes nowhere. */
export const silentLogger: Logger = pino({ level: 'silent' });

/** A logger whose lines are kept as parsed objects. */
export function recordingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

/** Everything a supervisor test needs: a clock, fake children, and a supervisor factory with silent logs and no jitter. */
export function harness() {
  const clock = new SimulatedClock(1_000_000);
  const fakes = new FakeChildren(clock);
  const exits: number[] = [];
  const supervisor = (options: SupervisorOptions): Supervisor =>
    new Supervisor({ clock, logger: silentLogger, random: () => 0.5, exit: (code) => void exits.push(code), ...options });
  return { clock, fakes, exits, supervisor };
}

/** Collects the events of `sup` (subscribe before acting). */
export function record(sup: Supervisor): SupervisorEvent[] {
  const events: SupervisorEvent[] = [];
  sup.events.subscribe((e) => events.push(e));
  return events;
}

/** The events of one type, narrowed. */
export function ofType<T extends SupervisorEvent['type']>(events: readonly SupervisorEvent[], type: T): Array<Extract<SupervisorEvent, { type: T }>> {
  return events.filter((e): e is Extract<SupervisorEvent, { type: T }> => e.type === type);
}
