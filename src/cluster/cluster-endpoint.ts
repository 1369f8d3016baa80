import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenLocal } from '../observability/listen-local.js';
import type { ClusterNode } from './cluster-node.js';
import { ConfigError, TributaryError } from '../errors.js';
import { AskTimeoutError, ClusterError, NoOwnerError, RemoteHandlerError } from './errors.js';
import { UnpartitionedStoreError } from '../processor/unpartitioned-store-error.js';
import { NoSuchStoreError } from '../processor/no-such-store-error.js';

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
 * | `GET /cluster/query/<processor>/<state>/<key>` | the owner's answer (200), 404 when the state is not registered, 409 when the store is not partitioned by its key (declared `partitioning: 'per-partition'`, or a key found in the wrong partition, which the error names), 503 + `Retry-After: 1` while no node owns the key's partition, 504 when the owner did not answer in time |
 * | `GET /cluster/scan/<processor>/<store>?from=&to=&limit=` | a scan of the store over every partition (200, see {@link ClusterNode.scan}), 400 for a bad bound or limit or a state that cannot be scanned, 503 + `Retry-After: 1` while some partition has no answer |
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
  return listenLocal(server, options);
}

async function handle(node: ClusterNode, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET') return send(res, 405, { error: 'GET only' });
  const url = new URL(req.url ?? '/', 'http://localhost');
  const path = url.pathname;
  if (path === '/cluster/members') return send(res, 200, node.members());
  if (path === '/cluster/status') return send(res, 200, await node.status());
  const scan = /^\/cluster\/scan\/([^/]+)\/([^/]+)$/.exec(path);
  if (scan) return handleScan(node, scan, url, res);
  const match = /^\/cluster\/query\/([^/]+)\/([^/]+)\/(.+)$/.exec(path);
  if (!match) return send(res, 404, { error: 'not found: try /cluster/query/<processor>/<state>/<key>, /cluster/scan/<processor>/<store>, /cluster/members, /cluster/status' });
  let processor: string, state: string, key: string;
  try {
    [processor, state, key] = [match[1], match[2], match[3]].map(decodeURIComponent) as [string, string, string];
  } catch {
    return send(res, 400, { error: 'bad URL encoding' });
  }
  const timeoutMs = timeoutOf(url);
  if (timeoutMs === null) return send(res, 400, { error: 'timeoutMs must be an integer from 1 to 60000' });
  try {
    const answer = await node.query(processor, state, key, { timeoutMs });
    return send(res, answer.found ? 200 : 404, answer.found ? answer : { ...answer, error: `key ${JSON.stringify(key)} not found in state '${state}' of processor '${processor}'` });
  } catch (err) {
    if (err instanceof NoOwnerError) {
      res.setHeader('Retry-After', '1');
      return send(res, 503, { error: err.message });
    }
    if (err instanceof UnpartitionedStoreError) return send(res, 409, { error: err.message });
    if (err instanceof NoSuchStoreError) return send(res, 404, { error: err.message });
    if (err instanceof AskTimeoutError) return send(res, 504, { error: err.message });
    if (err instanceof ClusterError) return send(res, 502, { error: err.message });
    throw err;
  }
}

/** `?timeoutMs=`: undefined when absent, null when not an integer from 1 to 60,000. */
function timeoutOf(url: URL): number | undefined | null {
  const param = url.searchParams.get('timeoutMs');
  if (param === null) return undefined;
  const timeoutMs = Number(param);
  return Number.isSafeInteger(timeoutMs) && timeoutMs > 0 && timeoutMs <= 60_000 ? timeoutMs : null;
}

async function handleScan(node: ClusterNode, match: RegExpExecArray, url: URL, res: ServerResponse): Promise<void> {
  let processor: string, store: string;
  try {
    [processor, store] = [match[1], match[2]].map(decodeURIComponent) as [string, string];
  } catch {
    return send(res, 400, { error: 'bad URL encoding' });
  }
  const timeoutMs = timeoutOf(url);
  if (timeoutMs === null) return send(res, 400, { error: 'timeoutMs must be an integer from 1 to 60000' });
  const limitParam = url.searchParams.get('limit');
  const options = {
    from: url.searchParams.get('from') ?? undefined,
    to: url.searchParams.get('to') ?? undefined,
    limit: limitParam === null ? undefined : Number(limitParam),
    timeoutMs,
  };
  try {
    return send(res, 200, await node.scan(processor, store, options));
  } catch (err) {
    if (err instanceof NoOwnerError) {
      res.setHeader('Retry-After', '1');
      return send(res, 503, { error: err.message });
    }
    if (err instanceof ConfigError || err instanceof RemoteHandlerError || (err instanceof TributaryError && !(err instanceof ClusterError))) return send(res, 400, { error: err.message });
    if (err instanceof ClusterError) return send(res, 502, { error: err.message });
    throw err;
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
