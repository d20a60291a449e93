import { z } from 'zod';

/**
 * Auth's delegated grant for one generation: an access token (scope
 * `knowledge:read storage:read`, a few minutes, the user as subject) so
 * retrieval searches the graph as the user, and the user's own provider key.
 * Asked for with the internal token of the user's `sendMessage`, the proof
 * that this user asked just now.
 */
export interface Grant {
  accessToken: string;
  expiresAt: string;
  providerKey: string | null;
}

const grantAnswer = z.object({
  accessToken: z.string().min(1),
  expiresAt: z.string(),
  providerKey: z.string().min(1).nullable().optional(),
});

/** Why no grant came back, in words safe for a log line (never the token). */
export class GrantError extends Error {
  override name = 'GrantError';
}

/**
 * POST `<authUrl>/internal/grants`; throws {@link GrantError} on any
 * failure (auth down, refused, malformed answer) within `timeoutMs`.
 */
export async function requestGrant(options: {
  authUrl: string;
  internalToken: string;
  provider: 'openai' | null;
  signal?: AbortSignal;
  timeoutMs?: number;
}): Promise<Grant> {
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 5_000);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  let response: Response;
  try {
    response = await fetch(new URL('/internal/grants', options.authUrl), {
      method: 'POST',
      headers: { 'x-internal-token': options.internalToken, 'content-type': 'application/json' },
      body: JSON.stringify({ provider: options.provider }),
      signal,
    });
  } catch (error) {
    throw new GrantError(`auth unreachable (${error instanceof Error ? error.message : String(error)})`);
  }
  const text = await response.text().catch(() => '');
  if (response.status !== 200) throw new GrantError(`auth answered ${response.status}`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new GrantError('auth answered something that is not JSON');
  }
  const parsed = grantAnswer.safeParse(body);
  if (!parsed.success) throw new GrantError('auth answered an unexpected grant');
  return { ...parsed.data, providerKey: parsed.data.providerKey ?? null };
}
