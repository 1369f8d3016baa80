/** The known scenarios, in the order `npm run bench` runs them. One file per scenario. */
import type { Scenario } from '../scenario.js';
import { cluster } from './cluster.js';
import { demoMemory } from './demo-memory.js';
import { eos } from './eos.js';
import { ingest } from './ingest.js';
import { latency } from './latency.js';
import { memory } from './memory.js';
import { nexmark } from './nexmark.js';
import { recovery } from './recovery.js';
import { session } from './session.js';
import { stateRestore } from './state-restore.js';
import { stateless } from './stateless.js';
import { tumbling } from './tumbling.js';
import { windows } from './windows.js';

export const scenarios: readonly Scenario[] = [ingest, windows, stateless, tumbling, session, latency, memory, demoMemory, stateRestore, nexmark, recovery, cluster, eos];
