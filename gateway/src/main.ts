import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EnvError, importInternalSigningKey, loadOrCreateDevKeys, stopOnSignals } from '@supergraph/kit';
import { parseGatewayEnv } from './env.ts';
import { startGateway } from './server.ts';

/** Service mode: one gateway process configured from the environment; SIGTERM drains and exits. */
async function main(): Promise<void> {
  const env = parseGatewayEnv();
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const supergraphPath = env.SUPERGRAPH_PATH ?? path.join(root, 'schema', 'supergraph.graphql');
  const production = env.NODE_ENV === 'production';
  // Outside production a missing key falls back to the shared development keys file (the one the embedded start uses).
  const privateKeyPem =
    env.GATEWAY_INTERNAL_PRIVATE_KEY?.replaceAll('\\n', '\n') ??
    (await loadOrCreateDevKeys(path.resolve(root, env.DEV_KEYS_FILE))).internalPrivateKeyPem;
  const gateway = await startGateway(
    {
      supergraphSdl: readFileSync(supergraphPath, 'utf8'),
      internalTokenKey: await importInternalSigningKey(privateKeyPem),
      auth: {
        issuer: env.AUTH_ISSUER,
        audience: env.AUTH_AUDIENCE,
        ...(env.AUTH_JWKS_URL ? { jwksUrl: env.AUTH_JWKS_URL } : {}),
      },
      subgraphUrls: env.subgraphUrls,
      production,
      corsOrigins: env.CORS_ORIGINS,
      ...(env.INTROSPECTION !== undefined ? { introspection: env.INTROSPECTION } : {}),
      credentialCacheTtlMs: env.CREDENTIAL_CACHE_TTL_MS,
      negativeCredentialCacheTtlMs: env.CREDENTIAL_NEGATIVE_CACHE_TTL_MS,
      subgraphTimeoutMs: env.SUBGRAPH_TIMEOUT_MS,
      maxBodyBytes: env.MAX_BODY_BYTES,
      trustProxy: env.TRUST_PROXY,
    },
    env.GATEWAY_PORT,
    env.GATEWAY_HOST,
  );
  console.log(`[gateway] listening on ${gateway.url} (${[...gateway.subgraphs.keys()].join(', ')})`);
  stopOnSignals('gateway', () => gateway.stop());
}

main().catch((error: unknown) => {
  console.error(error instanceof EnvError ? error.message : error);
  process.exit(1);
});
