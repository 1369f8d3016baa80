import { MemoryLog } from '../../src/connectors/memory/index.js';
import { adminContract } from './admin-contract.js';
import { processorContract } from './processor-contract.js';
import { stateContract } from './state-contract.js';

// Several connectors share one MemoryLog, as several nodes share one Kafka cluster.
const shared = new MemoryLog();
processorContract('MemoryLog', { connect: () => shared, backlog: 200_000 });
stateContract('MemoryLog', { connect: () => shared, backlog: 0 });
stateContract('MemoryLog', { connect: () => shared, backlog: 0 }, 'lmdb');
adminContract('MemoryLog', { connect: () => shared });
