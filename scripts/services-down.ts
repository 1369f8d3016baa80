/**
 * `npm run services:down`: stops the Kafka and NATS that services:up (or a test's own
 * broker) started, found through their pid files under `.tributary/run/`. A Kafka or NATS
 * that was running before services:up is left alone.
 */
import { stopServices } from './services/index.js';

const stopped = await stopServices();
for (const line of stopped) console.log(`services:down: ${line}`);
if (stopped.length === 0) console.log('services:down: nothing of ours was running');
