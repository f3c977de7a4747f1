import type { Server } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import type { Express } from 'express';

export interface RunningServer {
  server: Server;
  port: number;
  url: string;
  /** Stops accepting, lets in-flight requests finish, then closes idle keep-alive sockets. */
  close(): Promise<void>;
}

/** A connection that sends and receives nothing this long is closed (a stalled client holds no socket). */
export const DEFAULT_IDLE_TIMEOUT_MS = 120_000;

/**
 * Serves `app`. Requests have no total time limit (a multi-GiB upload takes what it takes; Node's default cut
 * them at 300 s): only idleness ends one.
 */
export function listen(
  app: Express,
  port: number,
  host = '127.0.0.1',
  idleTimeoutMs = DEFAULT_IDLE_TIMEOUT_MS,
): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (err?: Error) => {
      if (err) return reject(err);
      const actual = (server.address() as AddressInfo).port;
      resolve({
        server,
        port: actual,
        url: `http://127.0.0.1:${actual}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeIdleConnections();
          }),
      });
    });
    server.requestTimeout = 0;
    server.timeout = idleTimeoutMs;
    server.once('error', reject);
  });
}

/** A TCP port free on loopback right now, for a child server that must be told its port up front. */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => done(port));
    });
  });
}
