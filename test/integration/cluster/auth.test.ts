// NATS authentication is passed through: user/password, token and nkey on nats-servers of the
// test's own; a wrong credential fails start() with a clear, retriable ClusterError.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nkeys } from '@nats-io/transport-node';
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterError, type NatsAuth } from '../../../src/cluster/index.js';
import { startNatsServer, type NatsServerHandle } from '../../../scripts/services/index.js';
import { uniqueName } from '../../helpers/names.js';
import { startTestNode, until, type TestNode } from './fixtures/in-process.js';

describe('NATS authentication pass-through', () => {
  let server: NatsServerHandle | undefined;
  const started: TestNode[] = [];

  afterEach(async () => {
    for (const n of started.splice(0)) await n.stop();
    await server?.destroy();
    server = undefined;
  });

  async function pairWith(auth: NatsAuth): Promise<void> {
    const cluster = uniqueName('auth');
    for (const nodeId of ['a', 'b']) started.push(await startTestNode({ cluster, nodeId, servers: server!.url, overrides: { auth } }));
    started[1].node.register('echo', (m) => m);
    await until(() => started[0].node.members().members.length === 2, 5_000, 'the nodes to see each other');
    expect(await started[0].node.ask({ node: 'b', path: 'echo' }, 'authenticated')).toBe('authenticated');
  }

  it('connects with user and password, and refuses a wrong password', async () => {
    server = await startNatsServer({ name: 'auth-user', jetstream: false, auth: { user: 'tributary', password: 's3cret' } });
    await pairWith({ user: 'tributary', password: 's3cret' });
    const wrong = startTestNode({ cluster: 'x', nodeId: 'c', servers: server.url, overrides: { auth: { user: 'tributary', password: 'nope' } } });
    await expect(wrong).rejects.toBeInstanceOf(ClusterError);
    await expect(wrong).rejects.toThrow(/cannot connect to NATS.*[Aa]uthorization/);
  });

  it('connects with a token', async () => {
    server = await startNatsServer({ name: 'auth-token', jetstream: false, auth: { token: 'tok-123' } });
    await pairWith({ token: 'tok-123' });
  });

  it('connects with an nkey seed, signing the server nonce', async () => {
    const user = nkeys.createUser();
    const seed = new TextDecoder().decode(user.getSeed());
    const pub = user.getPublicKey();
    const dir = mkdtempSync(join(tmpdir(), 'tributary-nkey-'));
    try {
      const config = join(dir, 'nats.conf');
      writeFileSync(config, `authorization { users = [ { nkey: ${pub} } ] }\n`);
      server = await startNatsServer({ name: 'auth-nkey', jetstream: false, args: ['-c', config] });
      await pairWith({ nkeySeed: seed });
      const other = new TextDecoder().decode(nkeys.createUser().getSeed());
      await expect(startTestNode({ cluster: 'x', nodeId: 'c', servers: server.url, overrides: { auth: { nkeySeed: other } } })).rejects.toBeInstanceOf(ClusterError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
