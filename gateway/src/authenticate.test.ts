import { describe, expect, it } from 'vitest';
import { identityFromClaims } from './authenticate.ts';

describe('identityFromClaims', () => {
  it('reads sub, roles, space-separated scope, tier and sid', () => {
    expect(
      identityFromClaims({ sub: 'u1', roles: ['user', 'root'], scope: 'chat profile:read', tier: 'pro', sid: 's1' }),
    ).toEqual({
      userId: 'u1',
      roles: ['user'],
      scopes: ['chat', 'profile:read'],
      tier: 'pro',
      via: 'jwt',
      sessionId: 's1',
    });
  });

  it('never takes internal scopes or unknown tiers from a token', () => {
    const identity = identityFromClaims({ sub: 'u1', scope: 'internal:credentials chat', tier: 'platinum' });
    expect(identity.scopes).toEqual(['chat']);
    expect(identity.tier).toBe('free');
  });
});
