import type { IncomingMessage, ServerResponse } from 'node:http';

/** A browser that falls this far behind (bytes not yet taken by its socket) is disconnected. */
export const MAX_CLIENT_BACKLOG_BYTES = 1 << 20;

/** What one broadcast cost: for the cost test and the figures in the docs. */
export interface BroadcastCost {
  readonly bytes: number;
  readonly clients: number;
}

/**
 * Server-sent events to the browsers (`GET /ui/events`): one `hello` when a browser connects,
 * then one `update` per sample. An update is serialised once and the same bytes written to every
 * browser; a browser whose socket cannot keep up (more than {@link MAX_CLIENT_BACKLOG_BYTES}
 * waiting) is disconnected, and its EventSource reconnects and starts from a fresh `hello`.
 *
 * @example
 * const stream = new ConsoleEventStream({ maxClients: 16, redact: (s) => s });
 * stream.attach(req, res, () => ({ frame, history }));
 * stream.broadcast('update', frame);
 */
export class ConsoleEventStream {
  private readonly clients = new Set<ServerResponse>();

  constructor(private readonly options: { readonly maxClients: number; readonly redact: (text: string) => string }) {}

  /** Browsers connected now. */
  get size(): number {
    return this.clients.size;
  }

  /** Serves one EventSource connection; refuses it (503) beyond `maxClients`. */
  attach(req: IncomingMessage, res: ServerResponse, hello: () => unknown): void {
    if (this.clients.size >= this.options.maxClients) {
      res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '10' });
      res.end(`too many console connections (at most ${this.options.maxClients})\n`);
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-content-type-options': 'nosniff',
    });
    res.write('retry: 2000\n\n');
    const first = hello();
    if (first !== undefined) res.write(this.encode('hello', first));
    this.clients.add(res);
    const forget = (): void => {
      this.clients.delete(res);
    };
    req.once('close', forget);
    res.once('close', forget);
  }

  /** Sends one event to every browser: serialised once. */
  broadcast(event: string, data: unknown): BroadcastCost {
    if (this.clients.size === 0) return { bytes: 0, clients: 0 };
    const text = this.encode(event, data);
    for (const res of this.clients) {
      if (res.writableLength > MAX_CLIENT_BACKLOG_BYTES) {
        this.clients.delete(res);
        res.destroy();
        continue;
      }
      res.write(text);
    }
    return { bytes: Buffer.byteLength(text), clients: this.clients.size };
  }

  /** One event in the SSE format, secrets removed. */
  encode(event: string, data: unknown): string {
    // JSON has no raw newlines, so the data is one `data:` line.
    return `event: ${event}\ndata: ${this.options.redact(JSON.stringify(data))}\n\n`;
  }

  /** Ends every connection. */
  close(): void {
    for (const res of this.clients) res.end();
    this.clients.clear();
  }
}
