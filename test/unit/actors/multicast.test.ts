import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { Multicast } from '../../../src/streams/multicast.js';

// The partition pipeline pushes its records through a Multicast instead of an RxJS Subject: it
// must behave as a Subject does wherever the runtime relies on it.
describe('Multicast (the partition pipeline record stream)', () => {
  const scenario = (source: { next(v: number): void; complete(): void }, observable: import('rxjs').Observable<number>): string[] => {
    const seen: string[] = [];
    const a = observable.subscribe({ next: (v) => seen.push(`a${v}`), complete: () => seen.push('a|') });
    let lateSubscribed = false;
    observable.subscribe({
      next: (v) => {
        seen.push(`b${v}`);
        if (v === 1) a.unsubscribe(); // removed during a delivery: sees no more
        if (!lateSubscribed) {
          lateSubscribed = true;
          observable.subscribe({ next: (w) => seen.push(`c${w}`), complete: () => seen.push('c|') }); // added during one: sees only later values
        }
      },
      complete: () => seen.push('b|'),
    });
    source.next(1);
    source.next(2);
    source.complete();
    source.next(3); // after complete: ignored
    observable.subscribe({ complete: () => seen.push('d|') }); // after complete: completes at once
    return seen;
  };

  it('delivers, adds, removes and completes subscribers exactly as an RxJS Subject', () => {
    const multicast = new Multicast<number>();
    const subject = new Subject<number>();
    expect(scenario(multicast, multicast.observable)).toEqual(scenario(subject, subject.asObservable()));
    expect(multicast.observed).toBe(false);
  });

  it('counts its subscribers', () => {
    const multicast = new Multicast<number>();
    const s = multicast.observable.subscribe();
    expect(multicast.size).toBe(1);
    expect(multicast.observed).toBe(true);
    s.unsubscribe();
    expect(multicast.size).toBe(0);
  });
});
