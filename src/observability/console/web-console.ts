import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import { ConsoleEventStream, type BroadcastCost } from './console-event-stream.js';
import type { ConsoleFrame } from './console-frame.js';
import type { ResolvedConsoleOptions } from './console-options.js';
import { ConsoleSampler } from './console-sampler.js';
import type { ConsoleSource } from './console-source.js';
import { redactor } from './redact.js';

/** Where the console is served on the node's HTTP port. */
export const CONSOLE_PATH = '/ui';

/** A running console: its HTTP routes, sampling timer and event stream. */
export interface WebConsole {
  /** Handles a request under `/ui`; returns false for any other path. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** Takes a sample and sends it to every browser now (the timer does this every `intervalMs`). */
  tick(): Promise<{ frame: ConsoleFrame; cost: BroadcastCost }>;
  readonly clients: number;
  close(): void;
}

interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

const CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

let assets: Map<string, Asset> | undefined;

/**
 * The page's files, read once: `static/console/` of the package (the same path from `src/` and
 * from `dist/`), and uPlot from its npm package. No build step.
 */
function loadAssets(): Map<string, Asset> {
  if (assets) return assets;
  const dir = new URL('../../../static/console/', import.meta.url);
  const require = createRequire(import.meta.url);
  const file = (name: string): Buffer => readFileSync(new URL(name, dir));
  assets = new Map<string, Asset>([
    ['/', { type: 'text/html; charset=utf-8', body: file('index.html') }],
    ['/console.js', { type: 'text/javascript; charset=utf-8', body: file('console.js') }],
    ['/console.css', { type: 'text/css; charset=utf-8', body: file('console.css') }],
    ['/uPlot.iife.min.js', { type: 'text/javascript; charset=utf-8', body: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js')) }],
    ['/uPlot.min.css', { type: 'text/css; charset=utf-8', body: readFileSync(require.resolve('uplot/dist/uPlot.min.css')) }],
  ]);
  return assets;
}

/** Bytes of the page and everything it loads (for the docs' figures). */
export function consolePageBytes(): number {
  let total = 0;
  for (const asset of loadAssets().values()) total += asset.body.length;
  return total;
}

/**
 * Starts the web console over `source`: `GET /ui/` (the page), `GET /ui/events` (server-sent
 * events: a `hello`, then an `update` every `intervalMs`), `GET /ui/api/partitions` (every
 * partition row, paged) and `POST /ui/api/control` (pause, resume, drain; refused unless
 * `controlToken` is set and given as `Authorization: Bearer <token>`). Everything sent has the
 * source's secrets removed.
 *
 * @example
 * const web = startWebConsole(source, resolveConsoleOptions(true), logger);
 * createServer((req, res) => { if (!web.handle(req, res)) res.end(); });
 */
export function startWebConsole(source: ConsoleSource, options: ResolvedConsoleOptions, logger: Logger): WebConsole {
  const files = loadAssets();
  const redact = redactor(source.secrets);
  const sampler = new ConsoleSampler(source, options);
  const stream = new ConsoleEventStream({ maxClients: options.maxClients, redact });
  const tokenDigest = options.controlToken === undefined ? undefined : sha256(options.controlToken);
  let sampling: Promise<unknown> = Promise.resolve();
  let closed = false;

  const tick = async (): Promise<{ frame: ConsoleFrame; cost: BroadcastCost }> => {
    const frame = await sampler.sample();
    return { frame, cost: stream.broadcast('update', frame) };
  };
  const timer = setInterval(() => {
    // One sample at a time: a slow one delays the next instead of piling up.
    sampling = sampling.then(() => (closed ? undefined : tick())).catch((err: unknown) => logger.warn({ err }, 'console sample failed'));
  }, options.intervalMs);
  timer.unref();
  sampling = sampling.then(() => sampler.sample()).catch((err: unknown) => logger.warn({ err }, 'console sample failed'));

  const json = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    res.end(redact(JSON.stringify(body)));
  };

  const control = (req: IncomingMessage, res: ServerResponse): void => {
    if (!tokenDigest) {
      json(res, 403, { error: 'the console is read-only: set ui.controlToken to enable control actions' });
      return;
    }
    const header = req.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
    if (!timingSafeEqual(sha256(given), tokenDigest)) {
      json(res, 401, { error: 'missing or wrong control token (Authorization: Bearer <token>)' });
      return;
    }
    let body = '';
    let tooLarge = false;
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > 1_024) tooLarge = true;
    });
    req.on('end', () => {
      if (tooLarge) return json(res, 413, { error: 'request body larger than 1 KiB' });
      let parsed: { action?: unknown; processor?: unknown };
      try {
        parsed = JSON.parse(body) as typeof parsed;
      } catch {
        return json(res, 400, { error: 'the body must be JSON: {"action":"pause"|"resume"|"drain","processor":"<id>"}' });
      }
      const { action, processor } = parsed ?? {};
      if ((action !== 'pause' && action !== 'resume' && action !== 'drain') || typeof processor !== 'string' || processor.length === 0 || processor.length > 256) {
        return json(res, 400, { error: 'the body must be {"action":"pause"|"resume"|"drain","processor":"<id>"}' });
      }
      logger.info({ action, processor, remote: req.socket.remoteAddress }, 'control action from the web console');
      source.control(action, processor).then(
        (result) => json(res, 200, { ok: true, action, processor, result }),
        (err: unknown) => json(res, 409, { ok: false, action, processor, error: err instanceof Error ? err.message : String(err) }),
      );
    });
  };

  return {
    get clients() {
      return stream.size;
    },
    tick,
    handle(req, res) {
      const url = new URL(req.url ?? '/', 'http://console');
      const path = url.pathname;
      if (path !== CONSOLE_PATH && !path.startsWith(`${CONSOLE_PATH}/`)) return false;
      const rest = path.slice(CONSOLE_PATH.length);
      if (req.method === 'GET' && rest === '') {
        res.writeHead(302, { location: `${CONSOLE_PATH}/` });
        res.end();
        return true;
      }
      if (req.method === 'GET' && rest === '/events') {
        stream.attach(req, res, () => sampler.hello());
        return true;
      }
      if (req.method === 'GET' && rest === '/api/partitions') {
        const int = (name: string, fallback: number, max: number): number => Math.min(max, Math.max(0, Math.floor(Number(url.searchParams.get(name) ?? fallback)) || 0));
        json(res, 200, sampler.rowsPage({
          processor: url.searchParams.get('processor') ?? undefined,
          q: url.searchParams.get('q') ?? undefined,
          offset: int('offset', 0, 1_000_000),
          limit: int('limit', 100, 500),
        }));
        return true;
      }
      if (rest === '/api/control') {
        if (req.method !== 'POST') {
          json(res, 405, { error: 'POST only' });
          return true;
        }
        control(req, res);
        return true;
      }
      const asset = req.method === 'GET' ? files.get(rest) : undefined;
      if (!asset) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found\n');
        return true;
      }
      res.writeHead(200, {
        'content-type': asset.type,
        'content-length': asset.body.length,
        'cache-control': 'no-cache',
        'content-security-policy': CONTENT_SECURITY_POLICY,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
      });
      res.end(asset.body);
      return true;
    },
    close() {
      closed = true;
      clearInterval(timer);
      sampler.close();
      stream.close();
    },
  };
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
