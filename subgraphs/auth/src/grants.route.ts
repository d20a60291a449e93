import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  createLogger,
  HttpError,
  INTERNAL_TOKEN_HEADER,
  readJsonBody,
  sendError,
  sendJson,
  verifyInternalToken,
  type Identity,
  type RouteHandler,
} from '@supergraph/platform';
import type { CryptoKey, KeyObject } from 'jose';
import type { Kysely } from 'kysely';
import type { AuthDb } from './auth.table.ts';
import type { AuthRuntime } from './context.ts';
import { issueGrant } from './grants.service.ts';

const log = createLogger('auth');
import { PROVIDER_NAME } from './validation.ts';

export const GRANTS_PATH = '/internal/grants';
/** `{"provider": "..."}` is a few dozen bytes; anything near this is not a grant request. */
const MAX_GRANT_BODY_BYTES = 1024;

export interface GrantsRouteOptions {
  db: Kysely<AuthDb>;
  runtime: AuthRuntime;
  /** The gateway's public key: the same one every subgraph verifies its internal tokens with. */
  internalTokenKey: CryptoKey | KeyObject;
}

/**
 * `POST /internal/grants`: a subgraph that a user is talking to right now
 * (`AUTH_GRANT_AUDIENCES`, default `conversation`) hands back the internal
 * token that user's request carried, and gets a 5-minute read-only access
 * token for that user plus, if asked, their provider key. No client can call
 * it: the gateway proxies `/graphql` only and sends internal tokens to
 * subgraphs only, and a token for audience `auth` (what the gateway sends
 * here) is refused, so no hop can be replayed. Nothing of the request or the
 * answer is logged.
 *
 * @example
 * // from the conversation subgraph:
 * await fetch(`${authUrl}/internal/grants`, {
 *   method: 'POST',
 *   headers: { 'content-type': 'application/json', 'x-internal-token': ctx.internalToken },
 *   body: JSON.stringify({ provider: 'openai' }),
 * });
 */
export function createGrantsRoute(options: GrantsRouteOptions): RouteHandler {
  return async (req, res) => {
    try {
      await answerGrant(req, res, options);
    } catch (error) {
      if (error instanceof HttpError) return sendError(res, error);
      // The message names no secret (the cipher's errors say which provider, never the key).
      log.error(`${GRANTS_PATH} failed: ${error instanceof Error ? error.message : String(error)}`);
      sendError(res, new HttpError(500, 'INTERNAL_SERVER_ERROR', 'Internal server error'));
    }
  };
}

async function answerGrant(req: IncomingMessage, res: ServerResponse, options: GrantsRouteOptions): Promise<void> {
  if ((req.method ?? 'GET').toUpperCase() !== 'POST') {
    req.resume();
    throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${GRANTS_PATH} takes POST only`, { allow: 'POST' });
  }
  const { identity, actor } = await verifyGrantToken(req, options);
  const provider = parseGrantBody(await readJsonBody(req, MAX_GRANT_BODY_BYTES));
  const grant = await issueGrant(options.db, options.runtime, { identity, actor, provider });
  sendJson(
    res,
    200,
    { accessToken: grant.accessToken, expiresAt: grant.expiresAt.toISOString(), providerKey: grant.providerKey },
    { 'cache-control': 'no-store' },
  );
}

/** The identity and the audience (the asking subgraph) of a gateway-signed internal token for a grant audience. */
async function verifyGrantToken(
  req: IncomingMessage,
  options: GrantsRouteOptions,
): Promise<{ identity: Identity; actor: string }> {
  const header = req.headers[INTERNAL_TOKEN_HEADER];
  const token = Array.isArray(header) ? header[0] : header;
  if (!token) {
    req.resume();
    throw new HttpError(401, 'UNAUTHENTICATED', "A grant needs the internal token of the user's request");
  }
  for (const audience of options.runtime.config.grantAudiences) {
    try {
      return { identity: await verifyInternalToken(token, audience, options.internalTokenKey), actor: audience };
    } catch {
      // Next audience; none matching is answered below, the same way for every reason.
    }
  }
  req.resume();
  throw new HttpError(401, 'UNAUTHENTICATED', 'Invalid internal token');
}

/** `{"provider": "<name>" | null}` and nothing else; BAD_REQUEST for anything other. */
export function parseGrantBody(body: unknown): string | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new HttpError(400, 'BAD_REQUEST', 'The body must be a JSON object {"provider": string | null}');
  const keys = Object.keys(body);
  if (keys.length !== 1 || keys[0] !== 'provider')
    throw new HttpError(400, 'BAD_REQUEST', 'The body takes exactly one field, "provider"');
  const { provider } = body as { provider: unknown };
  if (provider === null) return null;
  if (typeof provider !== 'string' || !PROVIDER_NAME.test(provider))
    throw new HttpError(
      400,
      'BAD_REQUEST',
      'provider must be null or 1-32 of a-z, 0-9 and "-", starting with a letter',
    );
  return provider;
}
