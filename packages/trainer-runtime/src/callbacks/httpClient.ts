import axios, { type AxiosInstance } from 'axios';

export interface HttpResult {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export interface HttpClient {
  /**
   * POSTs JSON. Any HTTP answer resolves, whatever its status, so the caller's policy decides what a 503 or a
   * 401 means; only the absence of an answer (refused, reset, timed out, aborted) rejects.
   */
  postJson(
    url: string,
    body: unknown,
    headers: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<HttpResult>;
}

export function createHttpClient(instance: AxiosInstance = axios.create()): HttpClient {
  return {
    async postJson(url, body, headers, signal) {
      const response = await instance.request({
        method: 'POST',
        url,
        data: body,
        headers: { 'Content-Type': 'application/json', ...headers },
        signal,
        validateStatus: () => true,
        maxRedirects: 0,
      });
      const flat: Record<string, string> = {};
      for (const [name, value] of Object.entries(response.headers)) {
        if (value !== undefined && value !== null) flat[name.toLowerCase()] = String(value);
      }
      return { status: response.status, headers: flat, body: response.data };
    },
  };
}
