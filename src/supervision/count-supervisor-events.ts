import type { Observable, Subscription } from 'rxjs';
import type { Counter } from 'prom-client';
import type { SupervisorEvent } from './supervisor-event.js';

/**
 * Counts supervisor events in a prom-client counter you own, labelled by `event` (the type,
 * e.g. `supervisor.child-restarting`) and `supervisor` (the path of the supervisor that
 * emitted it; child ids are left out to keep the label set small). Registers nothing global.
 * Subscribe it to the root's `events` to count the whole tree once. Unsubscribe to stop.
 *
 * @example
 * const counter = new Counter({
 *   name: 'tributary_supervisor_events_total',
 *   help: 'Supervisor lifecycle events.',
 *   labelNames: ['event', 'supervisor'],
 *   registers: [metrics.registry],
 * });
 * const subscription = countSupervisorEvents(root.events, counter);
 */
export function countSupervisorEvents(
  events: Observable<SupervisorEvent>,
  counter: Pick<Counter<'event' | 'supervisor'>, 'inc'>,
): Subscription {
  return events.subscribe((event) => counter.inc({ event: event.type, supervisor: event.supervisor }));
}
