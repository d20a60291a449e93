import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { exportJWK, generateKeyPair, type JWK } from 'jose';

/** An Ed25519 key pair as PEM (PKCS8 private, SPKI public): the gateway's internal-token key. */
export function generateInternalKeyPair(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}

/** A private Ed25519 JWK with a fresh `kid`, for signing access tokens (`AUTH_SIGNING_KEYS`). */
export async function generateSigningJwk(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  return { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: 'EdDSA', use: 'sig' };
}

export interface DevKeys {
  internalPrivateKeyPem: string;
  internalPublicKeyPem: string;
  authSigningKeys: JWK[];
}

/**
 * Development-only keys, generated once and kept in `file` so restarts keep
 * issued tokens valid. Production never calls this: it requires keys in env.
 */
export async function loadOrCreateDevKeys(file: string): Promise<DevKeys> {
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DevKeys;
  const internal = generateInternalKeyPair();
  const keys: DevKeys = {
    internalPrivateKeyPem: internal.privateKeyPem,
    internalPublicKeyPem: internal.publicKeyPem,
    authSigningKeys: [await generateSigningJwk()],
  };
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(keys, null, 2), { mode: 0o600 });
  return keys;
}
