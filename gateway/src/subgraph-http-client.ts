import { Pool } from 'undici';

export interface SubgraphHttpResponse {
  status: number;
  /** Lower-cased response header → value (repeated headers joined with `, `). */
  headers: Record<string, string>;
  /** The body as the subgraph sent it; parsing is the caller's. */
  text: string;
}

export interface SubgraphHttpClient {
  /** POSTs `body` with `headers`; rejects on network failure or after `timeoutMs` (a `TimeoutError`). */
  post(headers: Record<string, string>, body: string): Promise<SubgraphHttpResponse>;
  close(): Promise<void>;
}

/**
 * One subgraph's keep-alive connection pool on undici's `Pool.request`: no
 * WHATWG `Request`/`Headers`/streams and no `url.parse` per fetch (Node's
 * `fetch` plus node-fetch's objects were ~17 % of the gateway's CPU in
 * test/bench/gateway-hot-path.bench.ts). A whole exchange, headers and body,
 * gives up after `timeoutMs`.
 */
export function createSubgraphHttpClient(url: string, timeoutMs: number): SubgraphHttpClient {
  const target = new URL(url);
  const path = `${target.pathname}${target.search}`;
  const pool = new Pool(target.origin, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  return {
    async post(headers, body) {
      const response = await pool.request({
        path,
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await response.body.text();
      const flat: Record<string, string> = {};
      for (const [name, value] of Object.entries(response.headers)) {
        if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      return { status: response.statusCode, headers: flat, text };
    },
    close: () => pool.close(),
  };
}
