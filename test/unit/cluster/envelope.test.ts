import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DEFAULT_MAX_ENVELOPE_BYTES, openEnvelope, sealEnvelope } from '../../../src/cluster/envelope.js';
import { EnvelopeTooLargeError } from '../../../src/cluster/errors.js';
import { clusterSubjects, senderOf } from '../../../src/cluster/subjects.js';
import { ConfigError } from '../../../src/errors.js';

const body = z.object({ n: z.number().int() }).strict();
const bodies = { tell: body };
const bytes = (value: unknown): Uint8Array => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
const valid = { v: 1, kind: 'tell', from: 'node-a', id: 'abc123', ts: 1_700_000_000_000, body: { n: 1 } };

describe('envelope validation', () => {
  it('opens what sealEnvelope wrote, body validated', () => {
    const opened = openEnvelope(sealEnvelope('tell', 'node-a', { n: 7 }), { bodies, expectedFrom: 'node-a' });
    expect(opened.ok).toBe(true);
    if (opened.ok) {
      expect(opened.envelope).toMatchObject({ v: 1, kind: 'tell', from: 'node-a', body: { n: 7 } });
      expect(opened.envelope.id).toMatch(/^[A-Za-z0-9]{22}$/);
    }
  });

  it.each([
    ['oversized', new Uint8Array(DEFAULT_MAX_ENVELOPE_BYTES + 1)],
    ['not-json', bytes('{"v":1,')],
    ['not-json', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])], // invalid UTF-8
    ['not-json', bytes('{"v":1,"kind":"tell","from":"node-a","id":"x","ts":1,"body":{"__proto__":{"polluted":true}}}')],
    ['not-json', bytes('{"v":1,"kind":"tell","from":"node-a","id":"x","ts":1,"body":{"constructor":{"prototype":{"x":1}}}}')],
    ['malformed', bytes('[1,2,3]')],
    ['malformed', bytes('"hello"')],
    ['unsupported-version', bytes({ ...valid, v: 2 })],
    ['unsupported-version', bytes({ ...valid, v: undefined })],
    ['malformed', bytes({ ...valid, kind: 'gossip' })],
    ['malformed', bytes({ ...valid, from: 'a.b' })],
    ['malformed', bytes({ ...valid, from: '' })],
    ['malformed', bytes({ ...valid, id: '' })],
    ['malformed', bytes({ ...valid, ts: -1 })],
    ['malformed', bytes({ ...valid, extra: true })],
    ['forged-sender', bytes({ ...valid, from: 'node-b' })],
    ['unexpected-kind', bytes({ ...valid, kind: 'control' })],
    ['invalid-body', bytes({ ...valid, body: { n: 'one' } })],
    ['invalid-body', bytes({ ...valid, body: { n: 1, more: 2 } })],
  ] as const)('rejects as %s: case %#', (reason, data) => {
    const opened = openEnvelope(data, { bodies, expectedFrom: 'node-a' });
    expect(opened.ok).toBe(false);
    if (!opened.ok) {
      expect(opened.reason).toBe(reason);
      expect(opened.detail.length).toBeGreaterThan(0);
    }
  });

  it('never throws, whatever the bytes', () => {
    for (let i = 0; i < 500; i++) {
      const random = new Uint8Array(Math.floor(Math.random() * 200)).map(() => Math.floor(Math.random() * 256));
      expect(() => openEnvelope(random, { bodies })).not.toThrow();
    }
  });

  it('honours a smaller size limit on both sides', () => {
    expect(() => sealEnvelope('tell', 'node-a', { n: 1, pad: 'x'.repeat(200) }, { maxBytes: 100 })).toThrow(EnvelopeTooLargeError);
    const data = sealEnvelope('tell', 'node-a', { n: 1 });
    const opened = openEnvelope(data, { bodies, maxBytes: data.byteLength - 1 });
    expect(opened.ok ? undefined : opened.reason).toBe('oversized');
  });

  it('names the sender as the last token of every cluster subject', () => {
    const s = clusterSubjects('prod');
    expect(s.heartbeat('w1')).toBe('tributary.prod.heartbeat.w1');
    expect(s.actor('w2', 'w1')).toBe('tributary.prod.actor.w2.w1');
    expect(s.control('w1')).toBe('tributary.prod.control.w1');
    expect([s.heartbeat('w1'), s.actor('w2', 'w1'), s.control('w1')].map(senderOf)).toEqual(['w1', 'w1', 'w1']);
    expect(() => clusterSubjects('a.b')).toThrow(ConfigError);
    expect(() => clusterSubjects('>')).toThrow(ConfigError);
  });
});
