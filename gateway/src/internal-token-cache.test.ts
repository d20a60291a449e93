import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ANONYMOUS,
  generateInternalKeyPair,
  importInternalSigningKey,
  importInternalVerifyKey,
  verifyInternalToken,
  type Identity,
} from '@supergraph/platform';
import { createInternalTokenCache } from './internal-token-cache.ts';

const ALICE: Identity = {
  userId: 'u-1',
  roles: ['user'],
  scopes: ['knowledge:read'],
  tier: 'free',
  via: 'jwt',
  sessionId: 's-1',
  clientIp: '10.0.0.1',
};

/** A fake signer: counts signatures, tokens expire `lifetimeSeconds` after "now". */
function countingSigner(lifetimeSeconds = 30) {
  const calls: Array<[Identity, string]> = [];
  const sign = async (identity: Identity, audience: string) => {
    calls.push([identity, audience]);
    const exp = Math.floor(Date.now() / 1000) + lifetimeSeconds;
    const payload = Buffer.from(JSON.stringify({ exp, n: calls.length })).toString('base64url');
    return `header.${payload}.signature`;
  };
  return { calls, sign };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('createInternalTokenCache', () => {
  it('signs once per (identity, subgraph) and reuses the token, concurrent callers included', async () => {
    const signer = countingSigner();
    const tokens = createInternalTokenCache({ key: {} as never, sign: signer.sign });
    const [first, second] = await Promise.all([tokens.tokenFor(ALICE, 'reviews'), tokens.tokenFor(ALICE, 'reviews')]);
    expect(await tokens.tokenFor({ ...ALICE }, 'reviews')).toBe(first);
    expect(second).toBe(first);
    expect(signer.calls).toHaveLength(1);
  });

  it('never shares a token across subgraphs or across identities differing in any claim', async () => {
    const signer = countingSigner();
    const tokens = createInternalTokenCache({ key: {} as never, sign: signer.sign });
    const variants: Identity[] = [
      ALICE,
      { ...ALICE, userId: 'u-2' },
      { ...ALICE, roles: ['user', 'admin'] },
      { ...ALICE, scopes: [] },
      { ...ALICE, tier: 'pro' },
      { ...ALICE, via: 'api_key' },
      { ...ALICE, sessionId: 's-2' },
      { ...ALICE, clientIp: '10.0.0.2' },
      ANONYMOUS,
      { ...ANONYMOUS, clientIp: '10.0.0.1' },
    ];
    const seen = new Set<string>();
    for (const identity of variants) seen.add(await tokens.tokenFor(identity, 'reviews'));
    seen.add(await tokens.tokenFor(ALICE, 'catalog'));
    expect(seen.size).toBe(variants.length + 1);
    expect(signer.calls).toHaveLength(variants.length + 1);
  });

  it('signs afresh once the token has less than the margin left', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z'), toFake: ['Date'] });
    const signer = countingSigner(30);
    const tokens = createInternalTokenCache({ key: {} as never, sign: signer.sign, marginMs: 10_000 });
    const first = await tokens.tokenFor(ALICE, 'reviews');
    vi.setSystemTime(new Date('2026-01-01T00:00:19.900Z'));
    expect(await tokens.tokenFor(ALICE, 'reviews')).toBe(first);
    vi.setSystemTime(new Date('2026-01-01T00:00:20.000Z'));
    expect(await tokens.tokenFor(ALICE, 'reviews')).not.toBe(first);
    expect(signer.calls).toHaveLength(2);
  });

  it('forgets a failed signature, so the next call signs again', async () => {
    let fail = true;
    const signer = countingSigner();
    const tokens = createInternalTokenCache({
      key: {} as never,
      sign: async (identity, audience) => {
        if (fail) throw new Error('key unavailable');
        return signer.sign(identity, audience);
      },
    });
    await expect(tokens.tokenFor(ALICE, 'reviews')).rejects.toThrow('key unavailable');
    fail = false;
    await expect(tokens.tokenFor(ALICE, 'reviews')).resolves.toMatch(/^header\./);
  });

  it('hands out real internal tokens the subgraph accepts for its audience only', async () => {
    const pair = generateInternalKeyPair();
    const tokens = createInternalTokenCache({ key: await importInternalSigningKey(pair.privateKeyPem) });
    const verifyKey = await importInternalVerifyKey(pair.publicKeyPem);
    const token = await tokens.tokenFor(ALICE, 'reviews');
    expect(await verifyInternalToken(token, 'reviews', verifyKey)).toEqual(ALICE);
    await expect(verifyInternalToken(token, 'catalog', verifyKey)).rejects.toThrow();
  });
});
