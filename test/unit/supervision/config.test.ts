import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { childSpec, type ChildSpecOptions, type RestartType } from '../../../src/supervision/child-spec.js';
import { supervisorFlags, type Strategy } from '../../../src/supervision/supervisor-flags.js';
import { Supervisor } from '../../../src/supervision/supervisor.js';
import { silentLogger } from './support.js';

const start: ChildSpecOptions['start'] = async () => ({ stop: async () => {}, done: new Promise(() => {}) });

function settingOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.setting;
    throw err;
  }
  return undefined;
}

describe('child specifications', () => {
  it('default to a permanent worker with a 5,000 ms shutdown timeout', () => {
    const spec = childSpec({ id: 'a', start });
    expect(spec).toEqual({ id: 'a', start, restart: 'permanent', shutdownTimeoutMs: 5_000, type: 'worker' });
    expect(Object.isFrozen(spec)).toBe(true);
  });

  it('reject invalid values with a ConfigError naming the setting and the child', () => {
    expect(settingOf(() => childSpec({ id: '', start }))).toBe('child.id');
    expect(settingOf(() => childSpec({ id: 'a/b', start }))).toBe('child.id');
    expect(settingOf(() => childSpec({ id: 'a', start: undefined as unknown as ChildSpecOptions['start'] }))).toBe('child.start');
    expect(settingOf(() => childSpec({ id: 'a', start, restart: 'sometimes' as RestartType }))).toBe('child.restart');
    expect(settingOf(() => childSpec({ id: 'a', start, shutdownTimeoutMs: -1 }))).toBe('child.shutdownTimeoutMs');
    expect(settingOf(() => childSpec({ id: 'a', start, shutdownTimeoutMs: 1.5 }))).toBe('child.shutdownTimeoutMs');
    expect(() => childSpec({ id: 'clicks-0', start, restart: 'always' as RestartType })).toThrow(/child 'clicks-0'.*"always"/);
  });

  it('accept an infinite shutdown timeout', () => {
    expect(childSpec({ id: 'a', start, shutdownTimeoutMs: Infinity }).shutdownTimeoutMs).toBe(Infinity);
  });
});

describe('supervisor flags', () => {
  it('default to one-for-one, at most 3 restarts within 5,000 ms, backoff reset after 30,000 ms', () => {
    expect(supervisorFlags()).toEqual({ strategy: 'one-for-one', intensity: 3, periodMs: 5_000, backoff: {}, resetAfterMs: 30_000 });
  });

  it('reject invalid values with a ConfigError naming the setting', () => {
    expect(settingOf(() => supervisorFlags({ strategy: 'one-for-some' as Strategy }))).toBe('supervisor.strategy');
    expect(settingOf(() => supervisorFlags({ intensity: -1 }))).toBe('supervisor.intensity');
    expect(settingOf(() => supervisorFlags({ intensity: 2.5 }))).toBe('supervisor.intensity');
    expect(settingOf(() => supervisorFlags({ periodMs: 0 }))).toBe('supervisor.periodMs');
    expect(settingOf(() => supervisorFlags({ resetAfterMs: Number.NaN }))).toBe('supervisor.resetAfterMs');
    expect(settingOf(() => supervisorFlags({ backoff: { minMs: 500, maxMs: 100 } }))).toBe('supervisor.backoff.maxMs');
    expect(() => supervisorFlags({ backoff: { jitter: 2 } })).toThrow("invalid configuration 'supervisor.backoff.jitter': must be within [0, 1], got 2");
  });

  it('are immutable', () => {
    const flags = supervisorFlags({ backoff: { minMs: 10 } });
    expect(Object.isFrozen(flags)).toBe(true);
    expect(Object.isFrozen(flags.backoff)).toBe(true);
  });
});

describe('supervisor options', () => {
  it('reject duplicate child ids, a bad name and an unknown escalation policy at construction', () => {
    expect(settingOf(() => new Supervisor({ name: 'sup', logger: silentLogger, children: [{ id: 'a', start }, { id: 'a', start }] }))).toBe('supervisor.children');
    expect(settingOf(() => new Supervisor({ name: 'a/b' }))).toBe('supervisor.name');
    expect(settingOf(() => new Supervisor({ name: 'sup', onEscalation: 'retry' as 'exit' }))).toBe('supervisor.onEscalation');
    expect(settingOf(() => new Supervisor({ name: 'sup', flags: { intensity: -3 } }))).toBe('supervisor.intensity');
    expect(settingOf(() => new Supervisor({ name: 'sup', children: [{ id: 'x', start, restart: 'never' as RestartType }] }))).toBe('child.restart');
  });
});
