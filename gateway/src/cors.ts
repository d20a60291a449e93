import type { IncomingMessage, ServerResponse } from 'node:http';

const ALLOWED_HEADERS = [
  'content-type',
  'authorization',
  'x-api-key',
  'x-session-token',
  'x-request-id',
  'traceparent',
  'apollo-require-preflight',
  'x-apollo-operation-name',
].join(', ');

/**
 * CORS by allowlist: a listed origin (or any, with `*`, outside production)
 * gets the allow headers; others get none, and their preflight is answered 403.
 * Returns true when it answered the request itself (preflight).
 */
export function createCors(origins: readonly string[]) {
  const isAllowed = createOriginCheck(origins);

  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const origin = req.headers.origin;
    res.setHeader('vary', 'Origin');
    const isPreflight = req.method === 'OPTIONS';
    if (!origin) {
      if (!isPreflight) return false;
      res.writeHead(204).end();
      return true;
    }
    const permitted = isAllowed(origin);
    if (permitted) {
      res.setHeader('access-control-allow-origin', origin);
      // Browser clients may read the budget headers (budgets.ts) to pace themselves.
      res.setHeader(
        'access-control-expose-headers',
        'x-request-id, retry-after, ratelimit-limit, ratelimit-remaining, ratelimit-reset, ratelimit-policy',
      );
    }
    if (!isPreflight) return false;
    if (!permitted) {
      res.writeHead(403, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ errors: [{ message: 'Origin not allowed', extensions: { code: 'FORBIDDEN' } }] }));
      return true;
    }
    res.writeHead(204, {
      'access-control-allow-methods': 'GET, POST, OPTIONS',
      'access-control-allow-headers': ALLOWED_HEADERS,
      'access-control-max-age': '600',
    });
    res.end();
    return true;
  };
}

/** Whether a browser `Origin` is on the allowlist (`*`: any); the WebSocket transport checks upgrades with it too. */
export function createOriginCheck(origins: readonly string[]): (origin: string) => boolean {
  const allowAny = origins.includes('*');
  const allowed = new Set(origins.map((origin) => origin.replace(/\/$/, '').toLowerCase()));
  return (origin) => allowAny || allowed.has(origin.toLowerCase());
}
