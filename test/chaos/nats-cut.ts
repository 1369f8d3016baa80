// A TCP relay between one worker's cluster connection and the nats-server, which the harness can
// cut and heal: the `worker-nats-cut` fault, a network partition between that worker and NATS
// while its Kafka connections stay up.
//
// Cut, the relay stops reading from both sides (nothing is dropped: bytes wait in the socket
// buffers, then TCP flow control holds the senders), as a partition that heals does to a TCP
// connection; healed, it reads again and the backlog flows. The connection itself stays open
// (unless a side gives up on it: the client's pings, the server's write deadline), so the worker
// sees silence, not a disconnect: the case the failure detector has to judge.
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export class NatsCut {
  private readonly pairs = new Set<[Socket, Socket]>();
  private readonly flushers = new Map<[Socket, Socket], () => void>();
  private cutNow = false;

  private constructor(
    private readonly server: Server,
    /** `nats://127.0.0.1:<port>`: give the worker's cluster this instead of the server's URL. */
    readonly url: string,
  ) {}

  /** A relay on a free local port to the nats-server at `natsUrl`. */
  static async open(natsUrl: string): Promise<NatsCut> {
    const target = new URL(natsUrl);
    let relay: NatsCut | undefined; // eslint-disable-line prefer-const -- assigned after the server it is used in
    const server = createServer((client) => relay!.accept(client, target.hostname, Number(target.port || 4222)));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('nats-cut: no port');
    relay = new NatsCut(server, `nats://127.0.0.1:${address.port}`);
    return relay;
  }

  /** Stops relaying in both directions, on every connection (and on new ones until healed). */
  cut(): void {
    this.cutNow = true;
    for (const [a, b] of this.pairs) {
      a.pause();
      b.pause();
    }
  }

  /** Relays again; what waited flows. */
  heal(): void {
    this.cutNow = false;
    for (const pair of this.pairs) {
      this.flushers.get(pair)?.();
      pair[0].resume();
      pair[1].resume();
    }
  }

  async close(): Promise<void> {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, host: string, port: number): void {
    const upstream = createConnection({ host, port });
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    // Forwarding by hand rather than pipe(): pipe() resumes a paused source on the destination's
    // 'drain'. A chunk read just as the cut began is held until the heal, never dropped.
    const held = new Map<Socket, Buffer[]>([
      [client, []],
      [upstream, []],
    ]);
    const forward = (from: Socket, to: Socket) => (chunk: Buffer) => {
      if (this.cutNow) held.get(from)!.push(chunk);
      else to.write(chunk);
    };
    client.on('data', forward(client, upstream));
    upstream.on('data', forward(upstream, client));
    const flushHeld = (): void => {
      for (const [from, chunks] of held) {
        const to = from === client ? upstream : client;
        for (const chunk of chunks.splice(0)) to.write(chunk);
      }
    };
    this.flushers.set(pair, flushHeld);
    if (this.cutNow) {
      client.pause();
      upstream.pause();
    }
    const end = (): void => {
      this.pairs.delete(pair);
      this.flushers.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  }
}
