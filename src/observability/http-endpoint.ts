import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { listenLocal } from './listen-local.js';

/** What `/health` reports. */
export interface HealthReport {
  readonly ok: boolean;
  readonly [detail: string]: unknown;
}

/** Options of {@link startHttpEndpoint}. */
export interface HttpEndpointOptions {
  /** Default 0: any free port. */
  readonly port?: number;
  /** Default `127.0.0.1`. */
  readonly host?: string;
  readonly registry: Registry;
  readonly health: () => HealthReport;
  /** More routes (the web console under `/ui`): returns true when it handled the request. */
  readonly routes?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

/** A running `/metrics` + `/health` server. */
export interface HttpEndpoint {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` (Prometheus text) and `GET /health` (JSON; HTTP 200 when healthy, 503
 * when not) for orchestrators and scrapers.
 *
 * @example
 * const endpoint = await startHttpEndpoint({ port: 9464, registry: metrics.registry, health: () => ({ ok: true }) });
 * // curl http://127.0.0.1:9464/metrics
 */
export async function startHttpEndpoint(options: HttpEndpointOptions): Promise<HttpEndpoint> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/metrics') {
      options.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': options.registry.contentType });
          res.end(text);
        },
        (err: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(String(err));
        },
      );
      return;
    }
    if (req.method === 'GET' && path === '/health') {
      const report = options.health();
      res.writeHead(report.ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify(report));
      return;
    }
    if (options.routes?.(req, res)) return;
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end(`not found: try /metrics or /health${options.routes ? ' or /ui/' : ''}\n`);
  });
  return listenLocal(server, options);
}
