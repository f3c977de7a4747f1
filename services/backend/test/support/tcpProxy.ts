import { connect, createServer, type Server, type Socket } from 'node:net';

export type ProxyMode = 'forward' | 'refuse' | 'hang';

/**
 * A TCP proxy in front of a real server (PostgreSQL here) that a test can turn into an outage: `refuse`
 * resets every connection (a database that is down or restarting), `hang` accepts and never answers (a
 * database that is wedged). `cut` drops the connections already open.
 */
export class TcpProxy {
  mode: ProxyMode = 'forward';
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(target: { host: string; port: number }) {
    this.server = createServer((client) => {
      this.track(client);
      if (this.mode === 'refuse') return void client.destroy();
      if (this.mode === 'hang') return void client.resume();
      const upstream = this.track(connect(target.port, target.host));
      client.pipe(upstream).pipe(client);
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      client.once('error', close).once('close', close);
      upstream.once('error', close).once('close', close);
    });
  }

  async start(): Promise<number> {
    await new Promise<void>((done) => this.server.listen(0, '127.0.0.1', done));
    return (this.server.address() as { port: number }).port;
  }

  cut(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise((done) => this.server.close(done));
  }

  private track(socket: Socket): Socket {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    return socket;
  }
}
