import type { RevocationKind } from '@supergraph/platform';
import type { AuthRuntime } from './context.ts';

/**
 * Tells every gateway that tokens of `kind`/`id` issued until now are dead
 * (access tokens of the user or session; cached API keys and sessions).
 * Called after the transaction that made the change commits, so no token
 * minted before the commit escapes it. The change itself stands when Redis
 * fails: auth still refuses the session or key, and the access tokens expire
 * on their own (at most the access-token lifetime), which is logged loudly.
 *
 * @example
 * await ctx.db.transaction().execute((trx) => logoutEverywhere(trx, userId));
 * await announceRevocation(ctx.auth, 'user', userId);
 */
export async function announceRevocation(runtime: AuthRuntime, kind: RevocationKind, id: string): Promise<void> {
  try {
    await runtime.revocations.publish(kind, id, Date.now());
  } catch (error) {
    console.error(
      `[auth] REVOCATION NOT PUBLISHED (${kind} ${id}): gateways accept its access tokens until they expire: ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
  }
}
