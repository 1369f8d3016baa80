/**
 * OTP's restart intensity: at most `intensity` restarts within any `periodMs`. A restart
 * `periodMs` or more ago no longer counts. Pure bookkeeping; the supervisor decides what an
 * exceeded intensity means (escalation).
 *
 * @example
 * const window = new RestartIntensity(3, 5_000);
 * [0, 100, 200].every((t) => window.record(t)); // true: 3 restarts allowed
 * window.record(300); // false: a 4th within 5 s
 * window.record(5_100); // true again: only 200, 300 and 5,100 are within 5 s of 5,100
 */
export class RestartIntensity {
  private times: number[] = [];

  constructor(
    readonly intensity: number,
    readonly periodMs: number,
  ) {}

  /** Records a restart at `now`; false when it makes more than `intensity` restarts within `periodMs`. */
  record(now: number): boolean {
    this.times = this.times.filter((t) => now - t < this.periodMs);
    this.times.push(now);
    return this.times.length <= this.intensity;
  }

  /** Restarts that still count at `now`. */
  count(now: number): number {
    return this.times.filter((t) => now - t < this.periodMs).length;
  }

  /** Forgets every restart (a supervisor starting afresh). */
  reset(): void {
    this.times = [];
  }
}
