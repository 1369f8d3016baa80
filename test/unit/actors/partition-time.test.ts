import { describe, expect, it } from 'vitest';
import { PartitionTime } from '../../../src/actors/partition-time.js';
import { decodeResumePoint, encodeResumePoint } from '../../../src/actors/resume-point.js';

describe('PartitionTime', () => {
  it('follows its own records when it has no upstreams', () => {
    const time = new PartitionTime({ outOfOrdernessMs: 100, resume: { watermark: -Infinity } });
    time.clock.observe(1_000);
    expect(time.clock.current).toBe(900);
    expect(time.snapshot()).toEqual({ watermark: 900 });
    expect(time.snapshot()).toBe(time.snapshot()); // the same value until something changes
  });

  it('takes the minimum over its upstream partitions, holding back until every one has spoken', () => {
    const time = new PartitionTime({ outOfOrdernessMs: 0, resume: { watermark: -Infinity }, upstreams: ['in:0', 'in:1'] });
    time.upstreamWatermark('in:0', 5_000);
    expect(time.clock.current).toBe(-Infinity);
    time.upstreamWatermark('in:1', 3_000);
    expect(time.clock.current).toBe(3_000);
    time.upstreamWatermark('in:1', 2_000); // never backwards
    expect(time.clock.current).toBe(3_000);
    time.upstreamWatermark('in:1', Infinity);
    expect(time.clock.current).toBe(5_000);
  });

  it('drops a record an upstream partition wrote again after a replay', () => {
    const time = new PartitionTime({ outOfOrdernessMs: 0, resume: { watermark: -Infinity }, upstreams: ['in:0'] });
    expect(time.acceptUpstream('in:0', 10, 0)).toBe(true);
    expect(time.acceptUpstream('in:0', 10, 1)).toBe(true);
    expect(time.acceptUpstream('in:0', 10, 1)).toBe(false);
    expect(time.acceptUpstream('in:0', 9, 5)).toBe(false);
    expect(time.acceptUpstream('in:0', 11, 0)).toBe(true);
  });

  it('resumes from a committed state exactly, through the commit metadata', () => {
    const time = new PartitionTime({ outOfOrdernessMs: 0, resume: { watermark: -Infinity }, upstreams: ['in:0', 'in:1'] });
    time.upstreamWatermark('in:0', 5_000);
    time.upstreamWatermark('in:1', Infinity);
    time.acceptUpstream('in:0', 42, 3);
    const metadata = encodeResumePoint({ offset: 7, time: time.snapshot(), replayUntil: 9 });
    const resumed = decodeResumePoint(7, metadata);
    expect(resumed.replayUntil).toBe(9);
    const again = new PartitionTime({ outOfOrdernessMs: 0, resume: resumed.time, upstreams: ['in:0', 'in:1'] });
    expect(again.clock.current).toBe(5_000);
    expect(again.acceptUpstream('in:0', 42, 3)).toBe(false);
    expect(again.acceptUpstream('in:0', 42, 4)).toBe(true);
  });

  it('starts plainly from metadata it cannot read', () => {
    expect(decodeResumePoint(5, 'not json')).toEqual({ offset: 5, time: { watermark: -Infinity }, replayUntil: 5 });
    expect(decodeResumePoint(5, '{"v":99}')).toEqual({ offset: 5, time: { watermark: -Infinity }, replayUntil: 5 });
  });
});
