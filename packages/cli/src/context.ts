import { createVtpClient, type VtpClient } from '@vtp/client';
import { type Connection, resolveConnection } from './config.ts';
import { Output } from './output.ts';

/** What every command gets: how to write, and the API client (connected on first use). */
export interface Context {
  out: Output;
  /** The saved or environment connection; throws when not logged in. */
  client(): Promise<VtpClient>;
  /** The API's URL once `client()` resolved it (for error messages). */
  url(): string | undefined;
}

export function createContext(json: boolean): Context {
  let connection: Connection | undefined;
  let client: VtpClient | undefined;
  return {
    out: new Output(json),
    async client() {
      connection ??= await resolveConnection();
      client ??= createVtpClient({ baseUrl: connection.url, apiKey: connection.apiKey });
      return client;
    },
    url: () => connection?.url,
  };
}
