import { readFileSync } from 'node:fs';
import type { RouteHandler } from '@supergraph/platform';

const PAGE = new URL('./chat-page/chat.html', import.meta.url);

/**
 * `/chat`, the development chat page: one static HTML file, no framework,
 * that signs in, manages droids and streams replies over the same public
 * protocols as any client (POST /graphql, graphql-sse). Same origin as
 * `/graphql`, so no CORS allowance is needed; never served in production.
 */
export function chatPageRoute(): RouteHandler {
  const html = readFileSync(PAGE);
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      // Its own inline script only; it talks to this origin alone.
      'content-security-policy':
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self'; form-action 'none'; frame-ancestors 'none'",
      'x-content-type-options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : html);
  };
}
