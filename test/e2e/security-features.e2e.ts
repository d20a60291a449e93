import { generateInternalKeyPair, importInternalSigningKey } from '@supergraph/platform';
import { startGateway, type GatewayOptions } from '@supergraph/gateway';
import { describe, expect, it } from 'vitest';
import { composeSupergraph } from '../../schema/compose.ts';
import { AUDIENCE, ISSUER } from './harness.ts';

/**
 * The gateway enforces `@authenticated` and `@requiresScopes` itself and hands
 * the query planner a supergraph without their `for: SECURITY`. Any other
 * SECURITY feature (`@policy`, a future one) it cannot enforce, so it must
 * refuse to start rather than serve the fields unguarded.
 */
const POLICY_LINK = '@link(url: "https://specs.apollo.dev/policy/v0.1", import: ["@policy"], for: SECURITY)';
const POLICY_DEFINITIONS = `
directive @policy(policies: [[policy__Policy!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM
scalar policy__Policy
`;

function withPolicyFeature(supergraph: string): string {
  const linked = supergraph.replace(
    '@link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY)',
    `@link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY)\n  ${POLICY_LINK}`,
  );
  if (linked === supergraph) throw new Error('the composed supergraph no longer links requiresScopes for SECURITY');
  return `${linked}\n${POLICY_DEFINITIONS}`;
}

async function gatewayOptions(supergraphSdl: string): Promise<GatewayOptions> {
  return {
    supergraphSdl,
    internalTokenKey: await importInternalSigningKey(generateInternalKeyPair().privateKeyPem),
    auth: { issuer: ISSUER, audience: AUDIENCE },
  };
}

describe('SECURITY features at gateway start-up', () => {
  it('starts on the composed supergraph, whose authenticated and requiresScopes links are for: SECURITY', async () => {
    const supergraph = composeSupergraph();
    expect(supergraph).toContain('@link(url: "https://specs.apollo.dev/authenticated/v0.1", for: SECURITY)');
    expect(supergraph).toContain('@link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY)');
    const gateway = await startGateway(await gatewayOptions(supergraph), 0);
    await gateway.stop();
  });

  it('refuses to start when the supergraph links @policy for: SECURITY (a feature it does not enforce)', async () => {
    const options = await gatewayOptions(withPolicyFeature(composeSupergraph()));
    let started: Awaited<ReturnType<typeof startGateway>> | undefined;
    const attempt = startGateway(options, 0).then((gateway) => (started = gateway));
    await expect(attempt).rejects.toThrow(/policy\/v0\.1 is for: SECURITY but is unsupported/);
    await started?.stop();
  });
});
