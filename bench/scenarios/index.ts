/** The known scenarios, in the order `npm run bench` runs them. One file per scenario. */
import type { Scenario } from '../scenario.js';
import { ingest } from './ingest.js';

export const scenarios: readonly Scenario[] = [ingest];
