import { request } from 'node:http';

/** What a GraphQL POST answered: the status and the parsed body. */
export interface GraphQLAnswer {
  status: number;
  body: {
    data?: Record<string, unknown> | null;
    errors?: ReadonlyArray<{ message: string; extensions?: Record<string, unknown> }>;
  };
}

export interface PostOptions {
  /** Sent as `authorization: Bearer <token>`. */
  token?: string;
  /**
   * The client's own address: any of 127.0.0.0/8 on Linux, so a test can be
   * a client the gateways have not seen (its own per-IP rate-limit counters).
   */
  localAddress?: string;
  /** Gives up (rejects) after this long; default 15 s, the gateway's own request timeout. */
  timeoutMs?: number;
}

/**
 * POSTs one GraphQL request with node:http, which (unlike fetch) can choose
 * the source address. Rejects on a connection error or a non-JSON answer, as
 * a client would see a dead server; resolves with any HTTP status otherwise.
 */
export function postGraphQL(url: string, body: unknown, options: PostOptions = {}): Promise<GraphQLAnswer> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        },
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
        timeout: options.timeoutMs ?? 15_000,
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('error', reject);
        response.on('end', () => {
          try {
            resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) as GraphQLAnswer['body'] });
          } catch {
            reject(new Error(`non-JSON answer ${response.statusCode}: ${text.slice(0, 200)}`));
          }
        });
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer from ${url} in time`)));
    outgoing.on('error', reject);
    outgoing.end(payload);
  });
}

/** The first error's `extensions.code`, or undefined. */
export function firstCode(answer: GraphQLAnswer): unknown {
  return answer.body.errors?.[0]?.extensions?.['code'];
}
