import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ClusterNode } from './cluster-node.js';
import { AskTimeoutError, ClusterError, NoOwnerError } from './errors.js';

/**
 * Options of {@link startClusterEndpoint}.
 *
 * @example
 * const options: ClusterEndpointOptions = { node, port: 9465, host: '0.0.0.0' };
 */
export interface ClusterEndpointOptions {
  readonly node: ClusterNode;
  /** Default 0: any free port. */
  readonly port?: number;
  /** Default `127.0.0.1`. */
  readonly host?: string;
}

/**
 * A running cluster HTTP endpoint.
 *
 * @example
 * const endpoint: ClusterEndpoint = await startClusterEndpoint({ node });
 * console.log(`${endpoint.url}/cluster/members`);
 */
export interface ClusterEndpoint {
  /** `http://host:port` */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves the cluster over HTTP (JSON), from any node:
 *
 * | request | answer |
 * |---|---|
 * | `GET /cluster/query/<processor>/<state>/<key>` | the owner's answer (200), 404 when the state is not registered, 503 + `Retry-After: 1` while no node owns the key's partition, 504 when the owner did not answer in time |
 * | `GET /cluster/members` | the membership view |
 * | `GET /cluster/status` | every node's status, health, supervision tree and lag |
 *
 * Path segments are URL-decoded (`/cluster/query/page-views/count-by-page/%2Fhome`); `?timeoutMs=`
 * bounds how long a query waits for an owner (default 5,000 ms).
 *
 * @example
 * const endpoint = await startClusterEndpoint({ node, port: 9465 });
 * // curl http://127.0.0.1:9465/cluster/query/page-views/count-by-page/%2Fhome
 * await endpoint.close();
 */
export async function startClusterEndpoint(options: ClusterEndpointOptions): Promise<ClusterEndpoint> {
  const { node } = options;
  const server: Server = createServer((req, res) => {
    handle(node, req, res).catch((err: unknown) => send(res, 500, { error: err instanceof Error ? err.message : String(err) }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.address}:${address.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function handle(node: ClusterNode, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET') return send(res, 405, { error: 'GET only' });
  const url = new URL(req.url ?? '/', 'http://localhost');
  const path = url.pathname;
  if (path === '/cluster/members') return send(res, 200, node.members());
  if (path === '/cluster/status') return send(res, 200, await node.status());
  const match = /^\/cluster\/query\/([^/]+)\/([^/]+)\/(.+)$/.exec(path);
  if (!match) return send(res, 404, { error: 'not found: try /cluster/query/<processor>/<state>/<key>, /cluster/members, /cluster/status' });
  let processor: string, state: string, key: string;
  try {
    [processor, state, key] = [match[1]!, match[2]!, match[3]!].map(decodeURIComponent) as [string, string, string];
  } catch {
    return send(res, 400, { error: 'bad URL encoding' });
  }
  const timeoutParam = url.searchParams.get('timeoutMs');
  const timeoutMs = timeoutParam === null ? undefined : Number(timeoutParam);
  if (timeoutMs !== undefined && (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > 60_000)) {
    return send(res, 400, { error: 'timeoutMs must be an integer from 1 to 60000' });
  }
  try {
    const answer = await node.query(processor, state, key, { timeoutMs });
    return send(res, answer.found ? 200 : 404, answer.found ? answer : { ...answer, error: `key ${JSON.stringify(key)} not found in state '${state}' of processor '${processor}'` });
  } catch (err) {
    if (err instanceof NoOwnerError) {
      res.setHeader('Retry-After', '1');
      return send(res, 503, { error: err.message });
    }
    if (err instanceof AskTimeoutError) return send(res, 504, { error: err.message });
    if (err instanceof ClusterError) return send(res, 502, { error: err.message });
    throw err;
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
